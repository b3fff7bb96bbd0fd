"""Two service nodes over one PostgreSQL (issue 18): each is ``credgate serve verifier revocation``
— gunicorn, two worker processes per service — in a process of its own, on its own ports, with
its own (empty) var directory, started by the deployment example's systemd unit's ``ExecStart``
(deploy/systemd/credgate-node@.service). They share the database schema, the test suite's
agents and their configuration (a JSON file, a master secret and the operator token's hash in
the environment), nothing else.

* A QR login opened on node A is answered by the wallet through node B's request link; node A's
  event stream shows ``verified`` within a second (the login row changes on B, B's NOTIFY wakes
  A's stream), and the browser's session cookie works on both nodes (shared session secret).
* A revocation made through node B's status-list service denies node A's open session and an
  access token node A issued earlier within a second (B records the change and notifies; A's
  revocation service wakes its feed's long-poll, A's verifier drops the cached list).
* A DIDComm issuance started at node A's wallet service completes while the holder agent's
  webhooks are delivered to node B (B stores them; A's waiter reads them).
* ``kill -9`` of node A leaves node B serving, and a login node A opened is completed on B.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

import pytest
import requests
from sqlalchemy import delete, func, select

from agents.models import StoredWebhook
from credgate.db import transaction
from credgate.tokens import ApiToken
from revocation.allocation import allocate, mark_issued
from tests.support.didcomm import offer_invitation
from tests.support.oid4vp import (
    Browser,
    TokenListServer,
    held_sdjwt,
    held_vcjwt,
    issue_sdjwt,
    issue_vcjwt,
)
from tests.support.status_entries import revoke_entry
from tests.support.waits import eventually, timed
from verifier.fetch import FetchPolicy
from verifier.testing import Party, credgate_credential
from wallet import oid4vp

pytestmark = [pytest.mark.db, pytest.mark.agents]

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "credgate-node@.service"
AUTHORITY = Party.generate()  # the credentials' issuer (a test key, trusted by the nodes)
HOLDER = Party.generate()
DEADLINE = 1.0
START_TIMEOUT = 120.0
PROBE_ROUTE = "/apps/oid4vp-probe/data"  # tests.support.oid4vp.PROBE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Node:
    """``credgate serve verifier revocation ...`` in a process group of its own."""

    def __init__(
        self,
        name: str,
        var_dir: Path,
        env: dict[str, str],
        services: tuple[str, ...] = ("verifier", "revocation"),
    ) -> None:
        self.name = name
        self.var_dir = var_dir
        self.ports = {service: free_port() for service in services}
        self.urls = {n: f"http://127.0.0.1:{p}" for n, p in self.ports.items()}
        self.env = {**env, "CREDGATE_SERVICE_URLS": json.dumps(self.urls)}
        self.process: subprocess.Popen | None = None
        self.log = var_dir / "serve.log"

    def start(self) -> Node:
        # The deployment example's systemd unit, as systemd would run it for this node.
        self.env |= {
            "CREDGATE_SERVICES": " ".join(self.ports),
            "CREDGATE_BIND_ARGS": " ".join(f"--bind 127.0.0.1:{p}" for p in self.ports.values()),
        }
        command = unit_command(UNIT, self.name, self.var_dir, self.env)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_ready(self, deadline: float) -> None:
        def ready(url: str) -> bool:
            assert self.process is not None and self.process.poll() is None, self.tail()
            return requests.get(url + "/ready", timeout=2).status_code == 200

        for url in self.urls.values():
            eventually(
                lambda u=url: ready(u),
                max(0.0, deadline - time.monotonic()),
                0.2,
                what=f"node {self.name} ready",
                ignoring=(requests.RequestException,),
            )

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """The whole node: the serve command, its gunicorn masters and their workers."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        if self.process is not None:
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if sig == signal.SIGTERM:
            return
        # SIGKILL reaches the group; wait until the ports are really closed.
        for port in self.ports.values():
            eventually(lambda p=port: _closed(p), 10, what=f"port {port} closed")

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


