"""Fixtures: one temporary var/ and one set of agents and services per test session.

The database is SQLite in that var/ by default; with ``DATABASE_URL`` set (CI sets PostgreSQL) the
session works in a schema of its own, dropped at the end, so runs never see each other's rows
(under pytest-xdist each worker is a session, in a database of its own: tests/support/database.py).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy.orm import Session, sessionmaker

from agents.runtime import drop_wallet_databases, wallet_databases
from agents.tenants import TenantHandle, ensure_tenant
from credgate.config import Settings, load_settings
from credgate.db import make_engine, session_factory
from suite.runner import Suite
from suite.schema import migrate
from tests.support.browser import MISSING, Chromium, find_chromium
from tests.support.database import drop_worker_database, scratch_database
from tests.support.waits import Clock
from tests.support.wallet import wallet_runner

# Every JSON answer of a declared route is checked against its OpenAPI declaration in every test
# (credgate.openapi's strict mode): a breach is a 500 that names it, so the documents cannot drift.
os.environ.setdefault("CREDGATE_OPENAPI_STRICT", "1")

# Public W3C test vectors, carried in the repository (sources and licences in vectors/SOURCES.md).
VECTORS = Path(__file__).resolve().parent / "vectors"


@pytest.fixture(scope="session", autouse=True)
def worker_database() -> Iterator[None]:
    """Under pytest-xdist on PostgreSQL: drop this worker's database once its session is over
    (autouse, so it is torn down after every fixture that holds a connection)."""
    yield
    drop_worker_database()


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


@pytest.fixture(scope="module")
def module_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    """A migrated database of the module's own, for tests that read every row of a kind (a sweep
    over all stale reservations) and must not see what other modules left in the session's."""
    with scratch_database(tmp_path_factory.mktemp("module-db")) as url:
        engine = make_engine(url)
        migrate(engine)
        yield session_factory(engine)
        engine.dispose()


@pytest.fixture(scope="module")
def clock() -> Clock:
    """A clock the module's tests advance (``clock.advance(seconds)``): pass it to the code under
    test as its ``clock`` (or ``VERIFIER_CLOCK``) instead of sleeping past a cache's lifetime."""
    return Clock()


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
def tenant(suite: Suite, db) -> Callable[[str, str], TenantHandle]:
    """``tenant(agent, name)``: the tenant ``name`` on the suite's ``agent`` (``"issuer"`` or
    ``"holder"``), made the first time it is asked for and found again after."""
    return lambda agent, name: ensure_tenant(db, agent, suite.agents[agent].client(), name)


@pytest.fixture(scope="session")
def urls(suite: Suite) -> dict[str, str]:
    """Each running service's base URL, by its name in the suite."""
    return {name: server.url for name, server in suite.servers.items()}


@pytest.fixture(scope="session")
def issuer_url(urls: dict[str, str]) -> str:
    return urls["issuer"]


@pytest.fixture(scope="session")
def verifier_url(urls: dict[str, str]) -> str:
    return urls["verifier"]


@pytest.fixture(scope="session")
def authority_did(issuer_url: str) -> str:
    """The DID the issuer signs with (the suite's onboarding authority)."""
    return requests.get(f"{issuer_url}/issuer/did", timeout=10).json()["did"]


@pytest.fixture(scope="session")
def wallet_cli(settings: Settings, urls: dict[str, str]) -> Callable[..., tuple[int, str]]:
    """``credgate wallet ...`` against the suite's wallet service, as a user types it:
    ``wallet_cli(*args, input=None)`` returns (exit code, output)."""
    return wallet_runner(settings.var_dir, urls["wallet"])


@pytest.fixture(scope="module")
def client(app):
    """A test client of the module's ``app`` fixture (modules that want a fresh cookie jar per
    test declare a function-scoped one)."""
    return app.test_client()


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
