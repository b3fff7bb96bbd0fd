"""Reading status entries for the operator API: an entry with its list and full history."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from revocation import store
from revocation.allocation import StatusAllocation
from revocation.models import StatusEntry, StatusList
from revocation.store import EntryRef


def entry_record(factory: sessionmaker[Session], ref: EntryRef) -> dict[str, Any]:
    with factory() as session:
        entry = store.find_entry(session, ref)
        return describe(session, entry, with_history=True)


def search_entries(
    factory: sessionmaker[Session],
    *,
    credential_id: str | None = None,
    list_id: str | None = None,
    index: int | None = None,
) -> list[dict[str, Any]]:
    with factory() as session:
        found = store.find_entries(
            session, credential_id=credential_id, list_id=list_id, index=index
        )
        return [describe(session, entry, with_history=False) for entry in found]


def admin_entries(factory: sessionmaker[Session], text: str | None) -> list[dict[str, Any]]:
    """What the admin page lists: the newest entries, or those matching ``text``."""
    with factory() as session:
        found = store.search_entries(session, text)
        return [describe(session, entry, with_history=False) for entry in found]


def describe(session: Session, entry: StatusEntry, *, with_history: bool) -> dict[str, Any]:
    status_list: StatusList = store.find_list(session, entry.list_id)
    allocation = StatusAllocation.of(status_list, entry.id, entry.list_index)
    record: dict[str, Any] = {
        "id": entry.id,
        "credential_id": entry.credential_id,
        "exchange_id": entry.exchange_id,
        "issuer": status_list.issuer_did,
        "list_id": status_list.id,
        "index": entry.list_index,
        "purpose": status_list.purpose,
        "model": status_list.model,
        "state": entry.state,
        "status": entry.status,
        "final": entry.status == "revoked" or entry.state == "abandoned",
        "credentialStatus": allocation.credential_status(),
        "created_at": entry.created_at.isoformat(),
        "updated_at": entry.updated_at.isoformat(),
    }
    if with_history:
        record["history"] = [
            {
                "action": event.action,
                "reason": event.reason,
                "actor": event.actor,
                "state": event.state,
                "status": event.status,
                "at": event.at.isoformat(),
            }
            for event in store.history(session, entry.id)
        ]
    return record
