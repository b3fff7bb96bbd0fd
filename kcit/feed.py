"""KCIT's change feed: a numbered log of changes to what verifiers cache (a DID's company status,
its accreditations, its company's powers), on :mod:`credgate.changelog` like revocation's.

Writers open a :class:`ChangeWriter` first in their transaction (it takes the head row's lock, which
orders the commits) and record each DID the change touches. Readers long-poll
:func:`wait_for_changes` (``GET /kcit/changes``), woken at commit (on PostgreSQL in every process
and node); without a notification listener they re-read every :data:`POLL` seconds, which keeps
"suspended in KCIT → refused at the verifier" under a second either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credgate import changelog
from kcit.models import KcitChange, KcitFeedHead

POLL = 0.25  # without cross-process notification (SQLite): re-read this often


@dataclass(frozen=True)
class Change:
    seq: int
    did: str | None
    status: str
    company: str | None

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "did": self.did, "status": self.status, "company": self.company}


LOG = changelog.ChangeLog(
    channel="kcit.changes",
    head_table=KcitFeedHead,
    seq=KcitChange.seq,
    changes=lambda: select(
        KcitChange.seq, KcitChange.did, KcitChange.status, KcitChange.company_id
    ),
    change=Change,
    poll=POLL,
)
head = LOG.head
changes_after = LOG.changes_after
wait_for_changes = LOG.wait_for_changes


class ChangeWriter(changelog.ChangeWriter):
    """The changes of one transaction: open it first; each recorded DID gets its own number."""

    def __init__(self, session: Session) -> None:
        super().__init__(LOG, session)

    def record(self, did: str | None, status: str, company_id: str | None) -> int:
        return self.add(KcitChange(did=did, status=status, company_id=company_id))
