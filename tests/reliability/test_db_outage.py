"""Lost database connections: a 503 with ``Retry-After`` at worst, never a 500, and back without a
restart.

Under load (threads calling the gateway's token API, the VC-API's issue endpoint, person
onboarding and the revocation service's operator API), every PostgreSQL connection of this test
process is terminated with ``pg_terminate_backend`` — pooled, checked out mid-query and the
change feeds' ``LISTEN`` connections alike. Only this process's own connections are terminated
(matched by client port), so other sessions on the same server are left alone. Each endpoint must
answer 2xx again within a few seconds, with the same servers and pools.

The 503 itself is tried on every backend: a service whose database cannot be reached answers the
``storage-unavailable`` problem with ``Retry-After``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import requests
from flask import Blueprint
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from credgate.db import make_engine, session_factory
from credgate.problems import PROBLEM_BASE
from credgate.web import create_service_app, db_sessions
from schemas.registry import example_credential
from tests.support.issuer_wallet import operator_headers

pytestmark = [pytest.mark.db]

HOLDER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
BEFORE = 1.5  # seconds of load before the connections are killed
AFTER = 6.0  # ... and after
RECOVER_WITHIN = 5.0  # every endpoint answers 2xx again within this after the kill


def test_a_database_out_of_reach_is_a_503_with_retry_after(settings):
    """Any service, any backend: a refused connection is the storage-unavailable problem."""
    probe = Blueprint("probe", __name__)

    @probe.get("/probe")
    def read():
        with db_sessions()() as session:
            return {"one": session.execute(text("SELECT 1")).scalar_one()}

    # A closed port (PostgreSQL) / a directory (SQLite): the database cannot be opened.
    unreachable = (
        "postgresql+psycopg://postgres@127.0.0.1:9/none"
        if settings.database_url.startswith("postgresql")
        else f"sqlite:///{settings.var_dir}"
    )
    engine = make_engine(unreachable)
    app = create_service_app("probe", config={"DB_SESSION_FACTORY": session_factory(engine)})
    app.register_blueprint(probe)
    response = app.test_client().get("/probe")
    engine.dispose()
    assert response.status_code == 503, response.get_data(as_text=True)
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.get_json()["type"] == PROBLEM_BASE + "storage-unavailable"


# -- pg_terminate_backend under load -------------------------------------------------------------


@dataclass
class Load:
    """One endpoint called in a loop; what it answered, and when."""

    name: str
    call: Callable[[], requests.Response]
    answers: list[tuple[float, int, str | None]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                response = self.call()
            except requests.RequestException as exc:  # a hung or dropped connection is a failure
                self.errors.append(f"{type(exc).__name__}: {exc}")
                continue
            retry_after = response.headers.get("Retry-After")
            self.answers.append((time.monotonic(), response.status_code, retry_after))
            if response.status_code >= 500 and response.status_code != 503:
                self.errors.append(f"{response.status_code}: {response.text[:300]}")
            time.sleep(0.02)


def own_connection_ports(server_port: int) -> set[int]:
    """Local ports of this process's TCP connections to the database server (Linux /proc)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[len("socket:[") : -1])
    ports = set()
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    local, remote, inode = fields[1], fields[2], fields[9]
                    if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == server_port:
                        ports.add(int(local.rsplit(":", 1)[1], 16))
        except OSError:
            continue
    return ports


def terminate_own_backends(database_url: str) -> int:
    url = make_url(database_url)
    ports = own_connection_ports(url.port or 5432)
    admin = create_engine(database_url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND client_port = ANY(:ports)"
                ),
                {"ports": sorted(ports)},
            ).all()
    finally:
        admin.dispose()
    return sum(1 for (ok,) in killed if ok)


@pytest.mark.agents
def test_killed_database_connections_under_load_give_no_500_and_recover(request, settings, db):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("pg_terminate_backend needs PostgreSQL: set DATABASE_URL (CI's -m db job)")
    suite = request.getfixturevalue("suite")  # only now: no agents started for a skip
    urls = {name: server.url for name, server in suite.servers.items()}
    operator = operator_headers(settings, db)
    authority = requests.get(f"{urls['issuer']}/issuer/did", timeout=10).json()["did"]
    credential = example_credential("OnboardingCredential")
    for key in ("id", "credentialStatus"):
        del credential[key]
    credential["issuer"] = authority
    credential["credentialSubject"]["id"] = HOLDER_DID

    def issue() -> requests.Response:
        return requests.post(
            f"{urls['issuer']}/credentials/issue",
            json={"credential": credential},
            headers=operator,
            timeout=30,
        )

    issued = issue()
    assert issued.status_code == 201, issued.text
    credential_id = issued.json()["verifiableCredential"]["id"]

    loads = [
        Load(
            "gateway token API",
            lambda: requests.post(f"{urls['verifier']}/auth/challenge", timeout=15),
        ),
        Load("VC-API issue", issue),
        Load(
            "person onboarding",
            lambda: requests.post(
                f"{urls['issuer']}/issuer/onboarding/persons",
                json={"givenName": "Ada", "familyName": "Outage", "country": "FR"},
                timeout=15,
            ),
        ),
        Load(
            "revocation operator API",
            lambda: requests.get(
                f"{urls['revocation']}/status/entries",
                params={"credential_id": credential_id},
                headers=operator,
                timeout=15,
            ),
        ),
    ]
    stop = threading.Event()
    threads = [threading.Thread(target=load.run, args=(stop,), daemon=True) for load in loads]
    for thread in threads:
        thread.start()
    try:
        time.sleep(BEFORE)
        killed_at = time.monotonic()
        killed = terminate_own_backends(settings.database_url)
        time.sleep(AFTER)
    finally:
        stop.set()
        for thread in threads:
            thread.join(35)

    assert killed >= 1, "no connection of this process was terminated"
    report = {load.name: Counter(status for _, status, _ in load.answers) for load in loads}
    print(f"\nterminated {killed} connections; answers per endpoint: {report}")
    for load in loads:
        assert not load.errors, f"{load.name}: {load.errors[:3]}"
        for _, status, retry_after in load.answers:
            if status == 503:
                assert retry_after, f"{load.name}: a 503 without Retry-After"
        assert any(200 <= s < 300 for at, s, _ in load.answers if at < killed_at), load.name
        back = [at for at, s, _ in load.answers if at > killed_at and 200 <= s < 300]
        assert back, f"{load.name}: no success after the kill ({report[load.name]})"
        took = back[0] - killed_at
        assert took < RECOVER_WITHIN, f"{load.name}: back only after {took:.1f} s"
        assert 200 <= load.answers[-1][1] < 300, f"{load.name}: {load.answers[-1]}"
