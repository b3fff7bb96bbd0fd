"""Supervised agents: ``kill -9`` of the issuer, the holder and the verifier agent in turn.

Each comes back by itself on the same admin URL within a bounded time (measured, printed), and
``credgate status`` and the services' ``/health`` say it restarted. Work that was on the dead
agent fails with a problem document (503 ``agent-unavailable`` with ``Retry-After``) and its
records reach a final state; work started before the kill and new work both succeed afterwards,
webhooks included (the restarted agent posts to the same hub URL).

These tests kill the session's own agents: everything after them runs on restarted agents, which
is the point.
"""

from __future__ import annotations

import html
import os
import re
import signal
import time
import uuid

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from issuer.models import IssuedCredential
from revocation.models import StatusEntry
from suite.cli import cli, collect_status
from tests.support.gateway_wallet import AgentWallet
from tests.support.issuer_wallet import accept_exchange, operator_headers, vc_api_role
from tests.support.problems import PROBLEMS
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]

#: An agent must be back within this; restarts take a few seconds (backoff 0.5 s + ACA-Py start).
BACK_WITHIN = 60.0


def kill(suite, name: str) -> tuple[int, int, float]:
    """SIGKILL the agent; (its old pid, its restart count before, when) once the supervisor saw."""
    agent = suite.agents[name]
    assert agent.state == "running" and agent.client().is_ready()
    pid, restarts = agent.pid, agent.restarts
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    eventually(
        lambda: agent.state == "restarting" or agent.restarts > restarts,
        10,
        what=f"the supervisor to see {name} die",
    )
    return pid, restarts, killed


def back(suite, settings, name: str, pid: int, restarts: int, killed: float) -> float:
    """Wait (bounded) until the agent is ready again; check how it and the suite report it."""
    agent = suite.agents[name]
    admin_url = agent.admin_url
    eventually(
        lambda: agent.restarts == restarts + 1 and agent.state == "running",
        BACK_WITHIN,
        what=f"{name} agent to restart",
    )
    took = time.monotonic() - killed
    assert agent.client().is_ready(timeout=2)
    assert agent.pid != pid and agent.admin_url == admin_url  # same URL the services hold
    print(f"\n{name} agent back {took:.1f} s after kill -9 (restart {agent.restarts})")

    report = collect_status(settings)["agents"][name]
    assert report["healthy"] and report["state"] == "running"
    assert report["restarts"] == restarts + 1 and report["last_restart"]
    assert report["last_exit"] == -signal.SIGKILL and report["pid"] == agent.pid
    assert f"agent {name} exited with code -9" in agent.log_path.read_text(errors="replace")
    shown = CliRunner().invoke(cli, ["--var", str(settings.var_dir), "status"]).output
    line = next(x for x in shown.splitlines() if x.split()[1:3] == ["agent", name])
    assert line.startswith("ok ") and f"restarted {restarts + 1}x, last at " in line
    return took


def health_of(suite, service: str) -> dict:
    return requests.get(suite.servers[service].url + "/health", timeout=10).json()


def assert_unavailable(response: requests.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"] == PROBLEMS + "agent-unavailable"
    assert int(response.headers["Retry-After"]) > 0


# -- issuer ----------------------------------------------------------------------------------------


def test_the_issuer_agent_comes_back_after_kill_9(suite, settings, db, hub, tenant):
    issuer_url = suite.servers["issuer"].url
    operator = operator_headers(settings, db)
    holder = tenant("holder", "reliability-ida")
    authority = requests.get(f"{issuer_url}/issuer/did", timeout=10).json()["did"]
    # In flight at the kill: an exchange whose invitation is out, not yet taken by a wallet.
    before = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Ida", "familyName": "Kerr"},
        timeout=30,
    )
    assert before.status_code == 201, before.text

    pid, restarts, killed = kill(suite, "issuer")
    # Work on the dead agent: a problem document, and its record and index end abandoned.
    lost_id = f"urn:uuid:{uuid.uuid4()}"
    lost = requests.post(
        f"{issuer_url}/credentials/issue",
        headers=operator,
        timeout=30,
        json={
            "credential": vc_api_role(authority, holder.did),
            "options": {"credentialId": lost_id},
        },
    )
    if suite.agents["issuer"].restarts == restarts:  # (not already back: then it just works)
        assert_unavailable(lost)
        with db() as session:
            record = session.scalar(
                select(IssuedCredential).where(IssuedCredential.credential_id == lost_id)
            )
            entry = session.get(StatusEntry, record.status_entry_id)
            assert (record.state, entry.state) == ("abandoned", "abandoned")
        down = health_of(suite, "issuer")
        assert down["agent"]["ready"] is False or down["agent"]["restarts"] == restarts + 1

    back(suite, settings, "issuer", pid, restarts, killed)
    health = health_of(suite, "issuer")
    assert health["agent"]["ready"] is True and health["agent"]["restarts"] == restarts + 1

    # New work succeeds on the restarted agent ...
    signed = requests.post(
        f"{issuer_url}/credentials/issue",
        headers=operator,
        timeout=30,
        json={"credential": vc_api_role(authority, holder.did)},
    )
    assert signed.status_code == 201, signed.text
    assert signed.json()["verifiableCredential"]["proof"]["type"] == "Ed25519Signature2020"
    # ... and so does the exchange opened before the kill (its records live in the agent's
    # wallet; the issuer hears of it through webhooks from the restarted agent).
    [stored] = accept_exchange(hub, holder, before.json())
    assert stored["credentialSubject"]["id"] == holder.did
    status_url = before.json()["status_url"]
    eventually(
        lambda: requests.get(status_url, timeout=10).json()["state"] == "done",
        15,
        what="the pre-kill exchange to be done",
    )


