"""Revoke, suspend and reinstate: transitions, history, durability and the change feed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.orm import sessionmaker

from credgate import problems
from credgate.db import transaction
from credgate.errors import DomainError
from revocation import feed, store
from revocation.allocation import StatusAllocation, mark_abandoned, mark_issued
from revocation.models import StatusEntry
from revocation.status import change_status, next_status
from tests.support.status_entries import live_entry, reserved_entry

pytestmark = pytest.mark.db

BASE = "http://127.0.0.1:8702"


def issued(db, purpose: str = "revocation", model: str = "StatusList2021") -> StatusAllocation:
    return live_entry(db, BASE, purpose=purpose, model=model)


def change(db, got: StatusAllocation, action: str, reason: str = "because", actor: str = "op"):
    return change_status(db, got.entry_id, action, reason=reason, actor=actor)


def problem_of(db, got, action) -> problems.Problem:
    """The problem document the refused change answers with."""
    with pytest.raises(DomainError) as err:
        change(db, got, action)
    return problems.problem_of(err.value)


def bits(db, got) -> list[int]:
    with db() as session:
        return store.set_indices(session, got.list_id)


def test_revocation_is_final(db):
    got = issued(db)
    changed = change(db, got, "revoke", reason="key compromised", actor="token:operator")
    assert (changed.entry_id, changed.index, changed.status) == (got.entry_id, got.index, "revoked")
    assert bits(db, got) == [got.index]

    for action, slug in [
        ("revoke", "revocation-is-final"),
        ("reinstate", "revocation-is-final"),
        ("suspend", "revocation-is-final"),
    ]:
        problem = problem_of(db, got, action)
        assert (problem.slug, problem.status) == (slug, 409)
        assert problem.to_dict()["current_status"] == "revoked"
    assert bits(db, got) == [got.index]


def test_an_entry_on_a_revocation_list_cannot_be_suspended(db):
    got = issued(db)
    problem = problem_of(db, got, "suspend")
    assert (problem.slug, problem.status) == ("not-suspendable", 409)
    assert problem_of(db, got, "reinstate").slug == "not-suspended"
    assert bits(db, got) == []


@pytest.mark.parametrize("model", ["StatusList2021", "BitstringStatusList"])
def test_suspend_and_reinstate_flip_the_bit_and_keep_the_history(db, model):
    got = issued(db, "suspension", model)
    change(db, got, "suspend", reason="employee on leave", actor="token:operator")
    assert bits(db, got) == [got.index]
    assert problem_of(db, got, "suspend").slug == "already-suspended"
    change(db, got, "reinstate", reason="back from leave", actor="token:operator")
    assert bits(db, got) == []
    assert problem_of(db, got, "reinstate").slug == "not-suspended"

    with db() as session:
        history = store.history(session, got.entry_id)
    assert [(e.action, e.status, e.reason, e.actor) for e in history] == [
        ("reserve", "active", "allocated", "system"),
        ("issue", "active", "credential delivered", "system"),
        ("suspend", "suspended", "employee on leave", "token:operator"),
        ("reinstate", "active", "back from leave", "token:operator"),
    ]
    assert all(e.at.tzinfo is not None for e in history)
    assert [e.at for e in history] == sorted(e.at for e in history)


def test_revoking_a_suspension_entry_is_a_permanent_suspension(db):
    got = issued(db, "suspension")
    change(db, got, "suspend")
    change(db, got, "revoke", reason="mandate withdrawn")
    assert bits(db, got) == [got.index]  # verifiers keep seeing it suspended ...
    problem = problem_of(db, got, "reinstate")  # ... for good
    assert (problem.slug, problem.status) == ("revocation-is-final", 409)
    with db() as session:
        assert session.get(StatusEntry, got.entry_id).status == "revoked"

    straight = issued(db, "suspension")  # revoking an active suspension entry works too
    assert change(db, straight, "revoke").status == "revoked"
    assert bits(db, straight) == [straight.index]


def test_an_entry_can_be_named_by_list_and_index(db):
    got = issued(db)
    changed = change_status(db, (got.list_id, got.index), "revoke", reason="r", actor="a")
    assert changed.entry_id == got.entry_id
    with pytest.raises(DomainError) as err:
        change_status(db, (got.list_id, (got.index + 1) % 131_072), "revoke", reason="r", actor="a")
    assert err.value.slug == "unknown-entry"


def test_a_reserved_entry_can_be_revoked_before_delivery(db):
    got = reserved_entry(db, BASE, credential_id="urn:uuid:in-flight")
    change(db, got, "revoke", reason="offer sent to the wrong person")
    with transaction(db) as session:
        mark_issued(session, got.entry_id)  # the exchange completes later: still revoked
    with db() as session:
        entry = session.get(StatusEntry, got.entry_id)
        assert (entry.state, entry.status) == ("issued", "revoked")


def test_an_abandoned_entry_takes_no_status_change(db):
    got = issued(db)
    got_abandoned = reserved_entry(
        db, BASE, purpose="suspension", credential_id="urn:uuid:abandoned"
    )
    with transaction(db) as session:
        mark_abandoned(session, got_abandoned.entry_id, "problem report from the holder")
    for action in ("revoke", "suspend", "reinstate"):
        assert problem_of(db, got_abandoned, action).slug == "entry-abandoned"
    assert got.entry_id != got_abandoned.entry_id


@pytest.mark.parametrize(
    ("action", "reason", "actor", "slug", "status"),
    [
        ("delete", "r", "a", "unknown-action", 404),
        ("Revoke", "r", "a", "unknown-action", 404),
        ("revoke", "", "a", "invalid-reason", 400),
        ("revoke", "   ", "a", "invalid-reason", 400),
        ("revoke", None, "a", "invalid-reason", 400),
        ("revoke", 42, "a", "invalid-reason", 400),
        ("revoke", "x" * 1001, "a", "invalid-reason", 400),
        ("revoke", "r", "", "invalid-actor", 400),
    ],
)
def test_bad_change_requests_are_problems_and_change_nothing(
    db, action, reason, actor, slug, status
):
    got = issued(db)
    with db() as session:
        before = feed.head(session)
    with pytest.raises(DomainError) as err:
        change_status(db, got.entry_id, action, reason=reason, actor=actor)
    assert (err.value.slug, problems.problem_of(err.value).status) == (slug, status)
    with db() as session:
        assert feed.head(session) == before
        assert session.get(StatusEntry, got.entry_id).status == "active"


@pytest.mark.parametrize("ref", [10**6, 0, -1, 2**40, ("0" * 32, 5)])
def test_unknown_entries_are_404_problems(db, ref):
    with pytest.raises(DomainError) as err:
        change_status(db, ref, "revoke", reason="r", actor="a")
    assert (err.value.slug, problems.problem_of(err.value).status) == ("unknown-entry", 404)


def test_a_change_is_committed_before_it_returns(db, engine):
    got = issued(db)
    change(db, got, "revoke")
    # A separate connection pool sees it at once: nothing waits in a session or a buffer.
    fresh = sessionmaker(engine.execution_options())
    with fresh() as session:
        assert session.get(StatusEntry, got.entry_id).status == "revoked"


def test_every_change_is_in_the_feed_in_commit_order(db):
    lists = [issued(db, "suspension") for _ in range(8)]
    with db() as session:
        before = feed.head(session)
    barrier = threading.Barrier(8)

    def flip(got: StatusAllocation) -> list[int]:
        barrier.wait(timeout=10)
        return [change(db, got, a).seq for a in ("suspend", "reinstate", "suspend", "revoke")]

    with ThreadPoolExecutor(max_workers=8) as pool:
        seqs = [s for result in pool.map(flip, lists) for s in result]

    assert len(set(seqs)) == 32 and min(seqs) > before
    with db() as session:
        changes, last = feed.changes_after(session, before)
    mine = [c for c in changes if c.seq in set(seqs)]
    assert [c.seq for c in mine] == sorted(seqs)
    assert last >= max(seqs)
    by_seq = {c.seq: c.list_id for c in mine}
    for got in lists:
        with db() as session:
            assert store.find_list(session, got.list_id).version == max(
                s for s, list_id in by_seq.items() if list_id == got.list_id
            )


def test_transition_rules_as_a_table():
    allowed = {
        ("active", "revocation", "revoke"): "revoked",
        ("active", "suspension", "revoke"): "revoked",
        ("suspended", "suspension", "revoke"): "revoked",
        ("active", "suspension", "suspend"): "suspended",
        ("suspended", "suspension", "reinstate"): "active",
    }
    for status in ("active", "suspended", "revoked"):
        for purpose in ("revocation", "suspension"):
            if (status, purpose) == ("suspended", "revocation"):
                continue  # unreachable: nothing is suspended on a revocation list
            for action in ("revoke", "suspend", "reinstate"):
                key = (status, purpose, action)
                if key in allowed:
                    assert next_status("issued", status, purpose, action) == allowed[key]
                else:
                    with pytest.raises(DomainError) as err:
                        next_status("issued", status, purpose, action)
                    assert problems.problem_of(err.value).status == 409, key
