"""Database access of the revocation service: lists, entries and their history.

Inserts that may collide with a concurrent writer use ``INSERT ... ON CONFLICT DO NOTHING
RETURNING``: a collision yields no row instead of an exception, so it never aborts the caller's
transaction (PostgreSQL would refuse every later statement after a failed INSERT), and no savepoint
is needed (pysqlite's savepoints commit early when they open the transaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from uuid import uuid4

from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import utcnow, where_given
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from revocation.models import LIST_SIZE, MAX_INTEGER, StatusEntry, StatusEvent, StatusList

#: An entry named by its id, or by (list id, index) as a credential's status entry names it.
EntryRef = int | tuple[str, int]


def dialect_insert(session: Session, table: Table):
    """``INSERT`` with ``ON CONFLICT`` support for the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"credgate's revocation service does not support {dialect}")


# -- lists ---------------------------------------------------------------------------------------


def current_list(
    session: Session, issuer_did: str, purpose: str, model: str, base_url: str
) -> StatusList:
    """The newest list for the key, created (as number 1) if there is none yet."""
    found = _newest_list(session, issuer_did, purpose, model, base_url)
    if found is not None:
        return found
    _create_list(session, issuer_did, purpose, model, base_url, seq=1)
    return _newest_list(session, issuer_did, purpose, model, base_url)


def next_list(session: Session, full: StatusList) -> StatusList:
    """The list after ``full`` (created unless another writer already did)."""
    key = (full.issuer_did, full.purpose, full.model, full.base_url)
    _create_list(session, *key, seq=full.seq + 1)
    return _newest_list(session, *key)


def _newest_list(
    session: Session, issuer_did: str, purpose: str, model: str, base_url: str
) -> StatusList | None:
    query = (
        select(StatusList)
        .where(
            StatusList.issuer_did == issuer_did,
            StatusList.purpose == purpose,
            StatusList.model == model,
            StatusList.base_url == base_url,
        )
        .order_by(StatusList.seq.desc())
        .limit(1)
    )
    return session.scalar(query)


def _create_list(
    session: Session, issuer_did: str, purpose: str, model: str, base_url: str, *, seq: int
) -> None:
    list_id = uuid4().hex
    values = {
        "id": list_id,
        "issuer_did": issuer_did,
        "purpose": purpose,
        "model": model,
        "base_url": base_url,
        "seq": seq,
        "url": f"{base_url}/status/{list_id}",
        "size": LIST_SIZE,
        "version": 0,
        "created_at": utcnow(),
    }
    # A concurrent writer that created the same (key, seq) first wins; we then use its list.
    statement = dialect_insert(session, StatusList.__table__).values(values)
    session.execute(statement.on_conflict_do_nothing())


def find_list(session: Session, list_id: str) -> StatusList | None:
    return session.get(StatusList, list_id)


def set_indices(session: Session, list_id: str) -> list[int]:
    """Indices whose bit is set: revoked, suspended, or abandoned (never known to be safe)."""
    query = select(StatusEntry.list_index).where(
        StatusEntry.list_id == list_id,
        or_(StatusEntry.status != "active", StatusEntry.state == "abandoned"),
    )
    return list(session.scalars(query))


# -- entries -------------------------------------------------------------------------------------


def claim_index(
    session: Session, list_id: str, index: int, credential_id: str, exchange_id: str | None
) -> int | None:
    """Reserve ``index`` of the list; the new entry's id, or None if the index is taken."""
    now = utcnow()
    values = {
        "list_id": list_id,
        "list_index": index,
        "credential_id": credential_id,
        "exchange_id": exchange_id,
        "state": "reserved",
        "status": "active",
        "created_at": now,
        "updated_at": now,
    }
    table = StatusEntry.__table__
    statement = (
        dialect_insert(session, table).values(values).on_conflict_do_nothing().returning(table.c.id)
    )
    return session.execute(statement).scalar_one_or_none()