# -- holder ----------------------------------------------------------------------------------------


def test_the_holder_agent_comes_back_after_kill_9(suite, settings, db):
    issuer_url, wallet_url = suite.servers["issuer"].url, suite.servers["wallet"].url
    api = f"{wallet_url}/wallet/api/wallets"
    operator = operator_headers(settings, db)
    name = f"reliability-{uuid.uuid4().hex[:8]}"
    created = requests.post(api, json={"name": name}, headers=operator, timeout=30)
    assert created.status_code == 201, created.text

    def offer() -> str:
        exchange = requests.post(
            f"{issuer_url}/issuer/onboarding/persons",
            json={"givenName": "Hal", "familyName": "Ode"},
            timeout=30,
        )
        scanned = requests.post(
            f"{api}/{name}/scan",
            headers=operator,
            timeout=60,
            json={"url": exchange.json()["invitation_url"]},
        )
        assert scanned.status_code == 200, scanned.text
        [interaction] = scanned.json()["interactions"]
        return interaction["id"]

    def accept(interaction_id: str) -> requests.Response:
        return requests.post(
            f"{api}/{name}/interactions/{interaction_id}/accept",
            json={"trust_issuer": True},
            headers=operator,
            timeout=60,
        )

    pending = offer()  # in flight at the kill: an offer in the wallet, not yet accepted
    pid, restarts, killed = kill(suite, "holder")
    refused = accept(pending)
    if suite.agents["holder"].restarts == restarts:
        assert_unavailable(refused)
        shown = requests.get(f"{api}/{name}/interactions/{pending}", headers=operator, timeout=10)
        assert shown.json()["state"] == "failed"  # ended, with the reason; not left open

    back(suite, settings, "holder", pid, restarts, killed)
    assert health_of(suite, "wallet")["agent"]["restarts"] == restarts + 1
    taken = accept(offer())  # new work: scan and accept, over webhooks of the new process
    assert taken.status_code == 200, taken.text
    assert taken.json()["state"] == "done"
    listed = requests.get(f"{api}/{name}/credentials", headers=operator, timeout=30)
    assert listed.status_code == 200 and len(listed.json()["credentials"]) == 1


# -- verifier --------------------------------------------------------------------------------------


def open_login(gateway_url: str) -> requests.Response:
    return requests.get(f"{gateway_url}/portals/data-provider", timeout=30)


def login_of(page: requests.Response) -> tuple[str, str]:
    assert page.status_code == 200, page.text
    state = re.search(r'data-state="([^"]+)"', page.text).group(1)
    short = html.unescape(re.search(r"<code>(http[^<]+/i/[^<]+)</code>", page.text).group(1))
    return state, short


def test_the_verifier_agent_comes_back_after_kill_9(suite, settings, db, hub, tenant):
    gateway_url = suite.servers["verifier"].url
    wallet = AgentWallet(hub, tenant("holder", "reliability-vera"))

    def state(path: str) -> str:
        return requests.get(gateway_url + path, timeout=10).json()["state"]

    before_state, before_short = login_of(open_login(gateway_url))  # in flight at the kill
    pid, restarts, killed = kill(suite, "verifier")
    refused = open_login(gateway_url)
    if suite.agents["verifier"].restarts == restarts:
        assert_unavailable(refused)

    back(suite, settings, "verifier", pid, restarts, killed)
    assert health_of(suite, "verifier")["agent"]["restarts"] == restarts + 1
    # The login from before the kill still works (its request lives in the agent's wallet) and
    # ends: the wallet's refusal reaches the gateway by the restarted agent's webhook.
    wallet.scan_and_refuse(before_short, "not now")
    eventually(lambda: state(before_state) == "failed", 15, what="the pre-kill login to end")
    # New work: a fresh QR login.
    new_state, new_short = login_of(open_login(gateway_url))
    wallet.scan_and_refuse(new_short, "not now either")
    eventually(lambda: state(new_state) == "failed", 15, what="the new login to end")
