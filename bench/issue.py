"""bench/issue: issuance throughput of the issuer service against ACA-Py's own signing, one run.

    PYTHONPATH=. python bench/issue.py [--count 120] [--clients 8]

Starts the whole suite (three ACA-Py agents, the webhook hub, every service) in a temporary var
directory on loopback, then measures, each as credentials per second with ``--clients``
concurrent clients over ``--count`` credentials (after a warm-up):

(peer) ACA-Py's ``POST /vc/credentials/issue`` as the onboarding authority's tenant: signing
       alone, no status entry, no record;
(a)    our W3C VC-API ``POST /credentials/issue``: checks, status index, issuance record,
       signature by the same agent, record marked issued;
(b)    DIDComm issuance, end to end: a person onboarding exchange opened over HTTP, the wallet
       (a holder tenant per client, driven through its admin API) fetches the short link,
       accepts the connectionless offer, names its DID, receives and stores the credential; an
       issuance counts when the holder's record is ``done``.

(c)    OpenID4VCI issuance, wallet key proof to credential: offers are opened and their
       pre-authorized codes redeemed (with the PIN) beforehand; each timed issuance is a nonce
       request, a key proof signed by the wallet's own Ed25519 key, and the credential request,
       checked, bound to the key and signed in the issuer agent. One row per format (dc+sd-jwt,
       jwt_vc_json, ldp_vc); the three formats of one offer are one credential.

(a), (b) and (c) are printed as ratios against (peer). Targets (the project's performance goals):
(b) >= 10 credentials/s sustained on 2 cores, (c) >= 50 credentials/s. Absolute numbers on shared
machines are noise; ratios are the result.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from jwcrypto import jwk, jws

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.hub import WebhookEvent, WebhookHub  # noqa: E402
from agents.tenants import TenantHandle, ensure_tenant  # noqa: E402
from credgate.config import load_settings  # noqa: E402
from credgate.db import make_engine, session_factory  # noqa: E402
from credgate.tokens import ensure_operator_token  # noqa: E402
from suite.runner import Suite  # noqa: E402
from tests.support.issuer_wallet import attached_threads  # noqa: E402

TIMEOUT = 30.0
TARGET_DIDCOMM_RATE = 10.0
TARGET_OID4VCI_RATE = 50.0
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OID4VCI_FORMATS = {"dc+sd-jwt": "sd_jwt", "jwt_vc_json": "jwt_vc_json", "ldp_vc": "ldp_vc"}


class HolderEvents:
    """Routes the holder agent's issue-credential webhooks to whoever waits on that thread.

    (The hub's ``wait_for`` rescans its history for each waiter on each event: fine in tests,
    not with a dozen concurrent waiters and thousands of events.)
    """

    def __init__(self, hub: WebhookHub) -> None:
        self._queues: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._unsubscribe = hub.subscribe("issue_credential_v2_0", self._on_event)

    def expect(self, thread_id: str) -> queue.Queue:
        with self._lock:
            return self._queues.setdefault(thread_id, queue.Queue())

    def forget(self, thread_id: str) -> None:
        with self._lock:
            self._queues.pop(thread_id, None)

    def _on_event(self, event: WebhookEvent) -> None:
        if event.agent != "holder":
            return
        with self._lock:
            waiting = self._queues.get(event.payload.get("thread_id"))
        if waiting is not None:
            waiting.put(event.payload)

    @staticmethod
    def wait(events: queue.Queue, state: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            payload = events.get(timeout=max(0.0, deadline - time.monotonic()))
            if payload.get("state") == state:
                return payload
            if payload.get("state") in ("abandoned", "deleted"):
                raise RuntimeError(f"exchange failed: {payload.get('error_msg')}")

    def close(self) -> None:
        self._unsubscribe()


def measure(
    run: Callable[[int], None],
    count: int,
    clients: int,
    warmup: int,
    cpu: dict[str, float] | None = None,
    pids: dict[str, int] | None = None,
) -> float:
    """Credentials per second: ``count`` runs on ``clients`` threads, after ``warmup`` runs.
    With ``pids``, ``cpu`` receives each process's CPU seconds per credential meanwhile."""
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(run, range(warmup)))
        before = {name: cpu_seconds(pid) for name, pid in (pids or {}).items()}
        started = time.perf_counter()
        list(pool.map(run, range(count)))
        elapsed = time.perf_counter() - started
    if cpu is not None:
        for name, pid in (pids or {}).items():
            cpu[name] = (cpu_seconds(pid) - before[name]) / count
    return count / elapsed


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def role_credential(issuer_did: str, subject_did: str) -> dict:
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/vc/status-list/2021/v1",
            "https://w3id.org/credgate/v1",
        ],
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "RoleCredential"],
        "issuer": issuer_did,
        "issuanceDate": "2026-11-22T12:00:00Z",
        "credentialSubject": {"id": subject_did, "roles": ["DataConsumer"]},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=120, help="credentials per measurement")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--warmup", type=int, default=16)
    parser.add_argument(
        "--only", choices=("peer", "vc-api", "didcomm", "oid4vci"), help="one measurement"
    )
    args = parser.parse_args(argv)

    # An agent can still be flushing its wallet as the directory goes: never fail the run then.
    with tempfile.TemporaryDirectory(prefix="credgate-bench-", ignore_cleanup_errors=True) as var:
        os.environ.pop("DATABASE_URL", None)  # the embedded default: SQLite in the temp var
        settings = load_settings(var)
        suite = Suite(settings).start(timeout=120)
        try:
            return run_benchmarks(suite, settings, args)
        finally:
            suite.stop()  # background work first, then servers and agents: before the var dir goes


