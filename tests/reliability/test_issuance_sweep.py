"""Issuance bookkeeping that cannot be left half-done.

Each test stops an issuance between two of its real steps (as a crash or a dead agent would) and
lets the sweeper run with its clock moved past the bound: every reserved index and every record
that never reached a holder ends in a final state, with its status bit set (abandoned), and an
issued credential no wallet acknowledged is shown as such, never as "delivered".
"""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from uuid import uuid4

import pytest
import requests
from sqlalchemy import select

from credgate.db import transaction, utcnow
from credgate.tokens import ensure_operator_token
from issuer import lifecycle, records
from issuer.context import DEFAULTS, build_context
from issuer.models import (
    ABANDONED,
    EXCHANGE_ABANDONED,
    EXCHANGE_DONE,
    EXCHANGE_INVITED,
    ISSUED,
    ISSUING,
    OFFERED,
    Exchange,
    IssuedCredential,
)
from revocation import allocation
from revocation.models import StatusEntry, StatusEvent

pytestmark = pytest.mark.db

# No agent: an issuer whose agent is dead (nothing it says can end a record).
ISSUER_DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
SUBJECT_DID = "did:key:z6MkjchhfUsD6mmvni8mCdXHw216Xrm9bQe2mBH1P5RDjVJG"
STATUS_BASE = "http://127.0.0.1:9"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def ctx(module_db):
    """The sweeps take a bounded batch of every stale row: in a database of this module's own, so
    that other modules' reservations (hundreds, tests/revocation/test_allocation.py) are not
    swept first whatever order the files run in."""
    config = {**DEFAULTS, "SERVICE_URLS": {"revocation": STATUS_BASE}}
    return build_context(config, module_db, None)


def credential() -> dict:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": f"urn:uuid:{uuid4()}",
        "type": ["VerifiableCredential"],
        "issuer": ISSUER_DID,
        "credentialSubject": {"id": SUBJECT_DID},
    }


def reserve(ctx, *, exchange_id: str | None = None, channel: str = "vc-api") -> IssuedCredential:
    """Step one of an issuance, exactly as the VC-API and exchanges do it (record + index)."""
    with transaction(ctx.factory) as session:
        return records.reserve(
            session,
            credential(),
            type_name=None,
            workflow=channel,
            channel=channel,
            actor="test",
            status_base_url=STATUS_BASE,
            exchange_id=exchange_id,
        )


def states(ctx, record_id: str) -> tuple[str, str]:
    with ctx.factory() as session:
        record = session.get(IssuedCredential, record_id)
        entry = session.get(StatusEntry, record.status_entry_id)
        return record.state, entry.state


def sweep_at(ctx, later: timedelta) -> None:
    lifecycle._last_housekeeping.pop(id(ctx), None)  # run the table sweeps on this call
    lifecycle.sweep(ctx, now=utcnow() + later)


def test_a_vc_api_issuance_interrupted_before_it_was_recorded_is_abandoned(ctx):
    record = reserve(ctx)  # reserved and recorded "offered"; the process dies before signing
    sweep_at(ctx, timedelta(seconds=1))
    assert states(ctx, record.id) == (OFFERED, "reserved")  # a request may still be signing
    sweep_at(ctx, lifecycle.INTERRUPTED_AFTER + timedelta(seconds=1))
    assert states(ctx, record.id) == (ABANDONED, "abandoned")
    with ctx.factory() as session:
        assert "interrupted" in session.get(IssuedCredential, record.id).reason
    # The request that reserved it, back late with a signature, cannot record it any more: the
    # VC-API answers 503 issuance-interrupted instead of returning a credential that won't verify.
    with transaction(ctx.factory) as session:
        assert records.deliver(session, record) is False
    assert states(ctx, record.id) == (ABANDONED, "abandoned")


def test_a_vc_api_issuance_left_signing_is_abandoned_too(ctx):
    record = reserve(ctx)
    with transaction(ctx.factory) as session:
        assert records.move(session, record.id, (OFFERED,), ISSUING)
    sweep_at(ctx, lifecycle.INTERRUPTED_AFTER + timedelta(seconds=1))
    assert states(ctx, record.id) == (ABANDONED, "abandoned")


