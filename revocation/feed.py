"""The change feed: a numbered, database-backed log of changes to status lists.

Writers call :func:`next_seq` first thing in their transaction and :func:`record_change` before
committing. ``next_seq`` increments the one row of ``status_feed_head``; the row lock it takes is
held until commit, so changes commit in sequence order and a reader that saw ``seq`` n can never
later find a smaller one (sequence numbers may have gaps, never late arrivals). Every worker reads
the same log, so they all agree.

Readers wait (always bounded) on the notification component (:mod:`credgate.notify`): a commit
that recorded a change publishes on :data:`CHANNEL` (at commit, so also for changes made in a
caller's transaction); on PostgreSQL that reaches every process and node through
``LISTEN/NOTIFY``. Waiters also re-read the log every few moments, so a lost notification delays
a change, never hides it.

A change to one entry names it: its ``index`` and ``status`` after the change (``revoked``,
``suspended``, ``abandoned`` — the bit is set — or ``active``). A verifier following the feed
refuses a newly revoked entry at once from that, also while the list cannot be signed again.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.notify import Listener, notifier_for, signal
from revocation.models import StatusChange, StatusEntry, StatusFeedHead, StatusList

LOGGER = logging.getLogger(__name__)

CHANNEL = "credgate_status_changes"
MAX_CHANGES = 1000  # per answer; a client far behind pages through with ``after``
POLL_SQLITE = 0.5  # no cross-process notification: re-read this often
POLL_WITH_LISTENER = 5.0  # PostgreSQL with a live LISTEN: re-read only as a safety net


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


def bit_status(entry: StatusEntry) -> str:
    """What the entry's bit says: ``active`` (clear) or why it is set."""
    return "abandoned" if entry.state == "abandoned" else entry.status


# -- writing -------------------------------------------------------------------------------------


def next_seq(session: Session) -> int:
    """The next sequence number; call it before reading what the change depends on."""
    statement = (
        update(StatusFeedHead)
        .where(StatusFeedHead.id == 1)
        .values(last=StatusFeedHead.last + 1)
        .returning(StatusFeedHead.last)
        .execution_options(synchronize_session=False)
    )
    return session.execute(statement).scalar_one()


def record_change(
    session: Session, seq: int, status_list: StatusList, entry: StatusEntry | None = None
) -> None:
    """Log the change (of ``entry``, as it is now); waiters are woken when (and only if) the
    transaction commits."""
    change = StatusChange(seq=seq, list_id=status_list.id)
    if entry is not None:
        change.list_index, change.status = entry.list_index, bit_status(entry)
    session.add(change)
    status_list.version = seq
    notifier_for(session.get_bind()).publish(CHANNEL, session)


# -- reading -------------------------------------------------------------------------------------


def head(session: Session) -> int:
    return session.scalar(select(StatusFeedHead.last).where(StatusFeedHead.id == 1)) or 0


def changes_after(
    session: Session, after: int, limit: int = MAX_CHANGES
) -> tuple[list[Change], int]:
    """Changes with ``seq > after`` in order, and the ``seq`` to ask after next time."""
    # Read the head first: every change up to it has committed, so the query below sees them all.
    last = head(session)
    query = (
        select(StatusChange.seq, StatusChange.list_id, StatusList.url)
        .add_columns(StatusChange.list_index, StatusChange.status)
        .join(StatusList, StatusList.id == StatusChange.list_id)
        .where(StatusChange.seq > after)
        .order_by(StatusChange.seq)
        .limit(limit)
    )
    changes = [Change(*row) for row in session.execute(query)]
    if changes:
        return changes, changes[-1].seq
    # Nothing newer: ``last`` moves the client up to the head (past gaps), or back to it when
    # the client is ahead of this database (e.g. it was rebuilt).
    return [], last


def wait_for_changes(
    factory: sessionmaker[Session], after: int, timeout: float, limit: int = MAX_CHANGES
) -> tuple[list[Change], int]:
    """Like :func:`changes_after`, but waits up to ``timeout`` seconds for a change."""
    deadline = time.monotonic() + max(0.0, timeout)
    notifier = notifier_for(factory)
    while True:
        seen = notifier.generation(CHANNEL)  # before reading: a poke after the read is not lost
        with factory() as session:
            changes, last = changes_after(session, after, limit)
        remaining = deadline - time.monotonic()
        if changes or last < after or remaining <= 0:
            return changes, last
        poll = POLL_WITH_LISTENER if notifier.listening else POLL_SQLITE
        notifier.wait(CHANNEL, seen, min(remaining, poll))


# -- waking waiters ------------------------------------------------------------------------------


SIGNAL = signal(CHANNEL)  # this process's waiters


def poke() -> None:
    """Wake this process's waiters (after a change has committed)."""
    SIGNAL.poke()


def _listener_for(factory: sessionmaker[Session]) -> Listener | None:
    """The running listener for the factory's database (started on demand), None off PostgreSQL."""
    return notifier_for(factory).listen()
