"""The change-log component, through KCIT's log (the simplest of the two that use it): numbering,
notification at commit, resume semantics (gaps, a follower ahead of the database, paging) and the
bounded long poll. Revocation's feed tests cover the HTTP side (long poll, Server-Sent Events).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from uuid import uuid4

import pytest

from credgate.changelog import ChangeWriter
from credgate.db import transaction
from kcit import feed
from kcit.models import KcitChange

# KCIT's log on a channel of this module's own: on PostgreSQL a late NOTIFY from another test's
# commit (LISTEN is per database) would otherwise wake the signal once more than these tests count.
LOG = dataclasses.replace(feed.LOG, channel=f"kcit_changes_test_{uuid4().hex[:12]}")

pytestmark = pytest.mark.db


def did() -> str:
    return f"did:example:{uuid4().hex}"


def head(db) -> int:
    with db() as session:
        return LOG.head(session)


def record(db, *dids: str) -> list[int]:
    with transaction(db) as session:
        writer = ChangeWriter(LOG, session)
        return [writer.add(KcitChange(did=d, status="active")) for d in dids]


def test_a_transaction_numbers_its_changes_in_order_and_wakes_waiters_once_at_commit(db):
    before, dids = head(db), [did(), did(), did()]
    seen = LOG.signal.generation
    with transaction(db) as session:
        writer = ChangeWriter(LOG, session)
        seqs = [writer.add(KcitChange(did=d, status="active")) for d in dids]
        assert LOG.signal.generation == seen  # not before the commit
    assert LOG.signal.generation == seen + 1
    assert seqs == [before + 1, before + 2, before + 3]
    with db() as session:
        changes, last = LOG.changes_after(session, before)
    assert [(c.seq, c.did) for c in changes] == list(zip(seqs, dids, strict=True))
    assert last == seqs[-1]


def test_a_rolled_back_change_is_neither_numbered_nor_announced(db):
    before = head(db)
    seen = LOG.signal.generation
    with pytest.raises(RuntimeError), transaction(db) as session:
        ChangeWriter(LOG, session).add(KcitChange(did=did(), status="active"))
        raise RuntimeError("abandon")
    assert LOG.signal.generation == seen
    assert head(db) == before


def test_a_follower_is_moved_past_gaps_and_back_from_beyond_the_head(db):
    with transaction(db) as session:
        ChangeWriter(LOG, session)  # takes a number, records nothing: a gap
    gap = head(db)
    with db() as session:
        assert LOG.changes_after(session, gap - 1) == ([], gap)
        assert LOG.changes_after(session, gap + 1000) == ([], gap)


def test_a_follower_far_behind_pages_through(db):
    before = head(db)
    seqs = record(db, did(), did(), did())
    with db() as session:
        first, after = LOG.changes_after(session, before, limit=2)
        rest, last = LOG.changes_after(session, after, limit=2)
    assert [c.seq for c in first] == seqs[:2] and after == seqs[1]
    assert [c.seq for c in rest] == seqs[2:] and last == seqs[2]


def test_a_long_poll_returns_when_another_thread_commits_and_is_bounded_otherwise(db):
    before = head(db)
    began = time.monotonic()
    assert LOG.wait_for_changes(db, before, 0.3) == ([], before)
    assert 0.25 < time.monotonic() - began < 2.0

    subject = did()
    threading.Timer(0.3, record, (db, subject)).start()
    began = time.monotonic()
    changes, _last = LOG.wait_for_changes(db, before, 10)
    assert [c.did for c in changes] == [subject]
    assert time.monotonic() - began < 1.5
