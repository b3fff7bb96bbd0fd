"""Following each DIDComm exchange to done or abandoned.

The agent reports progress through webhooks (:mod:`issuer.watcher` hands them here); the sweeper
calls :func:`sweep` to end exchanges whose invitation expired and to ask the agent about records
whose webhooks we never saw (a restart, a second issuer process). Every step is a conditional
state change, so repeated or reordered events do no harm.

The agent signs only on :func:`on_request`'s word: a credential whose exchange was abandoned, or
whose late-bound subject fails its schema, is never issued.

Nothing stays half-done: the sweeper also ends VC-API issuances that were interrupted between
reserving their index and recording the signature (a crash, a dead agent), gives up on a signing
whose outcome the agent never reports, and abandons any status index still reserved long after
every issuance that could own it has ended. An abandoned index has its bit set, so a credential
that escaped half-way does not verify.
"""

from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from agents.client import AgentError, AgentUnavailable
from agents.hub import problem_report_reason
from agents.tenants import TenantHandle
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import records
from issuer.context import IssuerContext
from issuer.credentials import check_schema, with_subject
from issuer.exchanges import offer_options
from issuer.models import (
    ABANDONED,
    EXCHANGE_ABANDONED,
    EXCHANGE_DONE,
    EXCHANGE_INVITED,
    EXCHANGE_OPEN,
    EXCHANGE_PREPARING,
    ISSUED,
    ISSUING,
    OFFERED,
    Exchange,
    IssuedCredential,
)
from issuer.oid4vci import grants as oid4vci_grants
from revocation import allocation

log = logging.getLogger(__name__)

#: A VC-API issuance still unrecorded after this was interrupted: the request that reserved it
#: waits at most the agent's read timeout (30 s) for the signature.
INTERRUPTED_AFTER = timedelta(minutes=2)
#: How long after its invitation expired a signing with an unknown outcome is asked about before
#: it is given up (its index abandoned: if the agent did sign, that credential will not verify).
UNKNOWN_OUTCOME_LIMIT = timedelta(hours=1)
#: A status index still reserved this long after every issuance that could own it has ended.
RESERVATION_SLACK = timedelta(hours=1)

#: How often the half-done sweeps run (they scan tables; nothing there is urgent to the second).
HOUSEKEEPING_EVERY = timedelta(seconds=30)
_last_housekeeping: dict[int, datetime] = {}  # id(ctx) -> when

# What the admin pages and the API views show for an issued credential (kept with the records).
DELIVERED, NOT_ACKNOWLEDGED = records.DELIVERED, records.NOT_ACKNOWLEDGED
delivery = records.delivery

#: Returned by a handler that found no record yet (its thread id may be committed a moment later).
RETRY = "retry"

ISSUED_STATES = frozenset({"credential-issued", "done"})
HANDLED_STATES = ISSUED_STATES | {"request-received", "abandoned"}


# -- webhooks --------------------------------------------------------------------------------


def on_connection(ctx: IssuerContext, wallet_id: str | None, payload: dict[str, Any]) -> None:
    """A holder connected through a handshake invitation: send the exchange's offers."""
    invi_msg_id, connection_id = payload.get("invitation_msg_id"), payload.get("connection_id")
    if not invi_msg_id or not connection_id:
        return
    with transaction(ctx.factory) as session:
        exchange = session.scalar(
            select(Exchange).where(Exchange.invi_msg_id == invi_msg_id, Exchange.handshake)
        )
        if exchange is None or exchange.wallet_id != wallet_id:
            return
        won = session.execute(
            update(Exchange)
            .where(
                Exchange.id == exchange.id,
                Exchange.connection_id.is_(None),
                Exchange.state == EXCHANGE_INVITED,
            )
            .values(connection_id=connection_id, updated_at=utcnow())
        ).rowcount
        pending = [r for r in records.of_exchange(session, exchange.id) if r.state == OFFERED]
    if not won:
        return
    tenant = ctx.tenants.by_name(exchange.tenant)
    for record in pending:
        _send_offer(ctx, tenant, record, connection_id)


