"""KCIT's change feed: a numbered log of changes to what verifiers cache (a DID's company status,
its accreditations, its company's powers), in the shape of revocation's feed.

Writers call :class:`ChangeLog` first in their transaction (it increments the one head row, whose
lock orders the commits, so a reader never sees a smaller number arrive late) and record each DID
the change touches. Readers long-poll :func:`wait_for_changes`, woken through
:mod:`credgate.notify` when a change commits (on PostgreSQL in every process and node, by
``LISTEN/NOTIFY``); without a listener they re-read every :data:`POLL` seconds, which keeps
"suspended in KCIT → refused at the verifier" under a second either way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.notify import notifier_for, signal
from kcit.models import KcitChange, KcitFeedHead

MAX_CHANGES = 1000
POLL = 0.25  # no cross-process notification (SQLite): re-read this often
SAFETY = 5.0  # PostgreSQL with a live LISTEN: re-read only as a safety net


@dataclass(frozen=True)
class Change:
    seq: int
    did: str | None
    status: str
    company: str | None

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "did": self.did, "status": self.status, "company": self.company}


CHANNEL = "kcit.changes"
SIGNAL = signal(CHANNEL)  # this process's waiters


def next_seq(session: Session) -> int:
    statement = (
        update(KcitFeedHead)
        .where(KcitFeedHead.id == 1)
        .values(last=KcitFeedHead.last + 1)
        .returning(KcitFeedHead.last)
        .execution_options(synchronize_session=False)
    )
    seq = session.execute(statement).scalar_one_or_none()
    if seq is None:  # the migration inserts the row; a schema built otherwise gets it here
        session.add(KcitFeedHead(id=1, last=1))
        session.flush()
        seq = 1
    return seq


class ChangeLog:
    """The changes of one transaction. Opening it takes the head row's lock (do it first);
    each recorded DID gets its own sequence number."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._reserved: int | None = next_seq(session)
        self._published = False

    def record(self, did: str | None, status: str, company_id: str | None) -> int:
        seq, self._reserved = self._reserved, None
        if seq is None:
            seq = next_seq(self.session)
        self.session.add(KcitChange(seq=seq, did=did, status=status, company_id=company_id))
        if not self._published:  # once per transaction: every node's waiters, at commit
            self._published = True
            notifier_for(self.session.get_bind()).publish(CHANNEL, self.session)
        return seq


def head(session: Session) -> int:
    return session.scalar(select(KcitFeedHead.last).where(KcitFeedHead.id == 1)) or 0


def changes_after(
    session: Session, after: int, limit: int = MAX_CHANGES
) -> tuple[list[Change], int]:
    last = head(session)  # first: every change up to it has committed
    rows = session.execute(
        select(KcitChange.seq, KcitChange.did, KcitChange.status, KcitChange.company_id)
        .where(KcitChange.seq > after, KcitChange.seq <= last)
        .order_by(KcitChange.seq)
        .limit(limit)
    )
    changes = [Change(*row) for row in rows]
    if changes:
        return changes, changes[-1].seq
    return [], last


def wait_for_changes(
    factory: sessionmaker[Session], after: int, timeout: float
) -> tuple[list[Change], int]:
    deadline = time.monotonic() + max(0.0, timeout)
    notifier = notifier_for(factory)
    while True:
        seen = notifier.generation(CHANNEL)
        with factory() as session:
            changes, last = changes_after(session, after)
        remaining = deadline - time.monotonic()
        if changes or last < after or remaining <= 0:
            return changes, last
        notifier.wait(CHANNEL, seen, min(remaining, POLL if not notifier.listening else SAFETY))