def run_benchmarks(suite: Suite, settings, args) -> int:
    engine = make_engine(settings.database_url)
    db = session_factory(engine)
    issuer_url = suite.servers["issuer"].url
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    http = threading.local()

    def session() -> requests.Session:
        if not hasattr(http, "session"):
            http.session = requests.Session()
        return http.session

    authority_did = session().get(f"{issuer_url}/issuer/did", timeout=30).json()["did"]
    authority = ensure_tenant(db, "issuer", suite.agents["issuer"].client(), "onboarding-authority")
    holders: queue.Queue[TenantHandle] = queue.Queue()
    for i in range(args.clients):
        holders.put(ensure_tenant(db, "holder", suite.agents["holder"].client(), f"bench-{i}"))
    subject = holders.queue[0].did
    options = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}

    def peer(_: int) -> None:
        authority.client.issue_vc(role_credential(authority_did, subject), options)

    def vc_api(_: int) -> None:
        response = session().post(
            f"{issuer_url}/credentials/issue",
            json={"credential": role_credential(authority_did, subject)},
            headers=operator,
            timeout=TIMEOUT,
        )
        assert response.status_code == 201, response.text

    events = HolderEvents(suite.hub)
    latencies: list[float] = []

    def open_onboarding() -> dict:
        """A person's onboarding opened at the issuer: DIDComm invitation, OpenID4VCI offer."""
        opened = session().post(
            f"{issuer_url}/issuer/onboarding/persons",
            json={"givenName": "Bench", "familyName": "Mark"},
            timeout=TIMEOUT,
        )
        assert opened.status_code == 201, opened.text
        return opened.json()

    def didcomm(_: int) -> None:
        began = time.perf_counter()
        holder = holders.get()
        try:
            link = open_onboarding()["invitation_url"]
            invitation = session().get(link, headers={"Accept": "application/json"}, timeout=10)
            [thread_id] = attached_threads(invitation.json())
            mine = events.expect(thread_id)
            try:
                holder.client.receive_invitation(invitation.json())
                offer = events.wait(mine, "offer-received")
                holder.client.send_credential_request(offer["cred_ex_id"], holder_did=holder.did)
                events.wait(mine, "credential-received")
                holder.client.store_credential(offer["cred_ex_id"])
                events.wait(mine, "done")
            finally:
                events.forget(thread_id)
        finally:
            holders.put(holder)
        latencies.append(time.perf_counter() - began)

    def redeemed_offer(_: int) -> dict:
        """An onboarding offer whose pre-authorized code the wallet redeemed (not timed)."""
        offer = open_onboarding()["oid4vci"]
        code = session().get(offer["credential_offer_uri"], timeout=TIMEOUT).json()
        token = session().post(
            f"{issuer_url}/oid4vci/token",
            data={
                "grant_type": PRE_AUTH,
                "tx_code": offer["tx_code"],
                "pre-authorized_code": code["grants"][PRE_AUTH]["pre-authorized_code"],
            },
            timeout=TIMEOUT,
        )
        assert token.status_code == 200, token.text
        key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
        return {
            "token": token.json()["access_token"],
            "key": key,
            "public": json.loads(key.export_public()),
        }

    def oid4vci_run(fmt: str, prepared: list[dict]) -> Callable[[int], None]:
        pending = iter(prepared)
        lock = threading.Lock()

        def run(_: int) -> None:
            with lock:
                item = next(pending)
            nonce = session().post(f"{issuer_url}/oid4vci/nonce", timeout=TIMEOUT).json()
            proof = jws.JWS(
                json.dumps({"aud": issuer_url, "iat": int(time.time()), "nonce": nonce["c_nonce"]})
            )
            proof.add_signature(
                item["key"],
                alg="EdDSA",
                protected=json.dumps(
                    {"typ": "openid4vci-proof+jwt", "alg": "EdDSA", "jwk": item["public"]}
                ),
            )
            response = session().post(
                f"{issuer_url}/oid4vci/credential",
                json={
                    "credential_configuration_id": f"OnboardingCredential_{OID4VCI_FORMATS[fmt]}",
                    "proofs": {"jwt": [proof.serialize(compact=True)]},
                },
                headers={"Authorization": f"Bearer {item['token']}"},
                timeout=TIMEOUT,
            )
            assert response.status_code == 200, response.text

        return run

    def oid4vci_rates(count: int, clients: int, warmup: int) -> dict[str, float]:
        with ThreadPoolExecutor(clients) as pool:
            prepared = list(pool.map(redeemed_offer, range(count + warmup)))
        return {
            fmt: measure(oid4vci_run(fmt, prepared), count, clients, warmup)
            for fmt in OID4VCI_FORMATS
        }

    try:
        count, clients, warmup = args.count, args.clients, args.warmup
        pids = {name: agent.pid for name, agent in suite.agents.items() if agent.pid}
        pids["credgate"] = os.getpid()  # services, hub and this benchmark's clients
        cpu: dict[str, float] = {}
        if args.only == "oid4vci":
            for fmt, rate in oid4vci_rates(count, clients, warmup).items():
                print(f"oid4vci {fmt}: {rate:.1f} /s")
            return 0
        if args.only:
            run = {"peer": peer, "vc-api": vc_api, "didcomm": didcomm}[args.only]
            rate = measure(run, count, clients, warmup, cpu, pids)
            print(f"{args.only}: {rate:.1f} /s", end="")
            if args.only == "didcomm":
                print(f" (median exchange {statistics.median(latencies[-count:]) * 1000:.0f} ms)")
                print_cpu(cpu)
            else:
                print()
            return 0
        peer_rate = measure(peer, count, clients, warmup)
        vc_api_rate = measure(vc_api, count, clients, warmup)
        didcomm_rate = measure(didcomm, count, clients, warmup, cpu, pids)
        oid4vci = oid4vci_rates(count, clients, warmup)
    finally:
        events.close()
        engine.dispose()

    recent = latencies[-count:]
    verdict = "met" if didcomm_rate >= TARGET_DIDCOMM_RATE else "MISSED"
    print(
        f"bench/issue: {count} credentials per measurement, {clients} clients, "
        f"{os.cpu_count()} cores, SQLite"
    )
    print(f"  (peer) ACA-Py /vc/credentials/issue      {peer_rate:7.1f} /s")
    print(
        f"  (a) VC-API POST /credentials/issue       {vc_api_rate:7.1f} /s  "
        f"= {vc_api_rate / peer_rate:.2f} x ACA-Py"
    )
    print(
        f"  (b) DIDComm issuance, wallet to done     {didcomm_rate:7.1f} /s  "
        f"= {didcomm_rate / peer_rate:.2f} x ACA-Py  "
        f"(target >= {TARGET_DIDCOMM_RATE:g}/s: {verdict}; median exchange "
        f"{statistics.median(recent) * 1000:.0f} ms)"
    )
    print_cpu(cpu)
    for fmt, rate in oid4vci.items():
        verdict = "met" if rate >= TARGET_OID4VCI_RATE else "MISSED"
        print(
            f"  (c) OpenID4VCI {fmt:<12} proof to credential {rate:7.1f} /s  "
            f"= {rate / peer_rate:.2f} x ACA-Py  "
            f"(target >= {TARGET_OID4VCI_RATE:g}/s: {verdict})"
        )
    return 0


def print_cpu(cpu: dict[str, float]) -> None:
    if any(cpu.values()):
        # Where (b)'s CPU goes: with every core busy, 1 / (CPU per credential / cores) bounds it.
        total = sum(cpu.values())
        parts = ", ".join(f"{name} {seconds * 1000:.0f}" for name, seconds in cpu.items())
        issuer_side = cpu.get("issuer", 0.0) + cpu.get("credgate", 0.0)
        cores = os.cpu_count() or 1
        print(
            f"      CPU ms per DIDComm credential: {parts} (total {total * 1000:.0f}); "
            f"bound on {cores} cores {cores / total:.1f}/s, without the holder agent "
            f"{cores / issuer_side:.1f}/s"
        )


if __name__ == "__main__":
    raise SystemExit(main())
