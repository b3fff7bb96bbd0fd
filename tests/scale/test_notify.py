"""The notification component (credgate.notify): bounded waits, delivery at commit only, and on
PostgreSQL a wake-up from another process and a listener that comes back after its connection is
killed (waiters are woken then, so they re-read what they may have missed)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid

import pytest
from sqlalchemy import text

from credgate.db import transaction
from tests.support.waits import eventually

pytestmark = pytest.mark.db


def channel() -> str:
    return f"test.{uuid.uuid4().hex[:8]}"


def test_publish_wakes_a_waiter_and_a_wait_is_bounded(notifier):
    name = channel()
    seen = notifier.generation(name)
    began = time.monotonic()
    assert notifier.wait(name, seen, 0.2) is False
    assert 0.15 <= time.monotonic() - began < 1.0
    threading.Timer(0.1, notifier.publish, (name,)).start()
    assert notifier.wait(name, seen, 5) is True
    assert notifier.generation(name) != seen


def test_a_transaction_notifies_at_commit_and_never_on_rollback(db, notifier):
    name = channel()
    seen = notifier.generation(name)
    with pytest.raises(RuntimeError), transaction(db) as session:
        notifier.publish(name, session)
        raise RuntimeError("rolled back")
    assert notifier.wait(name, seen, 0.3) is False
    with transaction(db) as session:
        notifier.publish(name, session)
        assert notifier.generation(name) == seen  # not before the commit
    assert notifier.generation(name) != seen


@pytest.fixture
def postgres(settings, notifier):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY needs PostgreSQL (DATABASE_URL); SQLite is one process")
    return notifier


def test_another_process_wakes_this_one(postgres, settings):
    name = channel()
    seen = postgres.generation(name)
    script = (
        "import sys; from credgate.db import make_engine; from credgate.notify import "
        "notifier_for; notifier_for(make_engine(sys.argv[1])).publish(sys.argv[2])"
    )
    threading.Timer(
        0.2, subprocess.run, ([sys.executable, "-c", script, settings.database_url, name],)
    ).start()
    began = time.monotonic()
    assert postgres.wait(name, seen, 30) is True
    assert time.monotonic() - began < 15  # the other interpreter's start-up, on a busy machine


def test_a_killed_listener_reconnects_and_wakes_its_waiters(postgres, engine):
    name = channel()
    seen = postgres.generation(name)
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN credgate_events%' AND pid <> pg_backend_pid() "
                "AND datname = current_database()"  # this session's: not another xdist worker's
            )
        ).scalar()
        conn.commit()
    assert killed >= 1
    # Woken without anyone publishing on the channel: re-read, something may have been missed.
    assert postgres.wait(name, seen, 10) is True
    eventually(lambda: postgres.listening, 10, what="the listener to come back")
    seen = postgres.generation(name)
    postgres.publish(name)
    assert postgres.wait(name, seen, 5) is True


def test_a_process_skips_its_own_notifications_and_hears_the_others():
    from credgate.notify import heard, origin, payload

    assert heard(payload("kcit_changes")) is None  # the commit already poked this process
    assert heard("4242.0badf00d kcit_changes") == "kcit_changes"  # another node or worker
    assert heard("kcit_changes") == "kcit_changes"  # a payload without an origin
    assert origin() in payload("x")
