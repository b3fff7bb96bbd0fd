"""Revoke, suspend and reinstate status entries; each change is committed before it returns.

Transitions (anything else is a 409 problem that names the current status):

- ``revoke``: active or suspended -> revoked. Final: nothing leaves ``revoked``.
- ``suspend``: active -> suspended, only for an entry on a ``suspension`` list.
- ``reinstate``: suspended -> active.
- an abandoned entry (an exchange that never completed) takes no status change: its bit is set
  for good already.

A credential carries one status entry (ACA-Py 1.7 holders accept a single ``credentialStatus``
object over DIDComm), so a suspendable credential (attorney, software certification) carries only
its ``suspension`` entry. Revoking it is a *permanent suspension*: the bit on the suspension list is
set, the entry is recorded as ``revoked`` (final: ``reinstate`` is refused), and a verifier reading
the list sees the credential as suspended — it stops working at once and never works again. Our
own API and history say ``revoked``. A credential on a ``revocation`` list cannot be suspended.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from revocation import feed, store
from revocation.store import EntryRef

ACTIONS = ("revoke", "suspend", "reinstate")
MAX_REASON = 1000
MAX_ACTOR = 200


@dataclass(frozen=True)
class StatusChanged:
    """What a committed change did; ``seq`` is its number in the change feed."""

    entry_id: int
    list_id: str
    index: int
    status: str
    seq: int


def change_status(
    factory: sessionmaker[Session], entry: EntryRef, action: str, *, reason: str, actor: str
) -> StatusChanged:
    """Apply ``action`` to the entry (by id, or by (list id, index)) and commit it."""
    _check_request(action, reason, actor)
    with transaction(factory) as session:
        # The feed lock first: concurrent changes to one entry then see each other's result.
        seq = feed.next_seq(session)
        row = store.find_entry(session, entry, for_update=True)
        status_list = store.find_list(session, row.list_id)
        row.status = next_status(row.state, row.status, status_list.purpose, action)
        row.updated_at = utcnow()
        store.add_event(
            session,
            row.id,
            action,
            reason=reason.strip(),
            actor=actor,
            state=row.state,
            status=row.status,
        )
        feed.record_change(session, seq, status_list, row)
        changed = StatusChanged(row.id, row.list_id, row.list_index, row.status, seq)
    return changed


def require_action(action: str) -> None:
    if action not in ACTIONS:
        raise DomainError(
            ProblemType.UNKNOWN_ACTION,
            f"the action must be one of {', '.join(ACTIONS)}",
            title="Unknown status action",
        )


def next_status(state: str, status: str, purpose: str, action: str) -> str:
    """The status after ``action``, or a problem saying why the transition is not allowed."""
    require_action(action)
    if state == "abandoned":
        raise _conflict(
            "entry-abandoned",
            "Status entry abandoned",
            status,
            "the exchange never completed; its bit is set for good",
        )
    if status == "revoked":
        raise _conflict(
            "revocation-is-final",
            "Revocation is final",
            status,
            "a revoked credential stays revoked",
        )
    if action == "revoke":
        return "revoked"
    if action == "suspend":
        if purpose != "suspension":
            raise _conflict(
                "not-suspendable",
                "Not suspendable",
                status,
                "the entry is on a revocation list; only revoke applies",
            )
        if status == "suspended":
            raise _conflict("already-suspended", "Already suspended", status)
        return "suspended"
    if status != "suspended":
        raise _conflict("not-suspended", "Not suspended", status, "only a suspension is lifted")
    return "active"


def _conflict(slug: str, title: str, status: str, detail: str | None = None) -> DomainError:
    return DomainError(slug, detail, title=title, current_status=status)


def _check_request(action: str, reason: object, actor: object) -> None:
    require_action(action)
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        raise DomainError(
            ProblemType.INVALID_REASON,
            f"give the reason as a non-empty string of at most {MAX_REASON} characters",
        )
    if not isinstance(actor, str) or not actor or len(actor) > MAX_ACTOR:
        raise DomainError(ProblemType.INVALID_ACTOR, "name who makes the change")