def test_a_reserved_index_nobody_owns_is_abandoned_after_the_bound(ctx):
    with transaction(ctx.factory) as session:  # reserved, and the caller died before recording
        orphan = allocation.allocate(
            session,
            issuer_did=ISSUER_DID,
            purpose="revocation",
            model="BitstringStatusList",
            credential_id=f"urn:uuid:{uuid4()}",
            status_base_url=STATUS_BASE,
        )
    horizon = ctx.settings.invitation_ttl + lifecycle.UNKNOWN_OUTCOME_LIMIT
    sweep_at(ctx, horizon)
    with ctx.factory() as session:
        assert session.get(StatusEntry, orphan.entry_id).state == "reserved"
    sweep_at(ctx, horizon + lifecycle.RESERVATION_SLACK + timedelta(seconds=1))
    with ctx.factory() as session:
        assert session.get(StatusEntry, orphan.entry_id).state == "abandoned"
        actions = session.scalars(
            select(StatusEvent.action).where(StatusEvent.entry_id == orphan.entry_id)
        ).all()
    assert actions == ["reserve", "abandon"]


def exchange(ctx, expires_in: timedelta = timedelta(minutes=10)) -> str:
    with transaction(ctx.factory) as session:
        row = Exchange(
            id=str(uuid4()),
            short_id=secrets.token_urlsafe(12),
            workflow="test",
            tenant="test-tenant",
            wallet_id=str(uuid4()),
            handshake=False,
            state=EXCHANGE_INVITED,
            expires_at=utcnow() + expires_in,
        )
        session.add(row)
        return row.id


def test_a_signing_whose_outcome_the_dead_agent_never_reports_ends_after_the_bound(ctx):
    exchange_id = exchange(ctx)
    record = reserve(ctx, exchange_id=exchange_id, channel="didcomm")
    with transaction(ctx.factory) as session:  # we told the agent to sign; it died answering
        assert records.move(session, record.id, (OFFERED,), ISSUING, thread_id=str(uuid4()))
    past_ttl = ctx.settings.invitation_ttl + timedelta(seconds=1)
    sweep_at(ctx, past_ttl)
    assert states(ctx, record.id) == (ISSUING, "reserved")  # it may have signed: keep asking
    sweep_at(ctx, past_ttl + lifecycle.UNKNOWN_OUTCOME_LIMIT)
    assert states(ctx, record.id) == (ABANDONED, "abandoned")
    with ctx.factory() as session:
        assert session.get(Exchange, exchange_id).state == EXCHANGE_ABANDONED


def test_issued_but_never_acknowledged_is_not_delivered(ctx):
    exchange_id = exchange(ctx)
    unacked = reserve(ctx, exchange_id=exchange_id, channel="didcomm")
    with transaction(ctx.factory) as session:  # the agent's /issue answered; no ack ever came
        assert records.deliver(session, unacked)
    sweep_at(ctx, ctx.settings.invitation_ttl + timedelta(seconds=1))
    with ctx.factory() as session:
        done = session.get(Exchange, exchange_id)
        record = session.get(IssuedCredential, unacked.id)
    assert (done.state, done.reason) == (EXCHANGE_DONE, lifecycle.NOT_ACKNOWLEDGED)
    assert record.state == ISSUED
    assert lifecycle.delivery(record) == "issued, not acknowledged"

    acked = reserve(ctx, exchange_id=exchange(ctx), channel="didcomm")
    with transaction(ctx.factory) as session:
        records.deliver(session, acked, acknowledged=True)
        acked_row = session.get(IssuedCredential, acked.id)
        session.refresh(acked_row)
        assert lifecycle.delivery(acked_row) == lifecycle.DELIVERED
    vc_api = reserve(ctx)
    with transaction(ctx.factory) as session:
        records.deliver(session, vc_api)
        vc_row = session.get(IssuedCredential, vc_api.id)
        session.refresh(vc_row)
        assert lifecycle.delivery(vc_row) == lifecycle.DELIVERED  # returned in the response


@pytest.mark.agents
def test_the_admin_page_shows_issued_not_acknowledged_apart_from_delivered(suite, settings, db):
    ctx = build_context({**DEFAULTS, "SERVICE_URLS": {"revocation": STATUS_BASE}}, db, None)
    unacked = reserve(ctx, exchange_id=exchange(ctx), channel="didcomm")
    vc_api = reserve(ctx)
    with transaction(ctx.factory) as session:
        records.deliver(session, unacked)
        records.deliver(session, vc_api)
    issuer_url = suite.servers["issuer"].url
    with requests.Session() as browser:
        login = browser.get(f"{issuer_url}/issuer/admin", timeout=10)
        page = browser.post(
            f"{issuer_url}/issuer/admin/login",
            timeout=10,
            data={
                "token": ensure_operator_token(settings, db),
                "csrf_token": CSRF.search(login.text).group(1),
            },
        )
    assert page.status_code == 200, page.text
    rows = re.findall(r'<tr data-delivery="([^"]+)"><td><code>([^<]+)</code>', page.text)
    by_credential = {credential_id: shown for shown, credential_id in rows}
    assert by_credential[unacked.credential_id] == "issued, not acknowledged"
    assert by_credential[vc_api.credential_id] == "delivered"
