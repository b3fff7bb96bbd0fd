"""What reaches the wallet: scanning an invitation, and picking up offers and proof requests.

Scanning hands the invitation to the holder agent and waits (bounded) for what it carries: an
attached credential offer or proof request (connectionless), or a connection over which the
issuer then sends its offers. Each becomes an interaction the user decides on.

The agent's records are the source of truth: :func:`sync` turns any offer or request the agent
holds and the wallet has not seen (one that arrived over a connection later, or after a scan
stopped waiting) into an interaction, so nothing depends on a webhook having been seen.

A proof request that nothing in the wallet satisfies is refused at once with a problem report,
so the verifier's login page shows the failure instead of waiting for an answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from credgate.db import utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from wallet import accounts, interactions, matching, oid4vci, oid4vp
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.holder import Holder
from wallet.invitations import Attached, ScannedInvitation, resolve
from wallet.models import (
    CONNECTION,
    DONE,
    FAILED,
    OFFER,
    PENDING,
    REQUEST,
    WORKING,
    Interaction,
)
from wallet.qrimage import QRImageError, decode_qr

CREDENTIAL_TOPIC = "issue_credential_v2_0"
PROOF_TOPIC = "present_proof_v2_0"
MAX_FOLLOW_UP = 30.0  # seconds a scan may wait for offers after a connection
STALE_FACTOR = 3  # a decision "working" for 3 exchange timeouts was cut off


def scan(
    ctx: WalletContext,
    account: Account,
    *,
    text: str | None = None,
    image: bytes | None = None,
    wait: float | None = None,
    tx_code: str | None = None,
    formats: tuple[str, ...] | None = None,
) -> list[Interaction]:
    """Scan a QR code (its text, or a picture of it); the interactions it brought. An
    OpenID4VCI offer is received at once (its PIN, ``tx_code``, is the user's consent)."""
    if image is not None:
        try:
            text = decode_qr(image)
        except QRImageError as exc:
            raise DomainError(ProblemType.BAD_QR_CODE, str(exc)) from None
    if text and oid4vp.is_openid4vp(text):
        return oid4vp.answer_into_wallet(ctx, account, text)
    if text and oid4vci.is_offer_link(text):
        return oid4vci.receive_into_wallet(
            ctx, account, text, tx_code=tx_code, formats=formats or oid4vci.FORMATS
        )
    invitation = resolve(text or "", fetcher=ctx.links)
    attached = invitation.attachments()
    if interactions.thread_seen(ctx, account, [a.thread_id for a in attached]):
        raise DomainError(
            ProblemType.INVITATION_USED,
            "this wallet already scanned this QR code; ask for a new one",
            title="QR code already used",
        )
    holder = accounts.holder(ctx, account)
    since = holder.mark()
    try:
        received = holder.call(lambda client: client.receive_invitation(invitation.message))
    except DomainError as problem:
        if problem.slug != "agent-refused":
            raise
        raise DomainError(
            ProblemType.INVITATION_REFUSED,
            f"the wallet cannot use this invitation: {problem.detail}",
        ) from None
    if attached:
        found = []
        for item in attached:
            found.append(_await_attached(ctx, account, holder, invitation, item, since))
        return found
    return _await_connection(ctx, account, holder, invitation, received, since, wait)


def _await_attached(
    ctx: WalletContext,
    account: Account,
    holder: Holder,
    invitation: ScannedInvitation,
    item: Attached,
    since: int,
) -> Interaction:
    """The offer or request attached to a connectionless invitation, once the agent holds it."""
    inbound = INBOUND[item.kind]
    records = holder.wait_for_new(
        lambda: holder.call(lambda c: inbound.waiting(c, thread_id=item.thread_id)),
        lambda e: e.topic == inbound.topic and e.payload.get("thread_id") == item.thread_id,
        timeout=ctx.scan_timeout,
        since=since,
    )
    if not records:
        raise _no_message(inbound.what, ctx.scan_timeout)
    record_id = records[0][inbound.record_key]
    existing = interactions.find_by_record(ctx, account, item.kind, record_id)
    if existing is not None:  # a sync got there first
        return existing
    return inbound.interaction(ctx, account, holder, record_id, invitation.label)


def _no_message(what: str, timeout: float) -> DomainError:
    return DomainError(
        ProblemType.EXCHANGE_TIMEOUT,
        f"the invitation promised a {what}, but none arrived within {timeout:.0f} s",
        title="Nothing arrived",
    )


def _await_connection(
    ctx: WalletContext,
    account: Account,
    holder: Holder,
    invitation: ScannedInvitation,
    received: dict[str, Any],
    since: int,
    wait: float | None,
) -> list[Interaction]:
    """A connection invitation: wait until the connection is up, then (bounded) for what the
    other side sends over it first."""
    connection_id = received.get("connection_id")
    if not connection_id:
        raise DomainError(
            ProblemType.INVITATION_REFUSED,
            "the wallet agent made no connection from this invitation",
        )
    holder.wait_for_record(
        "connections",
        "connection_id",
        connection_id,
        {"active", "completed", "response"},
        timeout=ctx.scan_timeout,
        since=since,
    )
    connection = interactions.record(
        ctx,
        account,
        kind=CONNECTION,
        record_id=connection_id,
        thread_id=invitation.msg_id,
        counterparty=invitation.label,
        counterparty_did=None,
        request={"invitation": invitation.message.get("@id")},
        state=DONE,
    )
    follow_up = min(ctx.scan_timeout if wait is None else max(wait, 0.0), MAX_FOLLOW_UP)

    def arrived() -> list[Interaction]:
        sync(ctx, account)
        with ctx.factory() as session:
            return list(
                session.scalars(
                    select(Interaction).where(
                        Interaction.user_id == account.id,
                        Interaction.kind.in_((OFFER, REQUEST)),
                        Interaction.request["connection_id"].as_string() == connection_id,
                    )
                ).all()
            )

    found = holder.wait_for_new(
        arrived,
        lambda e: (
            e.topic in (CREDENTIAL_TOPIC, PROOF_TOPIC)
            and e.payload.get("connection_id") == connection_id
        ),
        timeout=follow_up,
        since=since,
    )
    return found or [connection]


def sync(ctx: WalletContext, account: Account) -> None:
    """Record every offer and proof request the agent holds for this wallet and the wallet
    has not seen yet, and settle decisions a stopped service left half done."""
    holder = accounts.holder(ctx, account)
    recover(ctx, account, holder)
    labels: dict[str, str | None] = {}
    for kind, inbound in INBOUND.items():
        for record in holder.call(inbound.waiting):
            record_id = record[inbound.record_key]
            if interactions.find_by_record(ctx, account, kind, record_id) is None:
                label = _label(holder, record.get("connection_id"), labels)
                inbound.interaction(ctx, account, holder, record_id, label)


def recover(ctx: WalletContext, account: Account, holder: Holder) -> None:
    """A decision still ``working`` long after any wait of this service would have ended was
    cut off (the service stopped mid-exchange): the agent's record says how far it got."""
    cutoff = utcnow() - timedelta(seconds=STALE_FACTOR * ctx.exchange_timeout)
    with ctx.factory() as session:
        stale = session.scalars(
            select(Interaction).where(
                Interaction.user_id == account.id,
                Interaction.state == WORKING,
                Interaction.updated_at < cutoff,
            )
        ).all()
    for row in stale:
        try:
            if row.kind == OFFER:
                record = holder.call(lambda c, r=row: c.credential_exchange(r.record_id))
                state = (record.get("cred_ex_record") or {}).get("state")
            else:
                state = holder.call(lambda c, r=row: c.presentation_exchange(r.record_id))["state"]
        except DomainError:
            state = None  # the agent no longer has the record
        if state in ("offer-received", "request-received"):
            interactions.finish(ctx, row, PENDING, detail="interrupted; decide again")
        elif state in ("done", "presentation-sent"):
            interactions.finish(ctx, row, DONE, detail="completed while interrupted")
        else:
            interactions.finish(ctx, row, FAILED, detail=f"interrupted (exchange {state})")


def _label(holder: Holder, connection_id: str | None, cache: dict[str, str | None]) -> str | None:
    if not connection_id:
        return None
    if connection_id not in cache:
        connection = holder.call(lambda c: c.connection(connection_id))
        cache[connection_id] = connection.get("their_label")
    return cache[connection_id]


def offer_interaction(
    ctx: WalletContext, account: Account, holder: Holder, cred_ex_id: str, label: str | None
) -> Interaction:
    full = holder.call(lambda c: c.credential_exchange(cred_ex_id))
    record = full.get("cred_ex_record") or {}
    by_format = (record.get("by_format") or {}).get("cred_offer") or {}
    offer = by_format.get("ld_proof") or (full.get("ld_proof") or {})
    credential = offer.get("credential") if isinstance(offer, dict) else None
    if not isinstance(credential, dict):
        # Not a JSON-LD credential (e.g. AnonCreds): say so in the history, and refuse it.
        reason = "this wallet takes JSON-LD (ld_proof) credentials only"
        common = _exchange(OFFER, cred_ex_id, record, label)
        row = interactions.record(ctx, account, **common, request={}, state=FAILED, detail=reason)
        _quietly(lambda: holder.call(lambda c: c.credential_problem_report(cred_ex_id, reason)))
        return row
    issuer = credential.get("issuer")
    issuer = issuer.get("id") if isinstance(issuer, dict) else issuer
    return interactions.record(
        ctx,
        account,
        **_exchange(OFFER, cred_ex_id, record, label, str(issuer) if issuer else None),
        request={
            "credential": credential,
            "options": offer.get("options") or {},
            "comment": ((record.get("cred_offer") or {}).get("comment")) or None,
            "connection_id": record.get("connection_id"),
        },
    )


def request_interaction(
    ctx: WalletContext, account: Account, holder: Holder, pres_ex_id: str, label: str | None
) -> Interaction:
    record = holder.call(lambda c: c.presentation_exchange(pres_ex_id))
    dif = ((record.get("by_format") or {}).get("pres_request") or {}).get("dif")
    definition = dif.get("presentation_definition") if isinstance(dif, dict) else None
    common = _exchange(REQUEST, pres_ex_id, record, label)
    if not isinstance(definition, dict):
        reason = "this wallet answers DIF Presentation Exchange requests only"
        row = interactions.record(ctx, account, **common, request={}, state=FAILED, detail=reason)
        _refuse(holder, pres_ex_id, reason)
        return row
    row = interactions.record(
        ctx,
        account,
        **common,
        request={
            "definition": definition,
            "options": dif.get("options") or {},
            "comment": (record.get("pres_request") or {}).get("comment"),
            "connection_id": record.get("connection_id"),
        },
    )
    if row.state != PENDING:
        return row
    try:
        found = matching.candidates(definition, stored_credentials(holder))
        missing = matching.unsatisfied(definition, found)
    except DomainError as problem:  # a definition the wallet cannot evaluate
        missing, reason = None, problem.detail or problem.title
    else:
        reason = "no credential in the wallet satisfies: " + ", ".join(missing or [])
    if missing == []:
        return row
    interactions.claim(ctx, row, REQUEST)
    _refuse(holder, pres_ex_id, reason)
    return interactions.finish(ctx, row, FAILED, detail=reason)


def _exchange(
    kind: str, record_id: str, record: dict[str, Any], label: str | None, did: str | None = None
) -> dict[str, Any]:
    """The fields of :func:`interactions.record` that name the interaction of an exchange."""
    return {
        "kind": kind,
        "record_id": record_id,
        "thread_id": record.get("thread_id"),
        "counterparty": label,
        "counterparty_did": did,
    }


def stored_credentials(holder: Holder) -> list[dict[str, Any]]:
    return holder.call(lambda c: c.w3c_credentials())


def _refuse(holder: Holder, pres_ex_id: str, reason: str) -> None:
    """Tell the verifier (problem report), so its login page fails at once instead of waiting."""
    _quietly(lambda: holder.call(lambda c: c.presentation_problem_report(pres_ex_id, reason)))


def _quietly(action) -> None:
    # Best effort: the decision is recorded either way, and an agent that cannot deliver the
    # report (e.g. ACA-Py refuses connectionless credential problem reports) must not undo it.
    with contextlib.suppress(DomainError):
        action()


@dataclass(frozen=True)
class Inbound:
    """What reaches the wallet in one kind of exchange: the agent's records still waiting for a
    decision, their webhook topic and id member, and the interaction each becomes."""

    what: str  # as the user reads it
    topic: str
    record_key: str
    waiting: Callable[..., list[dict[str, Any]]]  # (client, *, thread_id=None) -> records
    # Records a new one (the caller checked that the wallet has not seen it).
    interaction: Callable[[WalletContext, Account, Holder, str, str | None], Interaction]


INBOUND = {
    OFFER: Inbound(
        "credential offer",
        CREDENTIAL_TOPIC,
        "cred_ex_id",
        lambda client, **kw: client.holder_offers(**kw),
        offer_interaction,
    ),
    REQUEST: Inbound(
        "proof request",
        PROOF_TOPIC,
        "pres_ex_id",
        lambda client, **kw: client.presentation_requests(**kw),
        request_interaction,
    ),
}


def wait_for_exchange(
    holder: Holder, row: Interaction, states: set[str], *, timeout: float, since: int
) -> None:
    """Until the agent's record of an offer or a proof request reaches one of ``states``."""
    inbound = INBOUND[row.kind]
    holder.wait_for_record(
        inbound.topic,
        inbound.record_key,
        row.record_id,
        states,
        timeout=timeout,
        thread_id=row.thread_id,
        since=since,
    )
