"""The change feed over HTTP: long-poll and Server-Sent Events, bounded waits, bad parameters.

The revocation app is served on loopback from the session's database (no agent needed); the
changes come from other threads, as they would from another worker.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from credgate.db import transaction
from credgate.problems import PROBLEM_BASE
from credgate.serving import serve
from revocation import create_app, feed, store
from revocation.allocation import StatusAllocation
from revocation.status import change_status
from tests.support.status_entries import reserved_entry
from tests.support.waits import eventually

pytestmark = pytest.mark.db

BASE = "http://127.0.0.1:8702"


@pytest.fixture(scope="module")
def service(settings, db) -> Iterator[str]:
    app = create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "SERVICE_URLS": {},
            "STATUS_STREAM_HEARTBEAT": 0.3,
            "STATUS_STREAM_MAX_SECONDS": 3.0,
        }
    )
    server = serve(app)
    yield server.url
    server.stop()


def suspendable(db) -> StatusAllocation:
    return reserved_entry(db, BASE, purpose="suspension")


def head(db) -> int:
    with db() as session:
        return feed.head(session)


def later(delay: float, fn) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), fn()), daemon=True)
    thread.start()
    return thread


# -- long-poll -----------------------------------------------------------------------------------


def test_long_poll_returns_at_once_when_there_are_newer_changes(service, db):
    got = suspendable(db)
    before = head(db)
    seq = change_status(db, got.entry_id, "suspend", reason="r", actor="a").seq

    began = time.monotonic()
    response = requests.get(
        f"{service}/status/changes", params={"after": before, "wait": 20}, timeout=10
    )
    assert time.monotonic() - began < 2.0
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    expected = {
        "seq": seq,
        "list_id": got.list_id,
        "url": got.list_url,
        "index": got.index,
        "status": "suspended",
    }
    assert expected in body["changes"]
    assert body["last"] == body["changes"][-1]["seq"] >= seq
    assert [c["seq"] for c in body["changes"]] == sorted(c["seq"] for c in body["changes"])


def test_long_poll_without_changes_waits_then_returns_an_empty_list(service, db):
    last = head(db)
    began = time.monotonic()
    response = requests.get(
        f"{service}/status/changes", params={"after": last, "wait": 1}, timeout=10
    )
    elapsed = time.monotonic() - began
    assert response.status_code == 200
    assert response.json() == {"changes": [], "last": last}
    assert 0.9 <= elapsed < 3.0


def test_long_poll_without_wait_answers_at_once(service, db):
    last = head(db)
    began = time.monotonic()
    response = requests.get(f"{service}/status/changes", params={"after": last}, timeout=10)
    assert response.json() == {"changes": [], "last": last}
    assert time.monotonic() - began < 1.0


def test_long_poll_sees_a_change_made_by_another_thread(service, db):
    got = suspendable(db)
    after = head(db)
    made: list[int] = []

    def suspend() -> None:
        made.append(change_status(db, got.entry_id, "suspend", reason="r", actor="a").seq)

    worker = later(0.4, suspend)
    began = time.monotonic()
    response = requests.get(
        f"{service}/status/changes", params={"after": after, "wait": 10}, timeout=15
    )
    elapsed = time.monotonic() - began
    worker.join(5)
    body = response.json()
    assert [c["seq"] for c in body["changes"] if c["list_id"] == got.list_id] == made
    assert 0.3 <= elapsed < 1.5, elapsed  # woken by the change, not by the 10 s timeout


def test_a_wait_above_the_maximum_is_capped_not_refused(service, db):
    got = suspendable(db)
    before = head(db)
    change_status(db, got.entry_id, "suspend", reason="r", actor="a")
    response = requests.get(
        f"{service}/status/changes", params={"after": before, "wait": 3600}, timeout=10
    )
    assert response.status_code == 200 and response.json()["changes"]


def test_a_client_ahead_of_the_database_is_moved_back_to_its_head(service, db):
    last = head(db)
    response = requests.get(
        f"{service}/status/changes", params={"after": last + 1000, "wait": 20}, timeout=10
    )
    assert response.json() == {"changes": [], "last": last}


@pytest.mark.parametrize(
    "params",
    [
        {"after": "-1"},
        {"after": "abc"},
        {"after": "1.5"},
        {"after": "٣"},  # a digit, but not an ASCII one
        {"after": str(2**31)},
        {"wait": "abc"},
        {"wait": "-1"},
        {"wait": "nan"},
        {"wait": "inf"},
    ],
)
def test_bad_long_poll_parameters_are_problems(service, params):
    response = requests.get(f"{service}/status/changes", params=params, timeout=10)
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == PROBLEM_BASE + "invalid-parameter"
    assert problem["parameter"] in params


# -- Server-Sent Events --------------------------------------------------------------------------


def read_events(response: requests.Response, until, timeout: float = 5.0) -> list[dict]:
    """Parse the stream into events ({"id", "data"} or comments) until ``until(events)``."""
    events: list[dict] = []
    current: dict = {}
    deadline = time.monotonic() + timeout
    for line in response.iter_lines(decode_unicode=True):
        if time.monotonic() > deadline:
            break
        if line == "":
            if current:
                events.append(current)
                current = {}
                if until(events):
                    break
            continue
        field, _, value = line.partition(":")
        current.setdefault(field or "comment", value.removeprefix(" "))
    return events


def data_events(events: list[dict], list_id: str) -> list[dict]:
    found = [e | {"data": json.loads(e["data"])} for e in events if "data" in e]
    return [e for e in found if e["data"]["list_id"] == list_id]


def test_sse_replays_after_last_event_id_then_streams_live_changes(service, db):
    got = suspendable(db)
    seqs = [
        change_status(db, got.entry_id, action, reason="r", actor="a").seq
        for action in ("suspend", "reinstate", "suspend")
    ]
    headers = {"Last-Event-ID": str(seqs[0])}
    with requests.get(
        f"{service}/status/changes/stream", headers=headers, stream=True, timeout=(3, 5)
    ) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-store"
        live = later(0.3, lambda: change_status(db, got.entry_id, "revoke", reason="r", actor="a"))
        events = read_events(response, lambda ev: len(data_events(ev, got.list_id)) >= 3)
        live.join(5)

    mine = data_events(events, got.list_id)
    assert [int(e["id"]) for e in mine][:2] == seqs[1:]
    assert len(mine) == 3 and int(mine[2]["id"]) > seqs[2]
    for event in mine:
        expected = {"seq": int(event["id"]), "list_id": got.list_id, "url": got.list_url}
        assert {k: event["data"][k] for k in expected} == expected
        assert event["data"]["index"] == got.index
    assert events[0].get("retry") == "1000"


def test_sse_without_last_event_id_starts_from_now(service, db):
    got = suspendable(db)
    old = change_status(db, got.entry_id, "suspend", reason="old news", actor="a").seq
    with requests.get(f"{service}/status/changes/stream", stream=True, timeout=(3, 5)) as response:
        live = later(
            0.3, lambda: change_status(db, got.entry_id, "reinstate", reason="r", actor="b")
        )
        events = read_events(response, lambda ev: bool(data_events(ev, got.list_id)))
        live.join(5)
    mine = data_events(events, got.list_id)
    assert len(mine) == 1 and int(mine[0]["id"]) > old  # the old change is not replayed


def test_sse_sends_keepalives_and_ends_within_its_lifetime(service, db):
    began = time.monotonic()
    with requests.get(
        f"{service}/status/changes/stream",
        headers={"Last-Event-ID": str(head(db))},
        stream=True,
        timeout=(3, 10),
    ) as response:
        lines = list(response.iter_lines(decode_unicode=True))  # the server closes the stream
    elapsed = time.monotonic() - began
    assert 3.0 <= elapsed < 6.0, elapsed
    assert lines.count(": keepalive") >= 5


@pytest.mark.parametrize("value", ["abc", "-3", "1e3", str(2**31)])
def test_a_bad_last_event_id_is_a_problem(service, value):
    response = requests.get(
        f"{service}/status/changes/stream", headers={"Last-Event-ID": value}, timeout=10
    )
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEM_BASE + "invalid-parameter"


def test_a_change_committed_by_another_worker_wakes_waiters(db):
    """Another process commits without poking this process: on PostgreSQL, LISTEN/NOTIFY wakes
    the waiter (the safety-net poll is 5 s there); on SQLite the 0.5 s re-read does."""
    listener = feed._listener_for(db)
    if listener is not None:
        eventually(lambda: listener.connected, 5, what="the LISTEN connection")
    got = suspendable(db)
    after = head(db)

    def foreign_change() -> None:
        with transaction(db) as session:
            seq = feed.next_seq(session)
            store.find_entry(session, got.entry_id).status = "suspended"
            feed.record_change(session, seq, store.find_list(session, got.list_id))

    later(0.3, foreign_change)
    began = time.monotonic()
    changes, _last = feed.wait_for_changes(db, after, 10)
    elapsed = time.monotonic() - began
    assert [c.list_id for c in changes] == [got.list_id]
    assert elapsed < 1.5, elapsed
