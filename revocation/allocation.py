"""Status-list indices for credentials being issued: allocate, then mark issued or abandoned.

Everything here runs in the caller's session and transaction, so the issuance record and its
index commit or roll back together. Keep that transaction short (record + allocate, commit, then
run the DIDComm exchange, then mark issued or abandoned in a second one): on PostgreSQL a
concurrent writer that collides with an uncommitted index or list waits for it.

Indices are drawn at random (``secrets``), so an index says nothing about when or to whom a
credential was issued. The unique (list, index) constraint guarantees that no index is given
twice, also across workers; a collision is retried with another index, and a list where random
draws keep colliding is treated as full and the next list is opened. An index reserved for an
exchange that never completed is marked ``abandoned`` and its bit is set (the credential may have
escaped half-way; it must not verify) — it is never given to another credential. A reservation
left behind by a crash is found by :func:`stale_reservations` and ended the same way.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from credgate.db import utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from revocation import feed, store
from revocation.models import MODELS, PURPOSES, StatusEntry, StatusList
from verifier.status import MODEL_ENTRY_TYPES

#: Random draws per list before it counts as full (at 50 % occupancy a false "full" is 1 in 65,536).
ATTEMPTS_PER_LIST = 16
#: Lists opened per call before giving up (only reachable if something is badly wrong).
MAX_LISTS_PER_CALL = 4

SYSTEM_ACTOR = "system"


@dataclass(frozen=True)
class StatusAllocation:
    entry_id: int
    list_id: str
    index: int
    purpose: str
    model: str
    list_url: str

    @classmethod
    def of(cls, status_list: StatusList, entry_id: int, index: int) -> StatusAllocation:
        """The entry ``entry_id``, at ``index`` of ``status_list``."""
        return cls(
            entry_id=entry_id,
            list_id=status_list.id,
            index=index,
            purpose=status_list.purpose,
            model=status_list.model,
            list_url=status_list.url,
        )

    def credential_status(self) -> dict:
        """The ``credentialStatus`` object: a StatusList2021Entry or a BitstringStatusListEntry."""
        return {
            "id": f"{self.list_url}#{self.index}",
            "type": MODEL_ENTRY_TYPES[self.model],
            "statusPurpose": self.purpose,
            "statusListIndex": str(self.index),
            "statusListCredential": self.list_url,
        }


def allocate(
    session: Session,
    *,
    issuer_did: str,
    purpose: str,
    model: str,
    credential_id: str,
    status_base_url: str,
    exchange_id: str | None = None,
) -> StatusAllocation:
    """Reserve a random free index for ``credential_id`` in the caller's transaction."""
    _check_allocation(issuer_did, purpose, model, credential_id, status_base_url, exchange_id)
    base_url = status_base_url.rstrip("/")
    status_list = store.current_list(session, issuer_did, purpose, model, base_url)
    for _ in range(MAX_LISTS_PER_CALL):
        for _ in range(ATTEMPTS_PER_LIST):
            index = _random_index(status_list.size)
            entry_id = store.claim_index(session, status_list.id, index, credential_id, exchange_id)
            if entry_id is not None:
                reason = f"exchange {exchange_id}" if exchange_id else "allocated"
                store.add_event(
                    session,
                    entry_id,
                    "reserve",
                    reason=reason,
                    actor=SYSTEM_ACTOR,
                    state="reserved",
                    status="active",
                )
                return StatusAllocation.of(status_list, entry_id, index)
        status_list = store.next_list(session, status_list)
    raise DomainError(
        ProblemType.STATUS_LIST_EXHAUSTED,
        f"no free index found in {MAX_LISTS_PER_CALL} status lists of {issuer_did}",
    )


def mark_issued(session: Session, entry_id: int) -> None:
    """The credential holding the entry was delivered (idempotent)."""
    _settle(session, entry_id, "issued", "issue", "credential delivered")


