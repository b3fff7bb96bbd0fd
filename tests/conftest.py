"""Fixtures: one temporary var/ and one set of agents and services per test session.

The database is SQLite in that var/ by default; with ``DATABASE_URL`` set (CI sets PostgreSQL) the
session works in a schema of its own, dropped at the end, so runs never see each other's rows.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from agents.runtime import drop_wallet_databases, wallet_databases
from credgate.config import Settings, load_settings
from credgate.db import make_engine, session_factory
from suite.runner import Suite
from suite.schema import migrate
from tests.support.browser import MISSING, Chromium, find_chromium

# Public W3C test vectors, carried in the repository (sources and licences in vectors/SOURCES.md).
VECTORS = Path(__file__).resolve().parent / "vectors"


@contextmanager
def scratch_database(var_dir: Path, name: str = "credgate") -> Iterator[str]:
    """An empty database: a SQLite file in ``var_dir``, or a new schema in ``DATABASE_URL``."""
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        yield f"sqlite:///{var_dir / f'{name}.sqlite3'}"
        return
    schema = f"credgate_test_{uuid.uuid4().hex[:12]}"
    # Pre-ping: a test kills this process's connections (tests/reliability/test_db_outage.py).
    admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in url else "?"
    try:
        yield f"{url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="session", autouse=True)
def agent_wallet_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """On PostgreSQL, agents keep their wallets in databases of their own, named from the wallet
    key: at the end of the session drop those of every var/ this session made (the key files are
    under its base temp directory), whichever test started the agents."""
    yield
    url = os.environ.get("DATABASE_URL")
    if not url or url.startswith("sqlite"):
        return
    names = [
        database
        for key in tmp_path_factory.getbasetemp().glob("**/secrets/*.wallet-key")
        for database in wallet_databases(key.name.removesuffix(".wallet-key"), key.read_text())
    ]
    drop_wallet_databases(url, names)


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    var_dir = tmp_path_factory.mktemp("var")
    with scratch_database(var_dir) as url:
        yield load_settings(var_dir, url)


@pytest.fixture(scope="session")
def engine(settings: Settings):
    engine = make_engine(settings.database_url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def db(engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture(scope="session")
def suite(settings: Settings, engine) -> Iterator[Suite]:
    """Agents, webhook hub and every service, on loopback, for the whole session."""
    suite = Suite(settings).start(timeout=90)
    yield suite
    suite.stop()


@pytest.fixture(scope="module")
def operator(settings: Settings, db) -> dict[str, str]:
    """The operator's bearer-token headers, for the issuer's and KCIT's admin APIs."""
    from tests.support.issuer_wallet import operator_headers

    return operator_headers(settings, db)


@pytest.fixture(scope="session")
def agents(suite: Suite):
    return suite.agents


@pytest.fixture(scope="session")
def hub(suite: Suite):
    return suite.hub


@pytest.fixture(scope="session")
def chromium() -> Callable[..., Chromium]:
    """The one way a test gets a browser: ``chromium(window_size=...)`` opens headless Chromium
    (the test closes it). Without Chromium the test is skipped, but under ``CI=true`` that is a
    failure: CI must run the pages' tests, not quietly pass without them."""
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{MISSING} (CI=true: browser tests may not be skipped)", pytrace=False)
        pytest.skip(MISSING)
    return functools.partial(Chromium, executable)