def _send_offer(
    ctx: IssuerContext, tenant: TenantHandle | None, record: IssuedCredential, connection_id: str
) -> None:
    try:
        if tenant is None:
            raise AgentError("POST", "/issue-credential-2.0/send-offer", 0, "tenant is gone")
        sent = tenant.client.send_ld_proof_offer(
            connection_id,
            record.credential,
            offer_options(record.credential, record.proof_type),
            auto_issue=False,
        )
    except AgentError as exc:
        _abandon(ctx, record, f"offer failed: {exc.message}")
        return
    with transaction(ctx.factory) as session:
        session.execute(
            update(IssuedCredential)
            .where(IssuedCredential.id == record.id)
            .values(thread_id=sent["thread_id"], cred_ex_id=sent["cred_ex_id"], updated_at=utcnow())
        )


def on_credential_event(ctx: IssuerContext, wallet_id: str | None, payload: dict[str, Any]):
    """An issue-credential record of ours changed state on the issuer agent."""
    thread_id, state = payload.get("thread_id"), payload.get("state")
    if not thread_id or state not in HANDLED_STATES:
        return None  # e.g. offer-sent: nothing to do, so no need to read the database
    with ctx.factory() as session:
        record = records.by_thread(session, thread_id)
        exchange = record.exchange if record else None
    if record is None or exchange is None:
        return RETRY if state == "request-received" else None
    if exchange.wallet_id != wallet_id:
        return None  # same thread id from another wallet: not ours
    if state == "request-received":
        on_request(ctx, record, payload["cred_ex_id"])
    elif state == "credential-issued" and record.state == ISSUED:
        return None  # our /issue call already recorded it: a no-op write transaction saved
    elif state in ISSUED_STATES:
        _delivered(ctx, record, acknowledged=state == "done")
    elif state == "abandoned":
        _failed(ctx, record, payload.get("error_msg") or "the exchange was abandoned")
    return None


def on_problem_report(ctx: IssuerContext, wallet_id: str | None, payload: dict[str, Any]) -> None:
    thread = payload.get("~thread") or {}
    thread_id = thread.get("thid")
    if not thread_id:
        return
    with ctx.factory() as session:
        record = records.by_thread(session, thread_id)
        exchange = record.exchange if record else None
    if record is not None and exchange is not None and exchange.wallet_id == wallet_id:
        _failed(ctx, record, f"holder reported a problem: {problem_report_reason(payload)}")


def on_request(ctx: IssuerContext, record: IssuedCredential, cred_ex_id: str) -> None:
    """The holder asked for the credential: check, then (and only then) let the agent sign it."""
    tenant = _tenant_of(ctx, record)
    if record.state != OFFERED:
        if record.state == ABANDONED and tenant is not None:
            _tell_holder(tenant, cred_ex_id, "this offer was withdrawn")
        elif record.channel == "oid4vci" and tenant is not None:
            _tell_holder(tenant, cred_ex_id, "this offer was taken over OpenID4VCI")
        return
    values: dict[str, Any] = {"cred_ex_id": cred_ex_id}
    if record.late_subject:
        try:
            bound = _bind_subject(tenant, record, cred_ex_id)
        except DomainError as problem:
            _abandon(ctx, record, f"refused the request: {problem.detail}")
            if tenant is not None:
                _tell_holder(tenant, cred_ex_id, problem.detail or problem.title)
            return
        except AgentError:
            return  # unknown; the sweeper asks the agent again later
        values.update(credential=bound, subject_id=bound["credentialSubject"]["id"])
    with transaction(ctx.factory) as session:
        if not records.move(session, record.id, (OFFERED,), ISSUING, **values):
            return
    _issue(ctx, tenant, record, cred_ex_id)


def _issue(
    ctx: IssuerContext, tenant: TenantHandle | None, record: IssuedCredential, cred_ex_id: str
) -> None:
    try:
        if tenant is None:
            raise AgentError("POST", "/issue", 0, "the issuing tenant is gone")
        tenant.client.issue_credential(cred_ex_id)
    except AgentUnavailable:
        return  # it may or may not have signed: the sweeper asks the agent later
    except AgentError as exc:
        _abandon(ctx, record, f"agent could not issue: {exc.message}", from_states=(ISSUING,))
        return
    with transaction(ctx.factory) as session:
        records.deliver(session, record)


