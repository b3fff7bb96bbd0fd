"""The ACA-Py runtime: start, readiness, secrets, errors, webhook hub, stop without orphans."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents.client import AdminClient, AgentError, AgentUnavailable
from agents.hub import ExchangeFailed, WebhookHub, WebhookTimeout
from agents.runtime import AgentRuntime, AgentStartError, agent_args, free_port
from agents.tenants import ensure_tenant
from credgate.config import load_settings
from credgate.state import pid_alive, process_cmdline
from tests.support.didcomm import TIMEOUT, connected_pair, offer_reached

pytestmark = pytest.mark.agents


def test_all_three_agents_are_ready_and_multitenancy_is_where_it_belongs(agents):
    assert set(agents) == {"issuer", "holder", "verifier"}
    for agent in agents.values():
        assert agent.client().is_ready()
        assert agent.admin_url.startswith("http://127.0.0.1:")
        assert agent.endpoint.startswith("http://127.0.0.1:")
    # multitenant admin routes exist on issuer and holder only
    assert agents["issuer"].client().request("GET", "/multitenancy/wallets")["results"] is not None
    with pytest.raises(AgentError) as err:
        agents["verifier"].client().request("GET", "/multitenancy/wallets")
    assert err.value.status == 404


def test_secrets_are_private_and_stable(settings, agents):
    assert settings.secrets_dir.stat().st_mode & 0o777 == 0o700
    files = sorted(p.name for p in settings.secrets_dir.iterdir())
    for name in ("issuer", "holder", "verifier"):
        for kind in ("admin-key", "wallet-key", "jwt-secret"):
            path = settings.secrets_dir / f"{name}.{kind}"
            assert path.name in files
            assert path.stat().st_mode & 0o777 == 0o600
    # the admin key is required: a wrong key is refused by ACA-Py
    wrong = AdminClient(agents["issuer"].admin_url, "not-the-key")
    with pytest.raises(AgentError) as err:
        wrong.request("GET", "/multitenancy/wallets")
    assert err.value.status == 401


def test_secrets_never_reach_the_agent_logs_or_command_lines(settings, agents):
    for name, agent in agents.items():
        log = agent.log_path.read_text()
        cmdline = process_cmdline(agent.pid)
        assert "start" in cmdline
        for kind in ("admin-key", "wallet-key", "jwt-secret"):
            secret = (settings.secrets_dir / f"{name}.{kind}").read_text()
            assert secret not in log
            assert secret not in cmdline


def test_admin_errors_carry_acapy_message(agents):
    with pytest.raises(AgentError) as err:
        agents["verifier"].client().credential_exchange("00000000-0000-4000-8000-000000000000")
    assert err.value.status == 404
    assert "not found" in err.value.message.lower()
    with pytest.raises(AgentError) as err:
        agents["verifier"].client().credential_exchange("not-a-uuid")
    assert err.value.status == 422
    assert "UUID4" in err.value.message


def test_unreachable_agent_is_a_bounded_error():
    client = AdminClient(f"http://127.0.0.1:{free_port()}", "k")
    started = time.monotonic()
    with pytest.raises(AgentUnavailable):
        client.request("GET", "/status/ready", timeout=1)
    assert time.monotonic() - started < 5
    assert client.is_ready(timeout=0.5) is False


def test_failed_start_raises_with_the_log_tail(tmp_path):
    runtime = AgentRuntime(
        load_settings(tmp_path / "var"), lambda n: "http://127.0.0.1:9/x", ("verifier",)
    )
    started = time.monotonic()
    with pytest.raises(AgentStartError) as err:
        runtime.start(timeout=30, extra_args={"verifier": ["--no-such-flag"]})
    assert time.monotonic() - started < 30
    message = str(err.value)
    assert "verifier exited" in message
    assert "no-such-flag" in message  # from aca-py's own output in the log tail


def test_stop_leaves_no_agent_behind(tmp_path):
    runtime = AgentRuntime(
        load_settings(tmp_path / "var"), lambda n: "http://127.0.0.1:9/x", ("verifier",)
    )
    agents = runtime.start(timeout=60)
    pid = agents["verifier"].pid
    assert pid_alive(pid)
    runtime.stop()
    assert not pid_alive(pid)
    assert agents["verifier"].process.returncode is not None


def test_agent_args_are_loopback_multitenant_and_offline():
    issuer = agent_args("issuer", inbound_port=1, admin_port=2)
    verifier = agent_args("verifier", inbound_port=1, admin_port=2)
    assert "--no-ledger" in issuer and "agents.acapy_plugin" in issuer
    assert "single-wallet-askar" in " ".join(issuer)
    assert "--multitenant" not in verifier
    assert "0.0.0.0" not in issuer


# -- webhook hub ---------------------------------------------------------------------------------


def test_hub_wait_is_bounded():
    hub = WebhookHub("k")
    started = time.monotonic()
    with pytest.raises(WebhookTimeout):
        hub.wait_for(lambda e: True, timeout=0.3)
    assert 0.25 < time.monotonic() - started < 2


def test_hub_sees_events_that_arrived_before_the_wait_and_subscribers_get_them():
    hub = WebhookHub("k")
    got = []
    unsubscribe = hub.subscribe("connections", got.append)
    hub.publish("issuer", "connections", {"connection_id": "c1", "state": "active"})
    event = hub.wait_for_state("connections", "connection_id", "c1", "active", timeout=1)
    assert event.agent == "issuer" and got == [event]
    unsubscribe()
    hub.publish("issuer", "connections", {"connection_id": "c2", "state": "active"})
    assert len(got) == 1


def test_hub_refuses_webhooks_without_its_key():
    hub = WebhookHub("secret")
    client = hub.create_app().test_client()
    assert client.post("/issuer/topic/connections/", json={"a": 1}).status_code == 401
    ok = client.post("/issuer/topic/connections/", json={"a": 1}, headers={"x-api-key": "secret"})
    assert ok.status_code == 204
    assert hub.events()[0].payload == {"a": 1}


def test_problem_report_from_the_holder_ends_the_wait_as_failure(tenant, hub):
    """A holder that rejects an offer: the issuer's wait fails at once with the holder's reason."""
    issuer, holder, issuer_conn = connected_pair(hub, tenant, "hub-issuer", "hub-holder")
    since = hub.last_seq
    offer = issuer.client.send_ld_proof_offer(
        issuer_conn,
        {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiableCredential"],
            "issuer": issuer.did,
            "issuanceDate": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": holder.did},
        },
        {"proofType": "Ed25519Signature2020"},
    )
    received = hub.wait_for(
        lambda e: (
            e.wallet_id == holder.wallet_id
            and e.payload.get("thread_id") == offer["thread_id"]
            and e.payload.get("state") == "offer-received"
        ),
        timeout=TIMEOUT,
        since=since,
    )
    holder.client.credential_problem_report(received.payload["cred_ex_id"], "declined by the user")
    started = time.monotonic()
    with pytest.raises(ExchangeFailed) as failure:
        offer_reached(hub, offer, "done", since=since)
    assert time.monotonic() - started < 5
    assert "declined by the user" in failure.value.reason


@pytest.mark.db
def test_tenants_are_remembered(suite, db):
    client = suite.agents["holder"].client()
    first = ensure_tenant(db, "holder", client, "remembered")
    again = ensure_tenant(db, "holder", client, "remembered")
    assert (again.wallet_id, again.did) == (first.wallet_id, first.did)
    assert first.did.startswith("did:key:z6Mk")
    # the fresh token works for the same wallet
    assert again.client.request("GET", "/wallet/did", params={"did": first.did})["results"]


def test_agents_run_as_children_of_this_process(agents):
    for agent in agents.values():
        with open(f"/proc/{agent.pid}/stat") as fh:
            assert int(fh.read().rsplit(")", 1)[1].split()[1]) == os.getpid()


SERDE_PROBE = """
import json
from acapy_agent.messaging.agent_message import AgentMessage, AgentMessageSchema
from acapy_agent.protocols.issue_credential.v2_0.formats.ld_proof.handler import (
    LDProofCredFormatHandler,
)
from acapy_agent.protocols.issue_credential.v2_0.message_types import CRED_20_OFFER
from acapy_agent.protocols.issue_credential.v2_0.messages.cred_ack import V20CredAck
from marshmallow import ValidationError

