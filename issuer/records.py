"""Issuance records: written with their status index, moved through their states, read back.

State changes are conditional updates (``... WHERE state IN (...)``), so that the webhook workers,
the sweeper and a second issuer process can race on one record and exactly one of them wins.
The status entry follows in the same transaction: a record becomes ``issued`` together with its
entry, and ``abandoned`` together with its entry's abandonment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from credgate.db import utcnow, where_given
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import status
from issuer.credentials import check_schema
from issuer.models import ABANDONED, ISSUED, ISSUING, OFFERED, IssuedCredential
from issuer.vcdm import issuer_id, subject_id

# An issued credential as an operator reads it, by whether the holder acknowledged it.
DELIVERED = "delivered"
NOT_ACKNOWLEDGED = "issued, not acknowledged"


def delivery(record: IssuedCredential) -> str:
    """The record's state as an operator reads it: an issued DIDComm credential the holder never
    acknowledged is not "delivered" (the agent signed it; no wallet confirmed having it)."""
    if record.state != ISSUED:
        return record.state
    if record.channel == "didcomm" and not record.acknowledged:
        return NOT_ACKNOWLEDGED
    return DELIVERED  # acknowledged, or VC-API: returned in the response


def reserve(
    session: Session,
    credential: dict[str, Any],
    *,
    type_name: str | None,
    workflow: str,
    channel: str,
    actor: str,
    status_base_url: str,
    exchange_id: str | None = None,
    late_subject: bool = False,
    embed_status: bool = True,
    proof_type: str | None = None,
) -> IssuedCredential:
    """Allocate the status entry, check the final credential and record it as ``offered``.

    Runs in the caller's transaction: when the check fails the index goes back with the rollback.
    ``embed_status=False`` (a VC-API credential that asked for no status): the record still owns
    an index, so that every record has one, but the credential does not carry it.
    """
    issuer_did = issuer_id(credential) or ""
    allocation = status.attach_status(
        session,
        credential if embed_status else dict(credential),
        type_name=type_name,
        issuer_did=issuer_did,
        status_base_url=status_base_url,
        exchange_id=exchange_id,
    )
    if type_name is not None:
        check_schema(credential, placeholders=late_subject)
    record = IssuedCredential(
        id=str(uuid4()),
        credential_id=credential["id"],
        exchange_id=exchange_id,
        type=type_name or _last_type(credential),
        issuer_did=issuer_did,
        subject_id=subject_id(credential),
        late_subject=late_subject,
        proof_type=proof_type,
        workflow=workflow,
        channel=channel,
        actor=actor,
        state=OFFERED,
        status_entry_id=allocation.entry_id,
        status_purpose=allocation.purpose,
        status_list_url=allocation.list_url,
        status_index=allocation.index,
        credential=credential,
    )
    session.add(record)
    try:
        session.flush()  # the unique credential id is checked here, inside the transaction
    except IntegrityError:
        raise DomainError(
            ProblemType.CREDENTIAL_EXISTS,
            f"a credential with id {credential['id']!r} was already issued; ids are unique",
        ) from None
    return record


def _last_type(credential: Mapping[str, Any]) -> str:
    types = credential.get("type")
    return (types[-1] if isinstance(types, list) and types else str(types))[:100]


def move(
    session: Session, record_id: str, from_states: Iterable[str], to_state: str, **values: Any
) -> bool:
    """Move the record to ``to_state`` if it is in one of ``from_states``; True if this call did."""
    result = session.execute(
        update(IssuedCredential)
        .where(IssuedCredential.id == record_id, IssuedCredential.state.in_(tuple(from_states)))
        .values(state=to_state, updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def deliver(session: Session, record: IssuedCredential, **values: Any) -> bool:
    """The credential was signed and sent: the record and its status entry become issued."""
    if not move(session, record.id, (OFFERED, ISSUING), ISSUED, issued_at=utcnow(), **values):
        return False
    status.mark_issued(session, record.status_entry_id)
    return True


def abandon(
    session: Session, record: IssuedCredential, reason: str, *, from_states=(OFFERED,)
) -> bool:
    """Give up on an unissued credential; its index is marked abandoned and never reused."""
    if not move(session, record.id, from_states, ABANDONED, reason=reason[:2000]):
        return False
    status.mark_abandoned(session, record.status_entry_id, reason[:500])
    return True


def by_thread(session: Session, thread_id: str) -> IssuedCredential | None:
    return session.scalar(select(IssuedCredential).where(IssuedCredential.thread_id == thread_id))


def of_exchange(session: Session, exchange_id: str) -> list[IssuedCredential]:
    query = select(IssuedCredential).where(IssuedCredential.exchange_id == exchange_id)
    return list(session.scalars(query.order_by(IssuedCredential.created_at, IssuedCredential.id)))


def find(
    session: Session,
    *,
    type_name: str | None = None,
    subject: str | None = None,
    state: str | None = None,
    workflow: str | None = None,
    limit: int = 100,
) -> list[IssuedCredential]:
    query = where_given(  # an empty parameter is no filter either
        select(IssuedCredential),
        type=type_name or None,
        subject_id=subject or None,
        state=state or None,
        workflow=workflow or None,
    )
    query = query.order_by(IssuedCredential.created_at.desc(), IssuedCredential.id).limit(limit)
    return list(session.scalars(query))


def describe(record: IssuedCredential) -> dict[str, Any]:
    return {
        "id": record.id,
        "credential_id": record.credential_id,
        "type": record.type,
        "issuer": record.issuer_did,
        "subject": record.subject_id,
        "workflow": record.workflow,
        "channel": record.channel,
        "actor": record.actor,
        "state": record.state,
        "reason": record.reason,
        "acknowledged": record.acknowledged,
        "delivery": delivery(record),
        "proofType": record.proof_type,  # a DIDComm offer's choice; null: the default suite
        "exchange_id": record.exchange_id,
        "credentialStatus": record.credential.get("credentialStatus"),
        "status_entry_id": record.status_entry_id,
        "created_at": record.created_at.isoformat(),
        "issued_at": record.issued_at.isoformat() if record.issued_at else None,
    }
