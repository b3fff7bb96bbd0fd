"""bench/verify: our in-process verifier against ACA-Py's and against raw Ed25519, one run.

    PYTHONPATH=. python bench/verify.py [--seconds 2] [--aca-calls 30]

Starts one real ACA-Py agent (file wallet under a temporary var directory, loopback only) and a
loopback status-list server, then measures, each as a rate in the same run:

(a) a VP (Ed25519Signature2018, as holders sign) of 2 Ed25519Signature2020 credentials with
    status entries, **cold**: every VP carries credentials never seen before, no proof cache;
(b) the same with the per-credential proof cache warm: every VP has a fresh challenge (its
    proof is verified), the credentials were verified once before, status is checked each time;
(c) eddsa-jcs-2022 VCDM 2.0 credentials, cold (every credential distinct);

against ACA-Py's ``/vc/presentations/verify`` (a, b) and ``/vc/credentials/verify`` (c: ACA-Py has
no eddsa-jcs-2022, so its Ed25519Signature2020 rate stands in), and against raw PyNaCl Ed25519
verification of a 64-byte message. Targets (the project's performance goals): a ≥ 40x, b ≥ 120x
ACA-Py, c ≥ 60% of raw Ed25519. Absolute numbers on shared machines are noise; ratios are the
result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from nacl.signing import SigningKey

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.runtime import AgentRuntime  # noqa: E402
from credgate.config import load_settings  # noqa: E402
from verifier.dids import DidResolver  # noqa: E402
from verifier.engine import ProofCache, Verifier  # noqa: E402
from verifier.fetch import FetchPolicy  # noqa: E402
from verifier.status import StatusListCache  # noqa: E402
from verifier.testing import Party, StatusListServer, credgate_credential  # noqa: E402
from verifier.trust import StaticTrustRegistry  # noqa: E402

ISSUER = Party.generate()
HOLDER = Party.generate()
DOMAIN = "gateway.credgate.example"


def rate(run: Callable[[], None], seconds: float, rounds: int = 3) -> float:
    """Operations per second: the best of ``rounds`` rounds of about ``seconds`` each."""
    best = 0.0
    for _ in range(rounds):
        count = 0
        started = time.perf_counter()
        while True:
            run()
            count += 1
            elapsed = time.perf_counter() - started
            if elapsed >= seconds / rounds:
                break
        best = max(best, count / elapsed)
    return best


def items_rate(items: list, verify: Callable[[object], None], rounds: int = 3) -> float:
    """Operations per second over distinct items, each used once per round (cold)."""
    best = 0.0
    per_round = len(items) // rounds
    for r in range(rounds):
        batch = items[r * per_round : (r + 1) * per_round]
        started = time.perf_counter()
        for item in batch:
            verify(item)
        best = max(best, len(batch) / (time.perf_counter() - started))
    return best


def make_verifier(cache: bool, status_url: str) -> Verifier:
    trust = StaticTrustRegistry(onboarding_authority=ISSUER.did)
    verifier = Verifier(DidResolver(), trust=trust, proof_cache=ProofCache() if cache else None)
    # The bench's own loopback status server is the one host this verifier may fetch.
    verifier.status = StatusListCache(
        verifier.verify_status_list, short_ttl=3600.0, policy=FetchPolicy([status_url])
    )
    return verifier


def presentation(server: StatusListServer, credentials=None, challenge=None):
    if credentials is None:
        credentials = [
            credgate_credential(
                "RoleCredential", ISSUER, HOLDER.did, status=server.entry("bench", i)
            )
            for i in (1, 2)
        ]
    challenge = challenge or uuid.uuid4().hex
    return challenge, HOLDER.present(credentials, challenge=challenge, domain=DOMAIN)


def jcs_credential(i: int) -> dict:
    document = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.did, "alumniOf": f"The School of Examples {i}"},
    }
    return ISSUER.sign(document, proof_type="DataIntegrityProof", cryptosuite="eddsa-jcs-2022")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="per measurement")
    parser.add_argument("--aca-calls", type=int, default=30, help="ACA-Py calls per measurement")
    args = parser.parse_args()

    server = StatusListServer().start()
    server.add_list("bench", ISSUER, "revocation")
    with tempfile.TemporaryDirectory(prefix="credgate-bench-") as var:
        settings = load_settings(var, f"sqlite:///{var}/bench.sqlite3")
        runtime = AgentRuntime(settings, lambda name: "http://127.0.0.1:9/", ("verifier",))
        print("starting an ACA-Py agent ...", file=sys.stderr)
        agent = runtime.start(timeout=90)["verifier"].client()
        try:
            return run(args, server, agent)
        finally:
            runtime.stop()
            server.stop()


def run(args, server: StatusListServer, agent) -> int:
    seconds = args.seconds
    # -- peers ---------------------------------------------------------------------------------
    key = SigningKey.generate()
    message = b"\x42" * 64
    signed = key.sign(message)
    verify_key = key.verify_key
    raw = rate(lambda: verify_key.verify(signed), seconds)

    challenge, vp = presentation(server)
    credential_2020 = vp["verifiableCredential"][0]

    def aca_vp() -> None:
        body = agent.request(
            "POST",
            "/vc/presentations/verify",
            json={
                "verifiablePresentation": vp,
                "options": {"challenge": challenge, "domain": DOMAIN},
            },
        )
        assert body["verified"], body

    def aca_vc() -> None:
        body = agent.request(
            "POST", "/vc/credentials/verify", json={"verifiableCredential": credential_2020}
        )
        assert body["verified"], body

    aca_vp()
    aca_vc()  # warm up
    aca_vp_rate = 1 / statistics.median(_timed(aca_vp, args.aca_calls))
    aca_vc_rate = 1 / statistics.median(_timed(aca_vc, args.aca_calls))

    # -- (a) cold ------------------------------------------------------------------------------
    cold = make_verifier(cache=False, status_url=server.url)
    assert cold.verify_presentation(vp, challenge=challenge, domain=DOMAIN).verified
    count = max(30, int(seconds * 400))
    fresh = [presentation(server) for _ in range(count)]

    def verify_cold(item) -> None:
        result = cold.verify_presentation(item[1], challenge=item[0], domain=DOMAIN)
        assert result.verified, result.error_types()

    a_rate = items_rate(fresh, verify_cold)

    # -- (b) proof cache warm, fresh VP proofs, status checked --------------------------------
    warm = make_verifier(cache=True, status_url=server.url)
    credentials = vp["verifiableCredential"]
    assert warm.verify_presentation(vp, challenge=challenge, domain=DOMAIN).verified
    again = [presentation(server, credentials) for _ in range(count)]
    fetches = warm.status.fetches

    def verify_warm(item) -> None:
        result = warm.verify_presentation(item[1], challenge=item[0], domain=DOMAIN)
        assert result.verified and all(c.proof_cached for c in result.credentials)
        assert all("status" in c.checks for c in result.credentials)

    b_rate = items_rate(again, verify_warm)
    assert warm.status.fetches == fetches  # lists served from the status cache

    # -- (c) eddsa-jcs-2022 --------------------------------------------------------------------
    jcs_verifier = Verifier(DidResolver(), require_status=False)
    credentials_jcs = [jcs_credential(i) for i in range(max(300, int(seconds * 3000)))]

    def verify_jcs(credential) -> None:
        assert jcs_verifier.verify_credential(credential).verified

    c_rate = items_rate(credentials_jcs, verify_jcs)

    rows = [
        (
            "(a) VP, 2 Ed25519Signature2020 VCs, cold",
            a_rate,
            aca_vp_rate,
            "/vc/presentations/verify",
            "≥ 40x ACA-Py",
            a_rate / aca_vp_rate >= 40,
        ),
        (
            "(b) same, proof cache warm, status checked",
            b_rate,
            aca_vp_rate,
            "/vc/presentations/verify",
            "≥ 120x ACA-Py",
            b_rate / aca_vp_rate >= 120,
        ),
        (
            "(c) eddsa-jcs-2022 credential",
            c_rate,
            aca_vc_rate,
            "/vc/credentials/verify (2020)",
            "≥ 60% raw Ed25519",
            c_rate / raw >= 0.6,
        ),
    ]
    print()
    print(
        f"raw PyNaCl Ed25519 verify: {raw:,.0f}/s   ACA-Py VP verify: {aca_vp_rate:,.1f}/s   "
        f"ACA-Py VC verify: {aca_vc_rate:,.1f}/s"
    )
    print()
    header = f"{'measurement':46} {'ours/s':>9} {'x ACA-Py':>9} {'% raw':>7}  {'target':18} met"
    print(header)
    print("-" * len(header))
    for name, ours, peer, _peer_name, target, met in rows:
        print(
            f"{name:46} {ours:9,.0f} {ours / peer:8.1f}x {100 * ours / raw:6.1f}%  "
            f"{target:18} {'yes' if met else 'NO'}"
        )
    return 0 if all(row[-1] for row in rows) else 1


def _timed(call: Callable[[], None], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        out.append(time.perf_counter() - started)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