def unit_command(unit: Path, instance: str, var_dir: Path, env: dict[str, str]) -> list[str]:
    """``ExecStart`` of a systemd template unit for ``instance``: its ``Environment=`` defaults
    under ``env``, ``${X}`` one word and ``$X`` split on whitespace (as systemd does); the
    installed paths become this checkout's interpreter and the node's var directory."""
    lines = unit.read_text().splitlines()
    defaults = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in lines
        if line.startswith("Environment=")
    )
    values = {**defaults, **env}
    (exec_start,) = [
        line.removeprefix("ExecStart=") for line in lines if line.startswith("ExecStart=")
    ]
    words: list[str] = []
    for word in exec_start.replace("%i", instance).split():
        if word.startswith("${") and word.endswith("}"):
            words.append(values[word[2:-1]])
        elif word.startswith("$"):
            words.extend(values[word[1:]].split())
        else:
            words.append(word)
    assert words[0] == "/opt/credgate/.venv/bin/credgate", words
    assert words[1:3] == ["--var", f"/var/lib/credgate/{instance}"], words
    return [sys.executable, "-m", "suite", "--var", str(var_dir), *words[3:]]


@pytest.fixture(scope="module")
def token_lists():
    server = TokenListServer().start()
    server.add("roles", AUTHORITY)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def postgres(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several nodes need a shared PostgreSQL (DATABASE_URL); SQLite is one process")


@pytest.fixture(scope="module")
def cluster(postgres, settings, engine, db, suite, token_lists, tmp_path_factory, tenant):
    # The status lists' signer: the issuer agent's tenant the revocation service signs as.
    publisher = tenant("issuer", "scale-publisher")
    config_dir = tmp_path_factory.mktemp("scale-config")
    trust = config_dir / "trust.json"
    signers = {AUTHORITY.did: [publisher.did]}
    trust.write_text(
        json.dumps({"onboarding_authority": AUTHORITY.did, "status_list_signers": signers})
    )
    agents = {
        name: {"url": agent.admin_url, "api_key": agent.api_key}
        for name, agent in suite.agents.items()
    }
    config = config_dir / "credgate.json"
    config.write_text(
        json.dumps(
            {
                "GATEWAY_DOMAIN": "http://gateway.scale.test",
                "GATEWAY_APPS": ["tests.support.oid4vp:PROBE"],
                "GATEWAY_AUDIT_INTERVAL": 0.05,
                "VERIFIER_TRUST_FILE": str(trust),
                "FETCH_ALLOW": [token_lists.url],
                "AGENTS": agents,
            }
        )
    )
    operator_token = secrets.token_urlsafe(32)
    webhook_key = secrets.token_urlsafe(32)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CREDGATE_")},
        "DATABASE_URL": settings.database_url,
        "CREDGATE_CONFIG": str(config),
        "CREDGATE_SECRET_KEY": secrets.token_urlsafe(32),
        "CREDGATE_SECRET_WEBHOOK_KEY": webhook_key,
        "CREDGATE_OPERATOR_TOKEN_HASH": hashlib.sha256(operator_token.encode()).hexdigest(),
    }
    # The deployment example documents exactly this configuration.
    deploy = ROOT / "deploy"
    documented = {
        line.split("=", 1)[0]
        for line in (deploy / "node.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert documented == {k for k in env if k.startswith("CREDGATE_") or k == "DATABASE_URL"} | {
        "CREDGATE_SERVICE_URLS"
    }
    example = json.loads((deploy / "credgate.json.example").read_text())
    assert set(example) <= set(json.loads(config.read_text()))
    nodes = {
        # Node A also runs a wallet service (the DIDComm issuance below starts there).
        "a": Node(
            "a", tmp_path_factory.mktemp("node-a"), env, ("verifier", "revocation", "wallet")
        ),
        "b": Node("b", tmp_path_factory.mktemp("node-b"), env),
    }
    try:
        for node in nodes.values():
            node.start()
        deadline = time.monotonic() + START_TIMEOUT
        for node in nodes.values():
            node.wait_ready(deadline)
        yield {
            "a": nodes["a"],
            "b": nodes["b"],
            "publisher": publisher,
            "operator": {"Authorization": f"Bearer {operator_token}"},
            "webhook_key": webhook_key,
        }
    finally:
        for node in nodes.values():
            node.stop()
        with transaction(db) as session:  # the session's database keeps one operator token
            session.execute(
                delete(ApiToken).where(ApiToken.token_hash == env["CREDGATE_OPERATOR_TOKEN_HASH"])
            )
    for node in nodes.values():  # no node wrote a secret (or anything else) of its own
        assert not (node.var_dir / "secrets").exists()


def via(link: str, node_url: str) -> str:
    """The wallet's link with its ``request_uri`` on ``node_url`` instead."""
    scheme, rest = link.split("?", 1)
    query = dict(urllib.parse.parse_qsl(rest))
    path = urllib.parse.urlsplit(query["request_uri"]).path
    query["request_uri"] = node_url + path
    return f"{scheme}?{urllib.parse.urlencode(query)}"


def follow(browser: Browser, login) -> tuple[list[tuple[str, float]], threading.Thread]:
    seen: list[tuple[str, float]] = []

    def read():
        url = browser.base + login["events"]
        with browser.http.get(url, stream=True, timeout=30) as response:
            for line in response.iter_lines(decode_unicode=True):
                if line and line.startswith("data: "):
                    seen.append((json.loads(line[6:])["state"], time.monotonic()))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return seen, thread


def _closed(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return True
    return False


def first_denial(get, limit: float = 3.0) -> tuple[float, requests.Response]:
    return timed(get, limit, until=lambda response: response.status_code != 200)


def role_sdjwt(token_lists, index: int) -> str:
    status = (token_lists.uri("roles"), index)
    return issue_sdjwt(
        AUTHORITY,
        HOLDER,
        "RoleCredential",
        {"roles": ["DataProvider"]},
        status=status,
        exp=int(time.time()) + 3600,
    )


def test_login_opened_on_a_is_answered_through_b_and_a_streams_verified(cluster, token_lists):
    a, b = cluster["a"].urls["verifier"], cluster["b"].urls["verifier"]
    credential = role_sdjwt(token_lists, 1)
    browser = Browser(a)
    login = browser.open()
    seen, stream = follow(browser, login)
    eventually(lambda: seen, 10, 0.02)
    response = oid4vp.answer(
        via(login["link"], b), [held_sdjwt(credential, HOLDER)], policy=FetchPolicy([b])
    )
    answered = time.monotonic()
    assert response.status_code == 200, response.text
    stream.join(timeout=10)
    states = [state for state, _ in seen]
    assert states[-1] == "verified", states
    assert seen[-1][1] - answered <= DEADLINE, seen[-1][1] - answered
    finished = browser.finish(login)
    assert finished.status_code == 303, finished.text
    # One session secret: the browser's session works on either node.
    for node in (a, b):
        allowed = browser.http.get(node + PROBE_ROUTE, timeout=10)
        assert allowed.status_code == 200 and allowed.json()["holder"] == HOLDER.did
    # Node A's metrics add up its workers, by route template: no login id, no cookie, no token.
    scraped = requests.get(a + "/metrics", timeout=10).text
    assert 'route="/login/<login_id>/events"' in scraped
    assert login["id"] not in scraped


def test_revocation_through_b_denies_a_session_and_token_on_a(cluster, db):
    a, b = cluster["a"], cluster["b"]
    gateway = a.urls["verifier"]
    # The credential's status entry is in a list of the shared database, published at node A.
    role_id = f"urn:uuid:{secrets.token_hex(8)}"
    with transaction(db) as session:
        status = allocate(
            session,
            issuer_did=cluster["publisher"].did,
            purpose="revocation",
            model="StatusList2021",
            credential_id=role_id,
            status_base_url=a.urls["revocation"],
        )
    with transaction(db) as session:
        mark_issued(session, status.entry_id)
    vc = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status.credential_status()
    )

    # An access token from node A ...
    issued = requests.post(gateway + "/auth/challenge", timeout=10).json()
    vp = HOLDER.present([vc], challenge=issued["challenge"], domain=issued["domain"])
    response = requests.post(
        gateway + "/auth/token", json={"verifiablePresentation": vp}, timeout=10
    )
    assert response.status_code == 200, response.text
    bearer = {"Authorization": f"Bearer {response.json()['access_token']}"}
    junk = requests.post(
        gateway + "/auth/token", json={"verifiablePresentation": {"x": 1}}, timeout=10
    )
    assert 400 <= junk.status_code < 500
    counted = [
        line
        for line in requests.get(gateway + "/metrics", timeout=10).text.splitlines()
        if line.startswith("credgate_verifications_total{") and 'route="/auth/token"' in line
    ]
    assert any('outcome="verified"' in line for line in counted), counted
    assert any('outcome="refused"' in line and 'error=""' not in line for line in counted), counted
    # ... and a browser session on node A (the same credential as a VC-JWT, over OpenID4VP).
    browser = Browser(gateway)
    login = browser.open()
    answer = oid4vp.answer(
        login["link"],
        [held_vcjwt(issue_vcjwt(AUTHORITY, HOLDER, vc), HOLDER)],
        policy=FetchPolicy([gateway]),
    )
    assert answer.status_code == 200, answer.text
    assert browser.finish(login).status_code == 303
    route = gateway + PROBE_ROUTE
    assert requests.get(route, headers=bearer, timeout=10).status_code == 200
    assert browser.http.get(route, timeout=10).status_code == 200

    revoke_entry(b.urls["revocation"], status.entry_id, cluster["operator"], "scale test")
    elapsed, denied = first_denial(lambda: requests.get(route, headers=bearer, timeout=10))
    assert denied.status_code == 403 and denied.json()["type"].endswith("/revoked"), denied.text
    assert elapsed <= DEADLINE, elapsed
    elapsed, denied = first_denial(lambda: browser.http.get(route, timeout=10))
    assert denied.status_code == 403, denied.text
    assert elapsed <= DEADLINE, elapsed
    # Node A's follower has applied node B's change: no lag left.
    lags = [
        line
        for line in requests.get(gateway + "/metrics", timeout=10).text.splitlines()
        if line.startswith("credgate_feed_lag{")
    ]
    assert lags and all(float(line.rsplit(" ", 1)[1]) == 0 for line in lags), lags


@pytest.fixture
def holder_webhooks_to_b(cluster, suite):
    """The holder agent's webhooks, delivered to node B: the suite's agents post to the suite's
    hub, which hands the holder's on to node B's webhook endpoint as the agent would."""
    target = cluster["b"].urls["verifier"] + "/webhooks/holder/topic/{}/"

    def relay(event) -> None:
        if event.agent == "holder":
            headers = {"x-api-key": cluster["webhook_key"]}
            if event.wallet_id:
                headers["x-wallet-id"] = event.wallet_id
            requests.post(
                target.format(event.topic), json=event.payload, headers=headers, timeout=5
            ).raise_for_status()

    unsubscribe = suite.hub.subscribe("*", relay)
    yield
    unsubscribe()


def test_didcomm_issuance_started_on_a_completes_with_webhooks_at_b(
    cluster, tenant, settings, db, holder_webhooks_to_b
):
    from click.testing import CliRunner

    from suite.cli import cli

    wallet = cluster["a"].urls["wallet"]

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(
            cli, ["--var", str(settings.var_dir), "wallet", "--url", wallet, *args]
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    code, out = run("create", "scale-wallet")
    assert code == 0, out
    issuer = tenant("issuer", "scale-issuer")
    credential = credgate_credential("RoleCredential", AUTHORITY, "did:example:placeholder")
    credential.pop("proof", None)
    credential.update(issuer=issuer.did, id=f"urn:uuid:{secrets.token_hex(8)}")
    holder = out.split("holder DID ")[1].strip()
    credential["credentialSubject"]["id"] = holder
    invitation = offer_invitation(issuer, credential, "scale issuer")
    with db() as session:
        before = session.scalar(
            select(func.count(StoredWebhook.id)).where(StoredWebhook.agent == "holder")
        )
    began = time.monotonic()
    code, out = run("scan", invitation.url, "-w", "scale-wallet", "--accept", "--trust-issuer")
    elapsed = time.monotonic() - began
    assert code == 0 and "stored RoleCredential" in out, out
    # Woken by the webhooks node B stored, not by the wallet's fallback (which asks the agent
    # only after its 20 s exchange timeout).
    assert elapsed < 15, elapsed
    with db() as session:
        after = session.scalar(
            select(func.count(StoredWebhook.id)).where(StoredWebhook.agent == "holder")
        )
    assert after > before


def test_kill_9_of_a_leaves_b_serving_what_a_started(cluster, token_lists):
    a, b = cluster["a"], cluster["b"]
    browser = Browser(a.urls["verifier"])
    login = browser.open()  # node A started it ...
    a.kill()  # ... and dies at once, workers and all
    assert requests.get(b.urls["verifier"] + "/ready", timeout=5).status_code == 200
    credential = role_sdjwt(token_lists, 2)
    b_url = b.urls["verifier"]
    response = oid4vp.answer(
        via(login["link"], b_url), [held_sdjwt(credential, HOLDER)], policy=FetchPolicy([b_url])
    )
    assert response.status_code == 200, response.text
    browser.base = b_url  # the load balancer sends the browser to the node that is left
    assert browser.state(login)["state"] == "verified"
    assert browser.finish(login).status_code == 303
    assert browser.http.get(b_url + PROBE_ROUTE, timeout=10).status_code == 200