def find_entry(session: Session, ref: EntryRef, *, for_update: bool = False) -> StatusEntry:
    """The entry ``ref`` names; a 404 problem if there is none."""
    number = ref[1] if isinstance(ref, tuple) else ref
    if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number <= MAX_INTEGER:
        raise DomainError(ProblemType.UNKNOWN_ENTRY, f"no status entry {ref!r}")
    if isinstance(ref, tuple):
        list_id, index = ref
        query = select(StatusEntry).where(
            StatusEntry.list_id == list_id, StatusEntry.list_index == index
        )
    else:
        query = select(StatusEntry).where(StatusEntry.id == ref)
    if for_update:
        # PostgreSQL locks the row; SQLite ignores it (its writers are serialized anyway).
        query = query.with_for_update()
    entry = session.scalar(query.execution_options(populate_existing=True))
    if entry is None:
        raise DomainError(ProblemType.UNKNOWN_ENTRY, f"no status entry {ref!r}")
    return entry


def find_entries(
    session: Session,
    *,
    credential_id: str | None = None,
    list_id: str | None = None,
    index: int | None = None,
    limit: int = 100,
) -> list[StatusEntry]:
    query = where_given(
        select(StatusEntry), credential_id=credential_id, list_id=list_id, list_index=index
    )
    return list(session.scalars(query.order_by(StatusEntry.id).limit(limit)))


def search_entries(session: Session, text: str | None, limit: int = 50) -> list[StatusEntry]:
    """The newest entries, or those whose credential id, list id or issuer DID is ``text``."""
    query = (
        select(StatusEntry)
        .join(StatusList, StatusList.id == StatusEntry.list_id)
        .order_by(StatusEntry.id.desc())
        .limit(limit)
    )
    if text:
        query = query.where(
            or_(
                StatusEntry.credential_id == text,
                StatusEntry.list_id == text,
                StatusList.issuer_did == text,
            )
        )
    return list(session.scalars(query))


def add_event(
    session: Session,
    entry_id: int,
    action: str,
    *,
    reason: str,
    actor: str,
    state: str,
    status: str,
) -> None:
    session.add(
        StatusEvent(
            entry_id=entry_id,
            action=action,
            reason=reason,
            actor=actor,
            state=state,
            status=status,
            at=utcnow(),
        )
    )


def history(session: Session, entry_id: int) -> list[StatusEvent]:
    query = select(StatusEvent).where(StatusEvent.entry_id == entry_id).order_by(StatusEvent.id)
    return list(session.scalars(query))


def entry_status(
    session: Session, status: Any, credential_id: Any, issuer: str | None = None
) -> str | None:
    """The status of a credential's ``credentialStatus`` entry read from our own tables, for
    services on the same database that must not wait for a published list (None if the entry
    is not one of ours for this credential).

    The entry counts only if we allocated it to ``credential_id`` (and, given ``issuer``, on a
    list of that issuer): anyone can copy the entry of an active credential into a forgery."""
    if not isinstance(status, Mapping) or not isinstance(credential_id, str):
        return None
    url, index = status.get("statusListCredential"), status.get("statusListIndex")
    if (
        not isinstance(url, str)
        or not isinstance(index, str)
        or not (index.isascii() and index.isdigit())
        or len(index) > 12
    ):
        return None
    query = (
        select(StatusEntry.status)
        .join(StatusList, StatusList.id == StatusEntry.list_id)
        .where(
            StatusList.url == url,
            StatusEntry.list_index == int(index),
            StatusEntry.credential_id == credential_id,
        )
    )
    if issuer is not None:
        query = query.where(StatusList.issuer_did == issuer)
    return session.scalar(query)


def status_reader(
    factory: sessionmaker[Session],
) -> Callable[[Any, Any, str | None], str | None]:
    """:func:`entry_status` in a session of its own, for callers that hold no session."""

    def read(status: Any, credential_id: Any, issuer: str | None = None) -> str | None:
        with factory() as session:
            return entry_status(session, status, credential_id, issuer)

    return read
