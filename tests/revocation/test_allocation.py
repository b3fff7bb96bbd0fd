"""Status index allocation: random, unique, in the caller's transaction; issued and abandoned.

Runs on SQLite and, in CI, on PostgreSQL (``-m db``): the 200 concurrent allocations are the
acceptance test for "no index given twice, none lost".
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from credgate import problems
from credgate.db import transaction
from credgate.errors import DomainError
from revocation import allocation, feed, store
from revocation.allocation import StatusAllocation, allocate, mark_abandoned, mark_issued
from revocation.models import LIST_SIZE, StatusEntry, StatusEvent, StatusList
from tests.support.status_entries import reserved_entry

pytestmark = pytest.mark.db

BASE = "http://127.0.0.1:8702"


def new_did() -> str:
    return f"did:example:{uuid4().hex}"


def _allocate(db, did, *, status_base_url=BASE, **options) -> StatusAllocation:
    return reserved_entry(db, status_base_url, issuer_did=did, **options)


@pytest.mark.parametrize(
    ("purpose", "model", "entry_type"),
    [
        ("revocation", "StatusList2021", "StatusList2021Entry"),
        ("suspension", "StatusList2021", "StatusList2021Entry"),
        ("revocation", "BitstringStatusList", "BitstringStatusListEntry"),
        ("suspension", "BitstringStatusList", "BitstringStatusListEntry"),
    ],
)
def test_allocation_gives_a_status_entry_for_the_credential(db, purpose, model, entry_type):
    did = new_did()
    got = _allocate(db, did, purpose=purpose, model=model, exchange_id="ex-1")

    assert got.purpose == purpose and got.model == model
    assert 0 <= got.index < LIST_SIZE
    assert got.list_url == f"{BASE}/status/{got.list_id}"
    assert got.credential_status() == {
        "id": f"{got.list_url}#{got.index}",
        "type": entry_type,
        "statusPurpose": purpose,
        "statusListIndex": str(got.index),
        "statusListCredential": got.list_url,
    }
    with db() as session:
        entry = session.get(StatusEntry, got.entry_id)
        assert (entry.list_id, entry.list_index) == (got.list_id, got.index)
        assert (entry.state, entry.status, entry.exchange_id) == ("reserved", "active", "ex-1")
        status_list = session.get(StatusList, got.list_id)
        assert (status_list.issuer_did, status_list.size) == (did, LIST_SIZE)
        [event] = store.history(session, got.entry_id)
        assert (event.action, event.actor, event.reason) == ("reserve", "system", "exchange ex-1")


def test_one_list_per_issuer_purpose_and_model(db):
    did = new_did()
    first = _allocate(db, did)
    assert _allocate(db, did).list_id == first.list_id
    assert _allocate(db, did, status_base_url=BASE + "/").list_id == first.list_id
    others = {
        _allocate(db, did, purpose="suspension").list_id,
        _allocate(db, did, model="BitstringStatusList").list_id,
        _allocate(db, new_did()).list_id,
        _allocate(db, did, status_base_url="https://status.example").list_id,
    }
    assert first.list_id not in others and len(others) == 4


def test_allocation_rolls_back_with_the_callers_transaction(db):
    did = new_did()
    with pytest.raises(RuntimeError), transaction(db) as session:
        got = allocate(
            session,
            issuer_did=did,
            purpose="revocation",
            model="StatusList2021",
            credential_id="urn:uuid:rolled-back",
            status_base_url=BASE,
        )
        raise RuntimeError("the issuance failed")
    with db() as session:
        assert session.get(StatusEntry, got.entry_id) is None
        assert store.find_entries(session, credential_id="urn:uuid:rolled-back") == []


def test_200_concurrent_allocations_get_200_distinct_indices(db):
    did = new_did()
    barrier = threading.Barrier(8)

    def one(n: int) -> StatusAllocation:
        if n < 8:
            barrier.wait(timeout=10)  # the first eight race for the list's creation too
        return _allocate(db, did, credential_id=f"urn:concurrent:{n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        allocations = list(pool.map(one, range(200)))

    assert len({(a.list_id, a.index) for a in allocations}) == 200
    assert len({a.entry_id for a in allocations}) == 200
    assert len({a.list_id for a in allocations}) == 1
    with db() as session:
        count = session.scalar(
            select(func.count())
            .select_from(StatusEntry)
            .where(StatusEntry.list_id == allocations[0].list_id)
        )
        assert count == 200
        events = session.scalar(
            select(func.count())
            .select_from(StatusEvent)
            .where(StatusEvent.entry_id.in_([a.entry_id for a in allocations]))
        )
        assert events == 200


def test_a_taken_index_is_never_given_again(db, monkeypatch):
    did = new_did()
    first = _allocate(db, did)
    draws = iter([first.index, first.index, (first.index + 1) % LIST_SIZE])
    monkeypatch.setattr(allocation, "_random_index", lambda size: next(draws))

    second = _allocate(db, did)
    assert (second.list_id, second.index) == (first.list_id, (first.index + 1) % LIST_SIZE)


def test_an_abandoned_index_is_not_reused_and_its_bit_is_set(db, monkeypatch):
    did = new_did()
    abandoned = _allocate(db, did, exchange_id="ex-timeout")
    with transaction(db) as session:
        mark_abandoned(session, abandoned.entry_id, "exchange timed out")

    draws = iter([abandoned.index] * 3 + [(abandoned.index + 7) % LIST_SIZE])
    monkeypatch.setattr(allocation, "_random_index", lambda size: next(draws))
    fresh = _allocate(db, did)
    assert fresh.index != abandoned.index and fresh.list_id == abandoned.list_id

    with db() as session:
        entry = session.get(StatusEntry, abandoned.entry_id)
        assert entry.state == "abandoned"
        assert store.set_indices(session, abandoned.list_id) == [abandoned.index]
        assert [e.action for e in store.history(session, entry.id)] == ["reserve", "abandon"]
        assert store.history(session, entry.id)[-1].reason == "exchange timed out"


def test_a_list_where_draws_keep_colliding_is_full_and_the_next_one_opens(db, monkeypatch):
    did = new_did()
    first = _allocate(db, did)
    monkeypatch.setattr(allocation, "_random_index", lambda size: first.index)

    second = _allocate(db, did)
    assert second.list_id != first.list_id and second.index == first.index
    with db() as session:
        lists = session.scalars(
            select(StatusList).where(StatusList.issuer_did == did).order_by(StatusList.seq)
        ).all()
        assert [(sl.id, sl.seq) for sl in lists] == [(first.list_id, 1), (second.list_id, 2)]
    # New allocations go to the newest list.
    monkeypatch.setattr(allocation, "_random_index", lambda size: (first.index + 1) % size)
    assert _allocate(db, did).list_id == second.list_id


def test_exhaustion_is_a_problem_not_a_loop(db, monkeypatch):
    did = new_did()
    taken = _allocate(db, did).index
    # Every draw collides and only one list may be tried: the call gives up with a problem.
    monkeypatch.setattr(allocation, "_random_index", lambda size: taken)
    monkeypatch.setattr(allocation, "MAX_LISTS_PER_CALL", 1)
    with pytest.raises(DomainError) as err:
        _allocate(db, did)
    answer = problems.problem_of(err.value)
    assert (answer.slug, answer.status) == ("status-list-exhausted", 503)


def test_mark_issued_is_idempotent_and_recorded(db):
    got = _allocate(db, new_did())
    for _ in range(2):
        with transaction(db) as session:
            mark_issued(session, got.entry_id)
    with db() as session:
        assert session.get(StatusEntry, got.entry_id).state == "issued"
        actions = [e.action for e in store.history(session, got.entry_id)]
        assert actions == ["reserve", "issue"]
        # Issuing changes no bit.
        assert store.set_indices(session, got.list_id) == []


def test_an_issued_entry_cannot_be_abandoned_nor_an_abandoned_one_issued(db):
    issued = _allocate(db, new_did())
    with transaction(db) as session:
        mark_issued(session, issued.entry_id)
    with pytest.raises(DomainError) as err, transaction(db) as session:
        mark_abandoned(session, issued.entry_id, "late time-out")
    assert (err.value.slug, problems.problem_of(err.value).status) == ("entry-issued", 409)

    abandoned = _allocate(db, new_did())
    for _ in range(2):  # abandoning twice is harmless
        with transaction(db) as session:
            mark_abandoned(session, abandoned.entry_id, "problem report")
    with pytest.raises(DomainError) as err, transaction(db) as session:
        mark_issued(session, abandoned.entry_id)
    assert (err.value.slug, problems.problem_of(err.value).status) == ("entry-abandoned", 409)


def test_abandoning_publishes_a_change(db):
    got = _allocate(db, new_did())
    with db() as session:
        before = feed.head(session)
    with transaction(db) as session:
        mark_abandoned(session, got.entry_id, "holder never answered")
        poked = feed.SIGNAL.generation
    assert feed.SIGNAL.generation > poked  # this process's waiters are woken at commit
    with db() as session:
        changes, last = feed.changes_after(session, before)
        mine = [c for c in changes if c.list_id == got.list_id]
        assert [c.url for c in mine] == [got.list_url]
        assert session.get(StatusList, got.list_id).version == mine[0].seq <= last


@pytest.mark.parametrize(
    ("field", "value", "slug"),
    [
        ("purpose", "expiry", "unknown-status-purpose"),
        ("purpose", None, "unknown-status-purpose"),
        ("model", "RevocationList2020", "unknown-status-model"),
        ("issuer_did", "https://issuer.example", "invalid-issuer"),
        ("issuer_did", "did:example:has space", "invalid-issuer"),
        ("issuer_did", 42, "invalid-issuer"),
        ("credential_id", "", "invalid-credential-id"),
        ("credential_id", "x" * 501, "invalid-credential-id"),
        ("status_base_url", "ftp://status.example", "invalid-status-base-url"),
        ("status_base_url", "http://status.example/?q=1", "invalid-status-base-url"),
        ("status_base_url", "status.example", "invalid-status-base-url"),
        ("exchange_id", 7, "invalid-exchange-id"),
    ],
)
def test_bad_allocation_requests_are_problems(db, field, value, slug):
    request = {
        "issuer_did": new_did(),
        "purpose": "revocation",
        "model": "StatusList2021",
        "credential_id": "urn:uuid:bad",
        "status_base_url": BASE,
        field: value,
    }
    with pytest.raises(DomainError) as err, transaction(db) as session:
        allocate(session, **request)
    assert err.value.slug == slug and problems.problem_of(err.value).status == 400


@pytest.mark.parametrize("call", ["issued", "abandoned"])
def test_marking_an_unknown_entry_is_a_404_problem(db, call):
    with pytest.raises(DomainError) as err, transaction(db) as session:
        if call == "issued":
            mark_issued(session, 10**12)
        else:
            mark_abandoned(session, 10**12, "gone")
    assert (err.value.slug, problems.problem_of(err.value).status) == ("unknown-entry", 404)


def test_abandoning_needs_a_reason(db):
    got = _allocate(db, new_did())
    with pytest.raises(DomainError) as err, transaction(db) as session:
        mark_abandoned(session, got.entry_id, "  ")
    assert err.value.slug == "invalid-reason"


def test_indices_are_spread_at_random(db):
    did = new_did()
    indices = [_allocate(db, did).index for _ in range(20)]
    assert len(set(indices)) == 20
    # Issuance order says nothing: the indices are not sorted (1 in 20! by chance).
    assert indices != sorted(indices)
    assert max(indices) - min(indices) > LIST_SIZE // 4