def _bind_subject(
    tenant: TenantHandle | None, record: IssuedCredential, cred_ex_id: str
) -> dict[str, Any]:
    """The credential with the subject DID the holder put in its request, checked again."""
    if tenant is None:
        raise DomainError(
            ProblemType.AGENT_ERROR,
            "the issuing tenant is gone",
            title="Tenant gone",
        )
    exchange_record = tenant.client.credential_exchange(cred_ex_id)
    requested = requested_credential(exchange_record.get("cred_ex_record", exchange_record))
    subject_did = ((requested or {}).get("credentialSubject") or {}).get("id")
    if not isinstance(subject_did, str) or not subject_did.startswith("did:"):
        raise DomainError(
            ProblemType.SUBJECT_NOT_BOUND,
            "the request names no holder DID: send it as holder_did (a did:key)",
        )
    bound = with_subject(record.credential, subject_did)
    check_schema(bound)
    return bound


def requested_credential(cred_ex_record: dict[str, Any]) -> dict[str, Any] | None:
    """The ld_proof credential in a record's credential request (base64 attachment)."""
    request = cred_ex_record.get("cred_request") or {}
    for attachment in request.get("requests~attach", []):
        data = attachment.get("data", {})
        try:
            if "json" in data:
                detail = data["json"]
            else:
                detail = json.loads(base64.urlsafe_b64decode(data["base64"] + "=="))
        except (KeyError, ValueError, TypeError):
            continue
        if isinstance(detail, dict) and isinstance(detail.get("credential"), dict):
            return detail["credential"]
    return None


def _tell_holder(tenant: TenantHandle, cred_ex_id: str, description: str) -> None:
    """Best effort: a problem report ends the holder's side (connectionless ones may not arrive)."""
    try:
        tenant.client.credential_problem_report(cred_ex_id, description[:500])
    except AgentError as exc:
        log.info("problem report on %s not sent: %s", cred_ex_id, exc)


def _delivered(ctx: IssuerContext, record: IssuedCredential, *, acknowledged: bool) -> None:
    with transaction(ctx.factory) as session:
        records.deliver(session, record)
        if acknowledged:
            session.execute(
                update(IssuedCredential)
                .where(IssuedCredential.id == record.id)
                .values(acknowledged=True, updated_at=utcnow())
            )
            finish_exchange(session, record.exchange_id)


def _failed(ctx: IssuerContext, record: IssuedCredential, reason: str) -> None:
    """The holder or the agent gave up. An issued credential stays issued (it exists)."""
    _abandon(ctx, record, reason, from_states=(OFFERED, ISSUING), exchange_reason=reason)


def _abandon(
    ctx: IssuerContext,
    record: IssuedCredential,
    reason: str,
    *,
    from_states: tuple[str, ...] = (OFFERED,),
    exchange_reason: str | None = None,
) -> None:
    """Give the record up, and close its exchange if nothing in it is left to do."""
    with transaction(ctx.factory) as session:
        records.abandon(session, record, reason, from_states=from_states)
        finish_exchange(session, record.exchange_id, exchange_reason)


def finish_exchange(session, exchange_id: str | None, reason: str | None = None) -> None:
    """Close the exchange once every credential in it is either acknowledged or abandoned."""
    if exchange_id is None:
        return
    issued = records.of_exchange(session, exchange_id)
    states = {r.state for r in issued}
    if states == {ABANDONED}:
        final = EXCHANGE_ABANDONED
        reason = reason or next((r.reason for r in issued if r.reason), None)
    elif all(r.state == ABANDONED or (r.state == ISSUED and r.acknowledged) for r in issued):
        final = EXCHANGE_DONE
    else:
        return
    session.execute(
        update(Exchange)
        .where(Exchange.id == exchange_id, Exchange.state.in_(EXCHANGE_OPEN))
        .values(state=final, reason=reason[:2000] if reason else None, updated_at=utcnow())
    )


