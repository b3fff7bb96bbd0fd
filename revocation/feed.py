"""The change feed: a numbered, database-backed log of changes to status lists.

Writers call :func:`next_seq` first thing in their transaction and :func:`record_change` before
committing. ``next_seq`` increments the one row of ``status_feed_head``; the row lock it takes is
held until commit, so changes commit in sequence order and a reader that saw ``seq`` n can never
later find a smaller one (sequence numbers may have gaps, never late arrivals). Every worker reads
the same log, so they all agree.

Readers wait (always bounded) on an in-process signal. A commit that recorded a change pokes
it (a session ``after_commit`` hook, so also for changes made in a caller's transaction); on
PostgreSQL a listener thread per database (``LISTEN``, fed by the ``NOTIFY`` each
change transaction sends at commit) pokes it for changes made by other processes. Waiters also
re-read the log every few moments, so a lost notification delays a change, never hides it.

A change to one entry names it: its ``index`` and ``status`` after the change (``revoked``,
``suspended``, ``abandoned`` — the bit is set — or ``active``). A verifier following the feed
refuses a newly revoked entry at once from that, also while the list cannot be signed again.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from revocation.models import StatusChange, StatusEntry, StatusFeedHead, StatusList

LOGGER = logging.getLogger(__name__)

CHANNEL = "credgate_status_changes"
MAX_CHANGES = 1000  # per answer; a client far behind pages through with ``after``
POLL_SQLITE = 0.5  # no cross-process notification: re-read this often
POLL_WITH_LISTENER = 5.0  # PostgreSQL with a live LISTEN: re-read only as a safety net
LISTENER_IDLE = 60.0  # a listener nobody waited on for this long closes its connection


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
    event.listen(session, "after_commit", _poke_after_commit, once=True)
    if session.get_bind().dialect.name == "postgresql":
        # Other processes: PostgreSQL delivers the notification at commit.
        session.execute(select(func.pg_notify(CHANNEL, str(seq))))


def _poke_after_commit(_session: Session) -> None:
    poke()


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
    listener = _listener_for(factory)
    while True:
        seen = SIGNAL.generation  # before reading: a poke after the read is not lost
        with factory() as session:
            changes, last = changes_after(session, after, limit)
        remaining = deadline - time.monotonic()
        if changes or last < after or remaining <= 0:
            return changes, last
        poll = POLL_WITH_LISTENER if listener and listener.connected else POLL_SQLITE
        SIGNAL.wait(seen, min(remaining, poll))
        if listener is not None:
            listener.touch()


# -- waking waiters ------------------------------------------------------------------------------


class Signal:
    """A generation counter that waiters can block on until it moves."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self.generation = 0

    def poke(self) -> None:
        with self._changed:
            self.generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.generation != seen, timeout)


SIGNAL = Signal()


def poke() -> None:
    """Wake this process's waiters (after a change has committed)."""
    SIGNAL.poke()


class PostgresListener(threading.Thread):
    """``LISTEN`` on one database; pokes :data:`SIGNAL` on every notification.

    Runs while somebody waits, reconnects with back-off, and closes its connection after
    :data:`LISTENER_IDLE` seconds without waiters.
    """

    def __init__(self, key: str, conninfo: str) -> None:
        super().__init__(name="credgate-status-listener", daemon=True)
        self.key = key
        self.conninfo = conninfo
        self.connected = False
        self.stopping = False
        self._last_used = time.monotonic()

    def touch(self) -> None:
        self._last_used = time.monotonic()

    def _idle(self) -> bool:
        return time.monotonic() - self._last_used > LISTENER_IDLE

    def run(self) -> None:
        import psycopg

        backoff = 0.5
        try:
            while not self._idle():
                try:
                    with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=3) as conn:
                        conn.execute(f"LISTEN {CHANNEL}")
                        self.connected = True
                        backoff = 0.5
                        SIGNAL.poke()  # changes made while we were not listening
                        while not self._idle():
                            for _notification in conn.notifies(timeout=1.0):
                                SIGNAL.poke()
                except psycopg.Error as exc:
                    LOGGER.warning("status change listener: %s; retrying", type(exc).__name__)
                    self.connected = False
                    time.sleep(backoff)
                    backoff = min(backoff * 2, 5.0)
        finally:
            self.connected = False
            with _LISTENERS_LOCK:
                self.stopping = True
                if _LISTENERS.get(self.key) is self:
                    del _LISTENERS[self.key]


_LISTENERS: dict[str, PostgresListener] = {}
_LISTENERS_LOCK = threading.Lock()


def _listener_for(factory: sessionmaker[Session]) -> PostgresListener | None:
    """The running listener for the factory's database (started on demand), None off PostgreSQL."""
    engine: Engine = factory.kw["bind"]
    if engine.dialect.name != "postgresql":
        return None
    key = engine.url.render_as_string(hide_password=True)
    with _LISTENERS_LOCK:
        listener = _LISTENERS.get(key)
        if listener is None or listener.stopping:
            conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
            listener = _LISTENERS[key] = PostgresListener(key, conninfo)
            listener.start()
        listener.touch()
    return listener
