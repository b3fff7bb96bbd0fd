"""The wallet's record of what was asked of it and what the user decided (its history).

An interaction is created when an offer or a proof request reaches the wallet, claimed
(``pending`` -> ``working``) by one decision at a time, and closed as done, declined or failed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.models import OFFER, PENDING, REQUEST, WORKING, Interaction

HISTORY_LIMIT = 200
#: What a decision on the other kind of interaction is told (an offer is not a proof request).
WRONG_KIND_TITLES = {OFFER: "Not an offer", REQUEST: "Not a proof request"}


def to_dict(row: Interaction) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "state": row.state,
        "thread_id": row.thread_id,  # the DIDComm thread: the other side knows it too
        "counterparty": row.counterparty,
        "counterparty_did": row.counterparty_did,
        "request": row.request,
        "outcome": row.outcome,
        "detail": row.detail,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def find_by_record(ctx: WalletContext, account: Account, kind: str, record_id: str):
    with ctx.factory() as session:
        return session.scalar(
            select(Interaction).where(
                Interaction.user_id == account.id,
                Interaction.kind == kind,
                Interaction.record_id == record_id,
            )
        )


def thread_seen(ctx: WalletContext, account: Account, thread_ids: list[str]) -> bool:
    """Whether this wallet already handled a message of one of these DIDComm threads."""
    if not thread_ids:
        return False
    with ctx.factory() as session:
        return (
            session.scalar(
                select(Interaction.id)
                .where(Interaction.user_id == account.id, Interaction.thread_id.in_(thread_ids))
                .limit(1)
            )
            is not None
        )


def record(
    ctx: WalletContext,
    account: Account,
    *,
    kind: str,
    record_id: str,
    thread_id: str | None,
    counterparty: str | None,
    counterparty_did: str | None,
    request: dict[str, Any],
    state: str = PENDING,
    detail: str | None = None,
) -> Interaction:
    """The interaction for this agent record, created once (a second call returns the first)."""
    existing = find_by_record(ctx, account, kind, record_id)
    if existing is not None:
        return existing
    try:
        with transaction(ctx.factory) as session:
            row = Interaction(
                id=uuid4().hex,
                user_id=account.id,
                kind=kind,
                record_id=record_id,
                thread_id=thread_id,
                state=state,
                counterparty=counterparty,
                counterparty_did=counterparty_did,
                request=request,
                outcome={},
                detail=detail,
            )
            session.add(row)
            session.flush()
            return row
    except IntegrityError:  # recorded by a concurrent scan or sync
        return find_by_record(ctx, account, kind, record_id)


def get(ctx: WalletContext, account: Account, interaction_id: str) -> Interaction:
    with ctx.factory() as session:
        row = session.scalar(
            select(Interaction).where(
                Interaction.id == interaction_id, Interaction.user_id == account.id
            )
        )
    if row is None:
        raise DomainError(ProblemType.INTERACTION_NOT_FOUND, "no such offer or request")
    return row


def get_kind(ctx: WalletContext, account: Account, interaction_id: str, kind: str) -> Interaction:
    """:func:`get`, which must be of ``kind`` (the offer to accept, the request to answer)."""
    row = get(ctx, account, interaction_id)
    require_kind(row, kind)
    return row


def require_kind(row: Interaction, kind: str) -> None:
    if row.kind != kind:
        raise DomainError(
            ProblemType.WRONG_INTERACTION,
            f"this is a {row.kind}, not a {kind}",
            title=WRONG_KIND_TITLES.get(kind),
        )


def claim(ctx: WalletContext, row: Interaction, expected_kind: str) -> None:
    """Take a pending interaction for one decision; a problem if it is not pending any more."""
    require_kind(row, expected_kind)
    with transaction(ctx.factory) as session:
        claimed = session.execute(
            update(Interaction)
            .where(Interaction.id == row.id, Interaction.state == PENDING)
            .values(state=WORKING, updated_at=utcnow())
        ).rowcount
    if claimed != 1:
        raise DomainError(ProblemType.INTERACTION_CLOSED, f"this {row.kind} was already answered")


def finish(
    ctx: WalletContext,
    row: Interaction,
    state: str,
    *,
    detail: str | None = None,
    outcome: dict[str, Any] | None = None,
) -> Interaction:
    with transaction(ctx.factory) as session:
        current = session.get(Interaction, row.id)
        current.state = state
        current.detail = detail[:2000] if detail else None
        if outcome is not None:
            current.outcome = outcome
        current.updated_at = utcnow()
        session.flush()
        return current


def history(
    ctx: WalletContext,
    account: Account,
    *,
    pending_only: bool = False,
    since: datetime | None = None,
) -> list[Interaction]:
    query = select(Interaction).where(Interaction.user_id == account.id)
    if pending_only:
        query = query.where(Interaction.state == PENDING)
    if since is not None:
        query = query.where(Interaction.created_at >= since)
    query = query.order_by(Interaction.created_at.desc()).limit(HISTORY_LIMIT)
    with ctx.factory() as session:
        return list(session.scalars(query).all())
