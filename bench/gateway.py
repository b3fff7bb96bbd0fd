"""bench/gateway: the gateway's cost and latencies, one run.

    PYTHONPATH=. python bench/gateway.py [--seconds 3] [--logins 15] [--revocations 8]

(a) throughput of an app endpoint (the catalogue's ``GET /apps/catalogue/api/items``) called
    with an access token through the gateway — token checked, the grant's credentials' status
    entries and trust re-checked, the policy decided, the decision audited — against the same
    endpoint served by the same app without the gateway (``standalone_app``), both over HTTP on
    loopback by the same kind of server, measured in alternating rounds;
(b) QR-login latency: from the wallet's scan of the short URL (the holder agent fetching
    ``/i/<id>``, receiving the invitation and answering the DIF request) to ``verified`` at the
    gateway; the peer is the agents' own round trip (scan → ``presentation-received`` at the
    verifier agent), the part the gateway cannot make faster;
(d) OpenID4VP QR-login latency: the wallet stand-in's OpenID4VP client reads the page's
    ``openid4vp://`` link, fetches and checks the signed request object, answers its DCQL query
    with an SD-JWT VC + KB-JWT by direct_post, until ``verified`` (Token Status List checked);
    printed beside (b), the DIDComm login of the same run (target: ≤ 0.3 s median, both);
(c) revocation → deny latency: revoke through the revocation service's API, then poll the
    gateway with a token issued before, until it answers 403; peer: the revoke call itself;
(e) the production server: token-authorised requests (as in (a)) from concurrent clients to a
    service node (``credgate serve verifier``: gunicorn, gthread) with 1 and with 2 worker
    processes, and to the same node app on today's werkzeug thread server, each in a process of
    its own, in alternating rounds; printed as ratios (``--only workers`` runs just this).

(a) runs in-process against a loopback status-list server; (b) and (c) start the whole suite
(three ACA-Py agents, every service; temporary var directory, SQLite, loopback).
Targets (the project's performance goals): a ≥ 80%, b ≤ 0.5 s median, c ≤ 1 s (every repeat).
Exit 0 when all met.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.tenants import ensure_tenant  # noqa: E402
from apps.catalogue import app as catalogue  # noqa: E402
from credgate.config import load_settings  # noqa: E402
from credgate.db import make_engine, session_factory, utcnow  # noqa: E402
from credgate.serving import serve  # noqa: E402
from credgate.tokens import ensure_operator_token  # noqa: E402
from gateway.grants import recheck  # noqa: E402
from gateway.plugin import Principal, standalone_app  # noqa: E402
from gateway.requirements import Participant, evaluate  # noqa: E402
from suite.runner import Suite  # noqa: E402
from suite.schema import migrate  # noqa: E402
from tests.support.didcomm import connect  # noqa: E402
from tests.support.gateway import gateway_app, token_for  # noqa: E402
from tests.support.gateway_wallet import AgentWallet, issue_with_status  # noqa: E402
from tests.support.oid4vp import TokenListServer, held_sdjwt, issue_sdjwt  # noqa: E402
from verifier.credentials import check_credential  # noqa: E402
from verifier.fetch import (
    FetchPolicy,  # noqa: E402
    fetch_policy,  # noqa: E402
)
from verifier.testing import Party, StatusListServer, credgate_credential  # noqa: E402
from verifier.trust import StaticTrustRegistry  # noqa: E402
from wallet import oid4vp  # noqa: E402

AUTHORITY = Party.generate()
HOLDER = Party.generate()


def scratch_database(prefix: str):
    """Settings on a fresh var/ with a migrated SQLite database: (settings, engine, db)."""
    var = Path(tempfile.mkdtemp(prefix=prefix))
    settings = load_settings(var, f"sqlite:///{var / 'bench.sqlite3'}")
    engine = make_engine(settings.database_url)
    migrate(engine)
    return settings, engine, session_factory(engine)


def throughput(url: str, headers: dict[str, str], seconds: float) -> float:
    http = requests.Session()
    count = 0
    began = time.perf_counter()
    while (elapsed := time.perf_counter() - began) < seconds:
        response = http.get(url, headers=headers, timeout=10)
        if response.status_code != 200:
            raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
        count += 1
    return count / elapsed


def bench_throughput(seconds: float) -> float:
    settings, engine, db = scratch_database("credgate-bench-gw-")
    status = StatusListServer().start()
    status.add_list("roles", AUTHORITY, "revocation")
    trust = StaticTrustRegistry(onboarding_authority=AUTHORITY.did)
    gateway = gateway_app(settings, db, trust=trust, status_url=status.url, apps=[catalogue])
    credential = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status.entry("roles", 7)
    )
    client = gateway.test_client()
    # The catalogue's routes need a participant: an OnboardingCredential beside the role.
    onboarding = credgate_credential(
        "OnboardingCredential", AUTHORITY, HOLDER.did, status=status.entry("roles", 8)
    )
    token = token_for(client, HOLDER, [credential, onboarding])
    for index in range(20):
        client.post(
            "/apps/catalogue/api/items",
            headers={"Authorization": f"Bearer {token}"},
            json={"kind": "data-product", "title": f"Dataset {index}", "keywords": ["bench"]},
        )
    verifier = gateway.extensions["credgate.verifier"]
    results = recheck(
        verifier, [(c, check_credential(c)) for c in (credential, onboarding)], utcnow()
    )
    principal = Principal(HOLDER.did, "token", "bench", results, evaluate(Participant(), results))
    alone = standalone_app(
        catalogue, principal, {"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": db}
    )
    servers = {"gateway": serve(gateway), "alone": serve(alone)}
    path = "/apps/catalogue/api/items?limit=20"
    rates: dict[str, list[float]] = {"gateway": [], "alone": []}
    try:
        for name in rates:  # warm up: connections, caches, the status list
            throughput(servers[name].url + path, {"Authorization": f"Bearer {token}"}, 0.3)
        for _ in range(3):
            for name in ("alone", "gateway"):
                rates[name].append(
                    throughput(
                        servers[name].url + path, {"Authorization": f"Bearer {token}"}, seconds / 6
                    )
                )
    finally:
        for server in servers.values():
            server.stop()
        gateway.extensions["credgate.status_feed"].stop()
        status.stop()
        engine.dispose()
    alone_rate = statistics.median(rates["alone"])
    gateway_rate = statistics.median(rates["gateway"])
    ratio = gateway_rate / alone_rate
    print(f"(a) app endpoint without the gateway  {alone_rate:8.0f} req/s")
    print(
        f"    with a token through the gateway  {gateway_rate:8.0f} req/s"
        f"   = {ratio:.0%} (target >= 80%)"
    )
    return ratio


def bench_oid4vp(logins: int) -> float:
    """(d): OpenID4VP logins at a gateway served over HTTP on loopback (SD-JWT VC, KB-JWT)."""
    settings, engine, db = scratch_database("credgate-bench-gw-oid4vp-")
    status = StatusListServer().start()
    lists = TokenListServer(feed=status).start()
    uri = lists.add("roles", AUTHORITY)
    trust = StaticTrustRegistry(onboarding_authority=AUTHORITY.did)
    app = gateway_app(
        settings, db, trust=trust, status_url=status.url, apps=[], FETCH_ALLOW=[lists.url]
    )
    server = serve(app)
    fetch_policy(app).allow(server.url)
    policy = FetchPolicy([server.url])
    held = [
        held_sdjwt(
            issue_sdjwt(
                AUTHORITY,
                HOLDER,
                "RoleCredential",
                {"roles": ["DataProvider"]},
                status=(uri, 3),
                exp=int(time.time()) + 3600,
            ),
            HOLDER,
        )
    ]
    http = requests.Session()
    times = []
    try:
        for _ in range(logins + 1):  # the first one warms up
            page = http.get(
                f"{server.url}/portals/data-provider", params={"protocol": "openid4vp"}, timeout=15
            ).text
            link = re.search(r'id="oid4vp-link" href="([^"]+)"', page).group(1)
            link = link.replace("&amp;", "&")
            login_id = link.rsplit("/", 1)[1]
            began = time.perf_counter()
            response = oid4vp.answer(link, held, policy=policy)
            if response.status_code != 200:
                raise RuntimeError(f"OpenID4VP login failed: {response.text[:300]}")
            state = http.get(f"{server.url}/login/{login_id}", timeout=10).json()["state"]
            if state != "verified":
                raise RuntimeError(f"OpenID4VP login is {state}")
            times.append(time.perf_counter() - began)
        times = times[1:]
        median = statistics.median(times)
        print(
            f"(d) OpenID4VP QR login, scan -> verified median {median * 1000:6.0f} ms, "
            f"max {max(times) * 1000:5.0f} ms over {logins} (target <= 300 ms median)"
        )
        return median
    finally:
        app.extensions["credgate.status_feed"].stop()
        server.stop()
        lists.stop()
        status.stop()
        engine.dispose()


def bench_suite(logins: int, revocations: int) -> tuple[float, float]:
    var = Path(tempfile.mkdtemp(prefix="credgate-bench-gw-suite-"))
    settings = load_settings(var)
    suite = Suite(settings).start(timeout=120)
    try:
        engine = make_engine(settings.database_url)
        db = session_factory(engine)
        hub = suite.hub
        issuer_agent = suite.agents["issuer"].client()
        holder_agent = suite.agents["holder"].client()
        authority = ensure_tenant(db, "issuer", issuer_agent, "bench-authority")
        person = ensure_tenant(db, "holder", holder_agent, "bench-person")
        connection = connect(hub, authority, person)[0]
        revocation = suite.servers["revocation"].url
        gateway = suite.servers["verifier"].url
        (var / "verifier").mkdir(parents=True, exist_ok=True)
        (var / "verifier" / "trust.json").write_text(
            json.dumps({"onboarding_authority": authority.did})
        )
        role = issue_with_status(
            db, hub, authority, person, connection, "RoleCredential", revocation
        )
        wallet = AgentWallet(hub, person)

        login_times, agent_times = [], []
        http = requests.Session()
        for _ in range(logins + 1):  # the first one warms up
            page = http.get(f"{gateway}/portals/data-provider", timeout=15).text
            short = re.search(r"<code>(http[^<]+/i/[^<]+)</code>", page).group(1)
            login_id = short.rsplit("/", 1)[1]
            since = hub.last_seq
            began, began_mono = time.perf_counter(), time.monotonic()
            wallet.scan_and_present(short)
            while http.get(f"{gateway}/login/{login_id}", timeout=10).json()["state"] == "scanned":
                if time.perf_counter() - began > 10:
                    raise RuntimeError("login did not finish")
                time.sleep(0.002)
            login_times.append(time.perf_counter() - began)
            received = hub.wait_for(
                lambda e: (
                    e.agent == "verifier" and e.payload.get("state") == "presentation-received"
                ),
                timeout=10,
                since=since,
            )
            agent_times.append(received.received_at - began_mono)
        login_times, agent_times = login_times[1:], agent_times[1:]
        login_median = statistics.median(login_times)
        print(
            f"(b) QR login, scan -> verified        median {login_median * 1000:6.0f} ms, "
            f"max {max(login_times) * 1000:5.0f} ms over {logins} (target <= 500 ms median)"
        )
        print(
            f"    peer: agents' own round trip      median "
            f"{statistics.median(agent_times) * 1000:6.0f} ms (scan -> presentation-received)"
        )

        operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
        deny_times, ack_times = [], []
        for _ in range(revocations):
            # The catalogue needs a participant: revoking the OnboardingCredential denies.
            credential = issue_with_status(
                db, hub, authority, person, connection, "OnboardingCredential", revocation
            )
            challenge = http.post(f"{gateway}/auth/challenge", timeout=10).json()
            vp = wallet.prove(
                [credential.credential, role.credential],
                challenge=challenge["challenge"],
                domain=challenge["domain"],
            )
            token = http.post(f"{gateway}/auth/token", json=vp, timeout=10).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            url = f"{gateway}/apps/catalogue/api/items?limit=1"
            assert http.get(url, headers=headers, timeout=10).status_code == 200
            began = time.perf_counter()
            http.post(
                f"{revocation}/status/entries/{credential.status.entry_id}/revoke",
                json={"reason": "bench"},
                headers=operator,
                timeout=10,
            ).raise_for_status()
            acked = time.perf_counter()
            while http.get(url, headers=headers, timeout=10).status_code != 403:
                if time.perf_counter() - began > 5:
                    raise RuntimeError("revocation not enforced within 5 s")
            deny_times.append(time.perf_counter() - began)
            ack_times.append(acked - began)
        worst = max(deny_times)
        print(
            f"(c) revocation -> denied              median "
            f"{statistics.median(deny_times) * 1000:6.0f} ms, max {worst * 1000:5.0f} ms over "
            f"{revocations} (target <= 1000 ms)"
        )
        print(
            f"    peer: the revoke call itself      median "
            f"{statistics.median(ack_times) * 1000:6.0f} ms"
        )
        engine.dispose()
        return login_median, worst
    finally:
        suite.stop()


def concurrent_throughput(url: str, headers: dict[str, str], seconds: float, clients: int) -> float:
    """Requests per second answered to ``clients`` threads, each on its own connection."""
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def run(slot: int) -> None:
        http = requests.Session()
        while time.perf_counter() < stop:
            response = http.get(url, headers=headers, timeout=30)
            if response.status_code != 200:
                raise RuntimeError(f"{url}: {response.status_code} {response.text[:200]}")
            counts[slot] += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - began)


WERKZEUG_NODE = """
import sys, threading
from suite.node import create_app
from credgate.serving import serve
serve(create_app("verifier"), int(sys.argv[1]))
threading.Event().wait()
"""


def bench_workers(seconds: float, clients: int = 8) -> dict[str, float]:
    """(e): one node app under gunicorn with 1 and 2 workers, and on werkzeug's thread server."""
    import os
    import secrets
    import signal
    import socket
    import subprocess

    var = Path(tempfile.mkdtemp(prefix="credgate-bench-gw-workers-"))
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{var / 'bench.sqlite3'}"
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    status = StatusListServer().start()
    status.add_list("roles", AUTHORITY, "revocation")
    trust = var / "trust.json"
    trust.write_text(json.dumps({"onboarding_authority": AUTHORITY.did}))
    config = var / "credgate.json"
    config.write_text(
        json.dumps(
            {
                "VERIFIER_TRUST_FILE": str(trust),
                "GATEWAY_DOMAIN": "http://gateway.bench",
                "GATEWAY_APPS": ["apps.catalogue:app"],
                "SERVICE_URLS": {"revocation": status.url},
                "AGENT_URL": "http://127.0.0.1:9",
                "AGENT_API_KEY": "unused",
            }
        )
    )
    root = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "CREDGATE_CONFIG": str(config),
        "CREDGATE_SECRET_KEY": secrets.token_urlsafe(32),
        "CREDGATE_VAR": str(var),
        "CREDGATE_LOG_FORMAT": "text",
        "PYTHONPATH": str(root),
    }

    def free_port() -> int:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    ports = {"gunicorn-1": free_port(), "gunicorn-2": free_port(), "werkzeug": free_port()}
    commands = {
        name: [
            sys.executable,
            "-m",
            "suite",
            "--var",
            str(var),
            "serve",
            "verifier",
            "--bind",
            f"127.0.0.1:{ports[name]}",
            "--workers",
            name[-1],
        ]
        for name in ("gunicorn-1", "gunicorn-2")
    }
    commands["werkzeug"] = [sys.executable, "-c", WERKZEUG_NODE, str(ports["werkzeug"])]
    processes = {
        name: subprocess.Popen(
            command,
            cwd=root,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for name, command in commands.items()
    }
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    rates: dict[str, list[float]] = {name: [] for name in bases}
    try:
        deadline = time.monotonic() + 120
        for name, base in bases.items():
            while True:
                try:
                    if requests.get(base + "/ready", timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline or processes[name].poll() is not None:
                    raise RuntimeError(f"(e) {name} did not start")
                time.sleep(0.2)
        credential = credgate_credential(
            "RoleCredential", AUTHORITY, HOLDER.did, status=status.entry("roles", 7)
        )
        onboarding = credgate_credential(
            "OnboardingCredential", AUTHORITY, HOLDER.did, status=status.entry("roles", 8)
        )
        issued = requests.post(bases["gunicorn-2"] + "/auth/challenge", timeout=10).json()
        vp = HOLDER.present(
            [credential, onboarding], challenge=issued["challenge"], domain=issued["domain"]
        )
        answer = requests.post(
            bases["gunicorn-2"] + "/auth/token", json={"verifiablePresentation": vp}, timeout=10
        )
        answer.raise_for_status()
        # One token for all three: the nodes share the signing key (CREDGATE_SECRET_KEY).
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        path = "/apps/catalogue/api/items?limit=20"
        for base in bases.values():  # warm up: connections, caches, the status list
            concurrent_throughput(base + path, headers, 0.5, clients)
        for _ in range(3):
            for name, base in bases.items():
                rates[name].append(
                    concurrent_throughput(base + path, headers, seconds / 3, clients)
                )
    finally:
        for process in processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        status.stop()
    median = {name: statistics.median(values) for name, values in rates.items()}
    one, two, werkzeug = median["gunicorn-1"], median["gunicorn-2"], median["werkzeug"]
    print(f"(e) token-authorised requests, {clients} concurrent clients, one node app:")
    print(f"    werkzeug thread server, 1 process {werkzeug:8.0f} req/s")
    print(
        f"    gunicorn gthread, 1 worker        {one:8.0f} req/s   = {one / werkzeug:.2f}x werkzeug"
    )
    print(
        f"    gunicorn gthread, 2 workers       {two:8.0f} req/s   = {two / one:.2f}x 1 worker, "
        f"{two / werkzeug:.2f}x werkzeug ({os.cpu_count()} CPUs, clients on the same machine)"
    )
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--logins", type=int, default=15)
    parser.add_argument("--revocations", type=int, default=8)
    parser.add_argument("--only", choices=["workers"], help="run one part only")
    args = parser.parse_args()
    if args.only == "workers":
        bench_workers(args.seconds * 2)
        return 0
    ratio = bench_throughput(args.seconds)
    login, deny = bench_suite(args.logins, args.revocations)
    openid = bench_oid4vp(args.logins)
    print(f"    OpenID4VP / DIDComm login median  {openid / login:8.2f}x (same run)")
    bench_workers(args.seconds * 2)
    met = ratio >= 0.8 and login <= 0.5 and deny <= 1.0 and openid <= 0.3
    print("all targets met" if met else "some targets missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