def _tenant_of(ctx: IssuerContext, record: IssuedCredential) -> TenantHandle | None:
    try:
        return ctx.tenants.by_did(record.issuer_did)
    except DomainError:
        return None


# -- the sweeper -----------------------------------------------------------------------------


def sweep(ctx: IssuerContext, now: datetime | None = None, batch: int = 200) -> None:
    """End expired exchanges, reconcile records whose webhooks we may have missed, and end
    issuances and reservations that were left half-done."""
    now = now or utcnow()
    if _due(ctx, now):
        sweep_interrupted(ctx, now, batch)
        sweep_reservations(ctx, now, batch)
        oid4vci_grants.sweep(ctx, now, batch)
    with ctx.factory() as session:
        expired = list(
            session.scalars(
                select(Exchange.id)
                .where(Exchange.state.in_(EXCHANGE_OPEN), Exchange.expires_at <= now)
                .limit(batch)
            )
        )
        quiet = list(
            session.scalars(
                select(IssuedCredential)
                .join(Exchange, Exchange.id == IssuedCredential.exchange_id)
                .where(
                    Exchange.state.in_(EXCHANGE_OPEN),
                    or_(
                        # An offer can only have moved once a wallet has the invitation; not
                        # polling the others keeps a pile of unscanned QR codes cheap.
                        (IssuedCredential.state == OFFERED)
                        & (Exchange.fetched_at.is_not(None) | Exchange.connection_id.is_not(None)),
                        IssuedCredential.state == ISSUING,
                        (IssuedCredential.state == ISSUED) & ~IssuedCredential.acknowledged,
                    ),
                    IssuedCredential.thread_id.is_not(None),
                    IssuedCredential.updated_at <= now - ctx.settings.reconcile_after,
                )
                .limit(batch)
            )
        )
    for record in quiet:
        reconcile(ctx, record, now)
    for exchange_id in expired:
        expire(ctx, exchange_id, now)


def reconcile(ctx: IssuerContext, record: IssuedCredential, now: datetime) -> None:
    """Ask the agent where a quiet record's exchange stands and catch up with it."""
    tenant = _tenant_of(ctx, record)
    if tenant is None or record.thread_id is None:
        return
    try:
        found = tenant.client.credential_exchanges(thread_id=record.thread_id)
    except AgentError:
        return  # the agent is away: nothing can have happened there either
    states = {r.get("state"): r for r in found}
    with transaction(ctx.factory) as session:  # asked now: next time after reconcile_after
        session.execute(
            update(IssuedCredential).where(IssuedCredential.id == record.id).values(updated_at=now)
        )
    issued = next((states[s] for s in ("done", "credential-issued") if s in states), None)
    if issued is not None:
        _delivered(ctx, record, acknowledged=issued.get("state") == "done")
    elif "request-received" in states:
        cred_ex_id = states["request-received"]["cred_ex_id"]
        if record.state == OFFERED:
            on_request(ctx, record, cred_ex_id)
        else:  # our /issue call had an unknown outcome and the agent did not sign: again
            _issue(ctx, tenant, record, cred_ex_id)
    elif "abandoned" in states:
        _failed(ctx, record, states["abandoned"].get("error_msg") or "the exchange was abandoned")
    elif not found and record.state == ISSUING:
        _failed(ctx, record, "the agent has no record of the exchange")


