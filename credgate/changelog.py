"""A numbered change log in the database, and waiting on it: how a follower learns, in order and
at once, which of the things it caches have changed.

Revocation (status lists) and KCIT (the trust facts of DIDs) each keep one, in two tables of their
own: a head row (one row, ``id`` 1, holding ``last``, the last sequence number handed out, see
:class:`HeadRow`) and their changes (``seq``, ``at`` and what changed, see :class:`ChangeRow`). This
module is everything else.

Writing: take :meth:`ChangeLog.next_seq` first thing in the transaction, before reading what the
change depends on. It increments the head row, whose row lock is held until commit, so changes
commit in sequence order and a reader that has seen number n never later finds a smaller one
(numbers may have gaps, never late arrivals). :class:`ChangeWriter` does this for a transaction
that records one or several changes. Waiters are told when, and only if, the transaction commits,
through :mod:`credgate.notify`: in this process, and on PostgreSQL in every process and node by
``LISTEN/NOTIFY``.

Reading: :meth:`ChangeLog.changes_after` reads the head first and then the changes up to it, and
says which number to ask after next time; :meth:`ChangeLog.wait_for_changes` long-polls on top of
it, woken by the notification. Waiters also re-read every :attr:`ChangeLog.poll` seconds without a
notification listener (SQLite: another process's commit) and every :data:`SAFETY_POLL` seconds with
one, so a lost notification delays a change, never hides it. :mod:`credgate.changefeed` serves a
log over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from credgate.db import WrittenAt
from credgate.notify import Listener, notifier_for, signal
from credgate.signals import Signal

__all__ = [
    "MAX_CHANGES",
    "ChangeLog",
    "ChangeRow",
    "ChangeWriter",
    "FeedChange",
    "HeadRow",
]

HEAD_ID = 1  # the head row's id
MAX_CHANGES = 1000  # per answer; a follower far behind pages through with ``after``
POLL = 0.5  # no notification from other processes (SQLite): re-read this often
SAFETY_POLL = 5.0  # PostgreSQL with a live LISTEN: re-read only as a safety net


class HeadRow:
    """Mixin of a log's head table: the one row (``id`` 1) with the last number handed out."""

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class ChangeRow:
    """Mixin of a log's change table: the change's number (``seq``, handed out by
    :meth:`ChangeLog.next_seq`, never by the database; the first column) and when it was written
    (``at``, after the log's own columns). Each log adds what changed."""

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, sort_order=-1)
    at: Mapped[WrittenAt]


class FeedChange(Protocol):
    """One change as a follower receives it."""

    @property
    def seq(self) -> int: ...

    def to_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, kw_only=True)
class ChangeLog[C: FeedChange]:
    """One change log: its channel, its head table and how its changes are read."""

    channel: str
    head_table: type[HeadRow]
    seq: Any  # the change table's sequence-number column
    changes: Callable[[], Select[Any]]  # the change columns (joins allowed; no filter, no order)
    change: Callable[..., C]  # a FeedChange of one row's columns, in order
    poll: float = POLL

    # -- writing ----------------------------------------------------------------------------------

    def next_seq(self, session: Session) -> int:
        """The next sequence number; the head row stays locked until the transaction ends."""
        head = self.head_table
        statement = (
            update(head)
            .where(head.id == HEAD_ID)
            .values(last=head.last + 1)
            .returning(head.last)
            .execution_options(synchronize_session=False)
        )
        seq = session.execute(statement).scalar_one_or_none()
        if seq is None:  # the migration inserts the row; a schema built otherwise gets it here
            session.add(head(id=HEAD_ID, last=1))
            session.flush()
            seq = 1
        return seq

    def announce(self, session: Session) -> None:
        """Wake this log's waiters everywhere when (and only if) ``session`` commits."""
        notifier_for(session.get_bind()).publish(self.channel, session)

    # -- reading ----------------------------------------------------------------------------------

    def head(self, session: Session) -> int:
        """The last number handed out (0 before the first change)."""
        head = self.head_table
        return session.scalar(select(head.last).where(head.id == HEAD_ID)) or 0

    def changes_after(
        self, session: Session, after: int, limit: int = MAX_CHANGES
    ) -> tuple[list[C], int]:
        """Changes with ``seq > after`` in order, and the ``seq`` to ask after next time."""
        # The head first: every change up to it has committed, so the query below sees them all.
        last = self.head(session)
        query = (
            self.changes().where(self.seq > after, self.seq <= last).order_by(self.seq).limit(limit)
        )
        found = [self.change(*row) for row in session.execute(query)]
        if found:
            return found, found[-1].seq
        # Nothing newer: ``last`` moves the follower up to the head (past gaps), or back to it
        # when it is ahead of this database (e.g. it was rebuilt).
        return [], last

    def wait_for_changes(
        self, factory: sessionmaker[Session], after: int, timeout: float, limit: int = MAX_CHANGES
    ) -> tuple[list[C], int]:
        """Like :meth:`changes_after`, but waits up to ``timeout`` seconds for a change."""
        deadline = time.monotonic() + max(0.0, timeout)
        notifier = notifier_for(factory)
        while True:
            seen = notifier.generation(self.channel)  # before reading: a later commit wakes us
            with factory() as session:
                found, last = self.changes_after(session, after, limit)
            remaining = deadline - time.monotonic()
            if found or last < after or remaining <= 0:
                return found, last
            poll = SAFETY_POLL if notifier.listening else self.poll
            notifier.wait(self.channel, seen, min(remaining, poll))

    # -- waking waiters ---------------------------------------------------------------------------

    @property
    def signal(self) -> Signal:
        """This process's waiters on the log (poked at every commit that recorded a change)."""
        return signal(self.channel)

    def listen(self, factory: sessionmaker[Session]) -> Listener | None:
        """The running notification listener of ``factory``'s database (started on demand),
        None off PostgreSQL."""
        return notifier_for(factory).listen()


class ChangeWriter:
    """The changes of one transaction. Opening it takes the head row's lock (so open it first);
    each change gets its own number; the log's waiters are told once, at commit."""

    def __init__(self, log: ChangeLog[Any], session: Session) -> None:
        self.log = log
        self.session = session
        self._reserved: int | None = log.next_seq(session)
        self._announced = False

    def add(self, change: ChangeRow) -> int:
        """Store ``change`` (a row of the log's change table) under the next number; returns it."""
        seq, self._reserved = self._reserved, None
        if seq is None:
            seq = self.log.next_seq(self.session)
        change.seq = seq
        self.session.add(change)
        if not self._announced:
            self._announced = True
            self.log.announce(self.session)
        return seq