def mark_abandoned(session: Session, entry_id: int, reason: str) -> None:
    """The exchange never completed: set the entry's bit for good and keep the index used."""
    if not isinstance(reason, str) or not reason.strip():
        raise DomainError(ProblemType.INVALID_REASON, "give the reason as a string")
    # Changes the published list: take the feed lock before reading the entry (see feed).
    seq = feed.next_seq(session)
    entry = _settle(session, entry_id, "abandoned", "abandon", reason.strip())
    if entry is not None:
        feed.record_change(session, seq, store.find_list(session, entry.list_id), entry)


#: The final states of a reserved entry, each with what refuses it when the entry already
#: ended the other way (for good: a set bit is never cleared, a delivered credential stays).
_FINAL = {
    "issued": (
        ProblemType.ENTRY_ABANDONED,
        "entry {} was abandoned; its bit is set and the credential will not verify",
    ),
    "abandoned": (
        ProblemType.ENTRY_ISSUED,
        "entry {} belongs to an issued credential: revoke it instead",
    ),
}


def _settle(
    session: Session, entry_id: int, state: str, action: str, reason: str
) -> StatusEntry | None:
    """Move a reserved entry to its final ``state`` with an event; None if it was there already
    (idempotent), a problem if it ended the other way."""
    entry = store.find_entry(session, entry_id, for_update=True)
    if entry.state == state:
        return None
    if entry.state in _FINAL:  # it ended the other way
        problem, detail = _FINAL[state]
        raise DomainError(problem, detail.format(entry_id))
    entry.state = state
    entry.updated_at = utcnow()
    store.add_event(
        session,
        entry.id,
        action,
        reason=reason,
        actor=SYSTEM_ACTOR,
        state=entry.state,
        status=entry.status,
    )
    return entry


def stale_reservations(session: Session, *, before: datetime, limit: int = 200) -> list[int]:
    """Entries reserved before ``before`` and neither issued nor abandoned since."""
    query = (
        select(StatusEntry.id)
        .where(StatusEntry.state == "reserved", StatusEntry.created_at <= before)
        .order_by(StatusEntry.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def abandon_reservation(session: Session, entry_id: int, reason: str) -> bool:
    """Abandon an entry if it is still reserved. One issued a moment ago raises ``entry-issued``
    (roll the transaction back: the feed sequence number it took must not be committed)."""
    if store.find_entry(session, entry_id).state != "reserved":
        return False
    mark_abandoned(session, entry_id, reason)
    return True


def _random_index(size: int) -> int:
    return secrets.randbelow(size)


def _check_allocation(
    issuer_did: Any,
    purpose: Any,
    model: Any,
    credential_id: Any,
    status_base_url: Any,
    exchange_id: Any,
) -> None:
    if purpose not in PURPOSES:
        raise DomainError(
            ProblemType.UNKNOWN_STATUS_PURPOSE,
            f"statusPurpose must be one of {', '.join(PURPOSES)}",
        )
    if model not in MODELS:
        raise DomainError(
            ProblemType.UNKNOWN_STATUS_MODEL,
            f"the status list model must be one of {', '.join(MODELS)}",
        )
    if not _is_did(issuer_did):
        raise DomainError(ProblemType.INVALID_ISSUER, "the issuer must be a DID")
    if not isinstance(credential_id, str) or not 0 < len(credential_id) <= 500:
        raise DomainError(
            ProblemType.INVALID_CREDENTIAL_ID,
            "the credential id must be a string of 1 to 500 characters",
        )
    if exchange_id is not None and (not isinstance(exchange_id, str) or len(exchange_id) > 200):
        raise DomainError(
            ProblemType.INVALID_EXCHANGE_ID,
            "the exchange id must be a string of at most 200 characters",
        )
    if not _is_base_url(status_base_url):
        raise DomainError(
            ProblemType.INVALID_STATUS_BASE_URL,
            "the status base URL must be an http(s) URL without query or fragment",
        )


def _is_did(value: Any) -> bool:
    return (
        isinstance(value, str)
        and value.startswith("did:")
        and len(value) <= 500
        and not any(c.isspace() for c in value)
    )


def _is_base_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 400 or any(c.isspace() for c in value):
        return False
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and not (parts.query or parts.fragment)
    )
