"""Storage: migrations, UTC timestamps, operator tokens, on SQLite and (in CI) PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from agents.models import Tenant
from credgate.db import make_engine, transaction
from credgate.tokens import ApiToken, ensure_operator_token, find_token, hash_token
from suite.schema import downgrade, migrate
from tests.support.database import scratch_database

pytestmark = pytest.mark.db


def test_migrations_are_idempotent_and_reversible(tmp_path):
    with scratch_database(tmp_path, "roundtrip") as url:
        engine = make_engine(url)
        try:
            _round_trip(engine)
        finally:
            engine.dispose()


def _round_trip(engine):
    migrate(engine)
    migrate(engine)
    assert {"api_tokens", "agent_tenants"} <= set(inspect(engine).get_table_names())
    downgrade(engine, "base")
    assert "api_tokens" not in inspect(engine).get_table_names()
    migrate(engine)
    assert "agent_tenants" in inspect(engine).get_table_names()


def test_timestamps_come_back_in_utc(db):
    moment = datetime(2026, 11, 22, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with transaction(db) as session:
        row = Tenant(
            agent="holder", name=f"tz-{moment.timestamp()}", wallet_id="w-tz", created_at=moment
        )
        session.add(row)
    with db() as session:
        stored = session.scalar(select(Tenant).where(Tenant.wallet_id == "w-tz"))
    assert stored.created_at == moment
    assert stored.created_at.utcoffset() == timedelta(0)
    assert stored.created_at.tzinfo is not None and stored.created_at.astimezone(UTC) == moment


def test_naive_datetimes_are_refused(db):
    with pytest.raises(Exception, match="naive datetime"), transaction(db) as session:
        session.add(
            Tenant(
                agent="holder", name="naive", wallet_id="w-naive", created_at=datetime(2026, 1, 1)
            )
        )
    with db() as session:
        assert session.scalar(select(Tenant).where(Tenant.wallet_id == "w-naive")) is None


def test_operator_token_is_created_once_and_found_by_hash(settings, db):
    token = ensure_operator_token(settings, db)
    assert ensure_operator_token(settings, db) == token
    token_file = settings.secrets_dir / "operator-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    with db() as session:
        rows = session.scalars(select(ApiToken).where(ApiToken.name == "operator")).all()
        assert len(rows) == 1
        assert token not in rows[0].token_hash  # only the hash is stored
        assert find_token(session, token).id == rows[0].id
        assert find_token(session, token + "x") is None


def test_revoked_token_is_not_found(settings, db):
    with transaction(db) as session:
        session.add(ApiToken(name="ci", token_hash=hash_token("t0k"), revoked_at=datetime.now(UTC)))
    with db() as session:
        assert find_token(session, "t0k") is None