def expire(ctx: IssuerContext, exchange_id: str, now: datetime) -> None:
    """The invitation ran out: unissued offers are abandoned, the exchange ends."""
    with ctx.factory() as session:
        exchange = session.get(Exchange, exchange_id)
        pending = [r for r in records.of_exchange(session, exchange_id) if r.state == ISSUING]
    if exchange is None or exchange.state not in EXCHANGE_OPEN:
        return
    for record in pending:  # may have been signed: only the agent knows
        reconcile(ctx, record, now)
    reason = (
        "the agent never completed the invitation"
        if exchange.state == EXCHANGE_PREPARING
        else "the invitation expired before the holder completed the exchange"
    )
    give_up = now >= exchange.expires_at + UNKNOWN_OUTCOME_LIMIT
    with transaction(ctx.factory) as session:
        for record in records.of_exchange(session, exchange_id):
            if record.state == OFFERED:
                records.abandon(session, record, reason)
            elif record.state == ISSUING and give_up:
                records.abandon(
                    session,
                    record,
                    "the agent never said whether it signed; abandoned so that a credential "
                    "it may have sent does not verify",
                    from_states=(ISSUING,),
                )
        session.expire_all()  # the moves above are conditional UPDATEs: read their outcome
        left = records.of_exchange(session, exchange_id)
        if any(r.state == ISSUING for r in left):
            return  # unknown outcome: keep the exchange open until the agent answers
        final = EXCHANGE_DONE if any(r.state == ISSUED for r in left) else EXCHANGE_ABANDONED
        unacked = any(r.state == ISSUED and not r.acknowledged for r in left)
        note = NOT_ACKNOWLEDGED if final == EXCHANGE_DONE and unacked else None
        session.execute(
            update(Exchange)
            .where(Exchange.id == exchange_id, Exchange.state.in_(EXCHANGE_OPEN))
            .values(
                state=final,
                reason=note if final == EXCHANGE_DONE else reason,
                updated_at=utcnow(),
            )
        )


def _due(ctx: IssuerContext, now: datetime) -> bool:
    last = _last_housekeeping.get(id(ctx))
    if last is not None and last <= now < last + HOUSEKEEPING_EVERY:
        return False
    _last_housekeeping[id(ctx)] = now
    return True


def sweep_interrupted(ctx: IssuerContext, now: datetime, batch: int = 200) -> int:
    """Abandon VC-API issuances reserved and never recorded (the process or the agent died
    between the two); returns how many."""
    with ctx.factory() as session:
        stale = list(
            session.scalars(
                select(IssuedCredential)
                .where(
                    IssuedCredential.exchange_id.is_(None),
                    IssuedCredential.state.in_((OFFERED, ISSUING)),
                    IssuedCredential.created_at <= now - INTERRUPTED_AFTER,
                )
                .limit(batch)
            )
        )
    ended = 0
    for record in stale:
        try:
            with transaction(ctx.factory) as session:
                ended += records.abandon(
                    session,
                    record,
                    "the issuance was interrupted before its signature was recorded",
                    from_states=(OFFERED, ISSUING),
                )
        except DomainError as problem:  # its entry moved on meanwhile: leave this one, do the rest
            log.warning("issuer: record %s not swept: %s", record.id, problem.detail)
    if ended:
        log.warning("issuer: %d interrupted issuance(s) abandoned", ended)
    return ended


def sweep_reservations(ctx: IssuerContext, now: datetime, batch: int = 200) -> int:
    """Abandon status indices still reserved although no live issuance owns them any more (the
    backstop: records end with their index, so this finds only what something left behind)."""
    horizon = ctx.settings.invitation_ttl + UNKNOWN_OUTCOME_LIMIT + RESERVATION_SLACK
    with ctx.factory() as session:
        stale = allocation.stale_reservations(session, before=now - horizon, limit=batch)
        live = (
            set(
                session.scalars(
                    select(IssuedCredential.status_entry_id).where(
                        IssuedCredential.status_entry_id.in_(stale),
                        IssuedCredential.state.in_((OFFERED, ISSUING)),
                    )
                )
            )
            if stale
            else set()
        )
    ended = 0
    for entry_id in stale:
        if entry_id in live:
            continue  # its record ends it (and itself) with the exchange
        try:
            with transaction(ctx.factory) as session:
                ended += allocation.abandon_reservation(
                    session, entry_id, "reserved, never issued: swept"
                )
        except DomainError:  # issued a moment ago: it is not ours to end
            continue
    if ended:
        log.warning("issuer: %d orphaned status reservation(s) abandoned", ended)
    return ended
