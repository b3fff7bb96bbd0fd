"""Webhooks shared by service nodes (agents.hub with a ``store``): a waiter on one node's hub sees
the webhook another node's hub received — within the same bound as in one process — a failure
posted to the other node ends the wait, and a wait is bounded. Each "node" is a hub of its own
here; on PostgreSQL the webhook also arrives from another process."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest

from agents.hub import ExchangeFailed, WebhookHub, WebhookTimeout

pytestmark = pytest.mark.db


@pytest.fixture
def nodes(db, notifier):
    return WebhookHub("key-a", store=db), WebhookHub("key-b", store=db)


def test_a_waiter_on_a_sees_the_webhook_b_received(nodes):
    a, b = nodes
    record = uuid.uuid4().hex
    since = a.last_seq
    b.publish("holder", "issue_credential_v2_0", {"cred_ex_id": "other", "state": "done"})
    threading.Timer(
        0.2, b.publish, ("holder", "issue_credential_v2_0", {"cred_ex_id": record, "state": "done"})
    ).start()
    began = time.monotonic()
    event = a.wait_for_state(
        "issue_credential_v2_0", "cred_ex_id", record, "done", timeout=10, since=since
    )
    assert event.payload["cred_ex_id"] == record
    assert time.monotonic() - began < 1.0
    # An event that arrived before the wait started is seen too (DIDComm is often faster).
    again = a.wait_for_state(
        "issue_credential_v2_0", "cred_ex_id", record, "done", timeout=1, since=since
    )
    assert again.seq == event.seq


def test_a_failure_posted_to_b_ends_the_wait_on_a_and_waits_are_bounded(nodes):
    a, b = nodes
    record = uuid.uuid4().hex
    since = a.last_seq
    b.publish(
        "holder",
        "issue_credential_v2_0",
        {"cred_ex_id": record, "state": "abandoned", "error_msg": "declined"},
    )
    with pytest.raises(ExchangeFailed) as failed:
        a.wait_for_state(
            "issue_credential_v2_0", "cred_ex_id", record, "done", timeout=5, since=since
        )
    assert failed.value.reason == "declined"
    began = time.monotonic()
    with pytest.raises(WebhookTimeout):
        a.wait_for(lambda e: False, timeout=0.3, since=a.last_seq)
    assert time.monotonic() - began < 2.0


def test_a_webhook_stored_by_another_process_wakes_the_waiter(nodes, settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("another process shares the database only on PostgreSQL")
    a, _ = nodes
    record = uuid.uuid4().hex
    since = a.last_seq
    script = (
        "import sys; from credgate.db import make_engine, session_factory; "
        "from agents.hub import WebhookHub; "
        "hub = WebhookHub('k', store=session_factory(make_engine(sys.argv[1]))); "
        "hub.publish('verifier', 'present_proof_v2_0', {'pres_ex_id': sys.argv[2], "
        "'state': 'done'})"
    )
    command = [sys.executable, "-c", script, settings.database_url, record]
    threading.Timer(0.2, subprocess.run, (command,)).start()
    event = a.wait_for_state(
        "present_proof_v2_0", "pres_ex_id", record, "done", timeout=30, since=since
    )
    assert event.agent == "verifier"
