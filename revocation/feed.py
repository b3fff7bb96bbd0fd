"""The change feed of status lists: a numbered, database-backed log on :mod:`credgate.changelog`.

Writers call :func:`next_seq` first thing in their transaction (it takes the head row's lock, so
changes commit in sequence order) and :func:`record_change` before committing; waiters are woken
when, and only if, the transaction commits (also a caller's), on PostgreSQL in every process and
node. Every worker reads the same log, so they all agree. Followers long-poll
``GET /status/changes`` or stream ``GET /status/changes/stream`` (:mod:`revocation.routes`).

A change to one entry names it: its ``index`` and ``status`` after the change (``revoked``,
``suspended``, ``abandoned`` — the bit is set — or ``active``). A verifier following the feed
refuses a newly revoked entry at once from that, also while the list cannot be signed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credgate.changelog import ChangeLog
from revocation.models import StatusChange, StatusEntry, StatusFeedHead, StatusList


@dataclass(frozen=True)
class Change:
    seq: int
    list_id: str
    url: str
    index: int | None = None
    status: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"seq": self.seq, "list_id": self.list_id, "url": self.url}
        if self.index is not None and self.status is not None:
            body |= {"index": self.index, "status": self.status}
        return body


LOG = ChangeLog(
    channel="credgate_status_changes",
    head_table=StatusFeedHead,
    seq=StatusChange.seq,
    changes=lambda: select(
        StatusChange.seq,
        StatusChange.list_id,
        StatusList.url,
        StatusChange.list_index,
        StatusChange.status,
    ).join(StatusList, StatusList.id == StatusChange.list_id),
    change=Change,
)
CHANNEL = LOG.channel
SIGNAL = LOG.signal  # this process's waiters
next_seq = LOG.next_seq
head = LOG.head
changes_after = LOG.changes_after
wait_for_changes = LOG.wait_for_changes
_listener_for = LOG.listen


def bit_status(entry: StatusEntry) -> str:
    """What the entry's bit says: ``active`` (clear) or why it is set."""
    return "abandoned" if entry.state == "abandoned" else entry.status


def record_change(
    session: Session, seq: int, status_list: StatusList, entry: StatusEntry | None = None
) -> None:
    """Log change ``seq`` (from :func:`next_seq`) of the list, or of ``entry`` as it is now."""
    change = StatusChange(seq=seq, list_id=status_list.id)
    if entry is not None:
        change.list_index, change.status = entry.list_index, bit_status(entry)
    session.add(change)
    status_list.version = seq
    LOG.announce(session)