from agents.acapy_plugin import serde

serde.install()

class Probe(AgentMessage):  # defined after install: its schema must still extract decorators
    class Meta:
        schema_class = "ProbeSchema"
        message_type = "https://didcomm.org/credgate-probe/1.0/probe"

    def __init__(self, *, note=None, **kwargs):
        super().__init__(**kwargs)
        self.note = note

class ProbeSchema(AgentMessageSchema):
    class Meta:
        model_class = Probe

    from marshmallow import fields
    note = fields.Str()

out = {}
for cls, kind in ((V20CredAck, "https://didcomm.org/issue-credential/2.0/ack"),
                  (Probe, "https://didcomm.org/credgate-probe/1.0/probe")):
    loaded = [cls.deserialize({"@type": kind, "@id": f"m{i}", "~thread": {"thid": f"t{i}"},
                               **({"status": "OK"} if cls is V20CredAck else {"note": "n"})})
              for i in range(2)]
    out[cls.__name__] = {
        "thids": [m._thread_id for m in loaded],
        "shared": loaded[0]._decorators is loaded[1]._decorators,
        "dumped": [m.serialize()["~thread"]["thid"] for m in loaded],
    }
detail = {"credential": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                         "type": ["VerifiableCredential"], "issuer": "did:key:z6Mk",
                         "issuanceDate": "2026-01-01T00:00:00Z",
                         "credentialSubject": {"id": "did:key:z6Mk"}},
          "options": {"proofType": "Ed25519Signature2020"}}
LDProofCredFormatHandler.validate_fields(CRED_20_OFFER, detail)
try:
    LDProofCredFormatHandler.validate_fields(CRED_20_OFFER, {"credential": {"type": 3}})
    out["invalid"] = "accepted"
except ValidationError:
    out["invalid"] = "refused"
print(json.dumps(out))
"""


def test_reused_acapy_schemas_keep_each_messages_own_decorators():
    """The plugin's pooled schemas (agents.acapy_plugin.serde), in a process of their own as in
    an agent: every loaded message keeps its own ~thread, also for message classes defined after
    the pools were installed, and ld_proof attachments are still validated."""
    done = subprocess.run(
        [sys.executable, "-c", SERDE_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout.splitlines()[-1])
    for name in ("V20CredAck", "Probe"):
        assert out[name] == {"thids": ["t0", "t1"], "shared": False, "dumped": ["t0", "t1"]}
    assert out["invalid"] == "refused"
