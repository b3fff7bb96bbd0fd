"""The gateway's audit log never jams: a decision about a hostile request (a 100,000-character
path or DID, a NUL, a lone surrogate) is stored clamped and cleaned, and the records queued
beside it are written too. PostgreSQL refuses what SQLite takes, so this matters most there."""

from __future__ import annotations

import pytest

from gateway.audit import AuditLog, AuditRecord, recent_decisions

pytestmark = pytest.mark.db


def test_hostile_values_are_stored_clamped_and_do_not_hold_back_others(db):
    log = AuditLog(db, interval=60.0)  # written by flush() only
    try:
        hostile = AuditRecord(
            via="token",
            method="GET",
            route="/apps/x/" + "a" * 100_000 + "\x00",
            requirement="participant",
            allow=False,
            holder="did:key:z" + "\ud800" * 10 + "b" * 9_000,
            reason="r" * 500,
            detail="d\x00" * 10_000,
            credentials=["urn:" + "c" * 2_000],
        )
        honest = AuditRecord(
            via="token",
            method="GET",
            route="/apps/x/ok",
            requirement="participant",
            allow=True,
            holder="did:key:zHonest",
        )
        log.record(hostile)
        log.record(honest)
        assert log.flush() == 2
        rows = recent_decisions(db, route="/apps/x/ok")
        assert rows and rows[0]["allow"]
        refused = recent_decisions(db, allow=False)
        stored = next(r for r in refused if r["route"].startswith("/apps/x/a"))
        assert len(stored["route"]) == 500 and "\x00" not in stored["route"]
        assert len(stored["holder"]) == 500 and len(stored["reason"]) == 64
        assert "\x00" not in stored["detail"] and len(stored["credentials"][0]) == 500
    finally:
        log.stop()
