"""Agents on PostgreSQL: askar ``postgres_storage`` keeps an agent's wallets in databases of its
own on the suite's server, so a ``kill -9`` and restart, or a start from another ``var/`` holding
the same wallet key, finds every tenant and DID again.

The first two tests start issuer agents of their own (multitenant: a base wallet and a tenants'
wallet, two databases) and drop those databases at the end; the last two check the choice of
storage and the command line without an agent.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from agents.client import AdminClient
from agents.runtime import (
    WALLET_STORAGE_ENV,
    AgentRuntime,
    agent_args,
    agent_env,
    drop_wallet_databases,
    wallet_databases,
    wallet_storage,
)
from credgate.config import Settings, load_settings
from credgate.secrets import ensure_private_dir
from tests.support.waits import eventually

pytestmark = [pytest.mark.db, pytest.mark.agents]

NAME = "issuer"
#: A restart is the backoff (0.5 s) plus an ACA-Py start (a few seconds).
BACK_WITHIN = 60.0


@pytest.fixture
def database_url(monkeypatch: pytest.MonkeyPatch) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url or url.startswith("sqlite"):
        pytest.skip(
            "agents keep their wallets in PostgreSQL only when DATABASE_URL is PostgreSQL "
            "(CI's -m db job sets it); on SQLite they are files under var/agents"
        )
    # Whatever the environment chooses for the session, these tests are about PostgreSQL wallets.
    monkeypatch.setenv(WALLET_STORAGE_ENV, "postgres")
    return url


@pytest.fixture
def cleanup(database_url: str) -> Iterator[Callable[[Settings], list[str]]]:
    """Register a var/ whose issuer wallet databases are dropped after the test."""
    keys: list[str] = []

    def register(settings: Settings) -> list[str]:
        key = wallet_key(settings)
        keys.append(key)
        return wallet_databases(NAME, key)

    yield register
    drop_wallet_databases(database_url, [db for key in keys for db in wallet_databases(NAME, key)])


def wallet_key(settings: Settings) -> str:
    return (settings.secrets_dir / f"{NAME}.wallet-key").read_text(encoding="utf-8").strip()


def existing_databases(database_url: str, names: list[str]) -> set[str]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT datname FROM pg_database WHERE datname = ANY(:names)"),
                {"names": names},
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def start(settings: Settings, *, supervise: bool) -> AgentRuntime:
    runtime = AgentRuntime(
        settings, lambda name: "http://127.0.0.1:9/hooks", (NAME,), supervise=supervise
    )
    runtime.start(timeout=90)
    return runtime


def make_tenant_with_did(client: AdminClient, label: str) -> tuple[str, str]:
    tenant = client.create_tenant(label)
    did = client.for_tenant(tenant.token).create_did_key()
    return tenant.wallet_id, did


def tenant_dids(client: AdminClient, wallet_id: str) -> set[str]:
    """The DIDs in a tenant's wallet, through a token freshly issued by this agent process."""
    tenant = client.for_tenant(client.tenant_token(wallet_id))
    return {entry["did"] for entry in tenant.request("GET", "/wallet/did")["results"]}


def wallet_ids(client: AdminClient) -> set[str]:
    return {w["wallet_id"] for w in client.request("GET", "/multitenancy/wallets")["results"]}


def sqlite_wallets(settings: Settings) -> list[Path]:
    return list(settings.agents_dir.rglob("sqlite.db"))


def test_wallets_survive_kill_9_and_the_supervised_restart(tmp_path, database_url, cleanup):
    settings = load_settings(tmp_path / "var", database_url)
    runtime = start(settings, supervise=True)
    try:
        databases = cleanup(settings)
        agent = runtime.agents[NAME]
        assert "postgres_storage" in agent.argv
        assert not any("password" in arg for arg in agent.argv)  # creds travel in the env

        client = agent.client()
        wallet_id, did = make_tenant_with_did(client, "pg-survivor")
        # The wallets (the tenants' one made with the first tenant) are databases on the server,
        # not files in var/.
        assert existing_databases(database_url, databases) == set(databases)
        assert sqlite_wallets(settings) == []

        pid, restarts = agent.pid, agent.restarts
        os.kill(pid, signal.SIGKILL)
        killed = time.monotonic()
        eventually(
            lambda: agent.restarts > restarts and agent.state == "running",
            BACK_WITHIN,
            0.1,
            what="the agent back",
        )
        assert agent.pid != pid and agent.last_exit == -signal.SIGKILL
        print(f"\nissuer agent back after {time.monotonic() - killed:.1f} s")

        client = agent.client()
        assert wallet_id in wallet_ids(client)
        assert did in tenant_dids(client, wallet_id)
        # and the restarted agent still writes to it
        _, second = make_tenant_with_did(client, "pg-after-restart")
        assert second != did
    finally:
        runtime.stop()


def test_the_agent_moves_to_another_var_with_its_wallet_key(tmp_path, database_url, cleanup):
    first = load_settings(tmp_path / "first", database_url)
    runtime = start(first, supervise=False)
    try:
        databases = cleanup(first)
        client = runtime.agents[NAME].client()
        wallet_id, did = make_tenant_with_did(client, "pg-mover")
    finally:
        runtime.stop()
    # The old var/ is gone; only the wallet key moves. Admin key and JWT secret are new.
    moved = load_settings(tmp_path / "moved", database_url)
    ensure_private_dir(moved.secrets_dir)
    key_file = moved.secrets_dir / f"{NAME}.wallet-key"
    shutil.copyfile(first.secrets_dir / f"{NAME}.wallet-key", key_file)
    key_file.chmod(0o600)
    shutil.rmtree(first.var_dir)

    runtime = start(moved, supervise=False)
    try:
        assert cleanup(moved) == databases  # the same databases, found from the key
        client = runtime.agents[NAME].client()
        assert client.api_key != ""
        assert wallet_id in wallet_ids(client)
        assert did in tenant_dids(client, wallet_id)
    finally:
        runtime.stop()

    # A var/ with a key of its own gets wallets of its own: no clash with the moved agent's.
    stranger = load_settings(tmp_path / "stranger", database_url)
    runtime = start(stranger, supervise=False)
    try:
        assert set(cleanup(stranger)).isdisjoint(databases)
        assert wallet_id not in wallet_ids(runtime.agents[NAME].client())
    finally:
        runtime.stop()


# -- the choice and the command line, without an agent ---------------------------------------------

PG = "postgresql+psycopg://acapy:s3cret-pw@db.internal:6543/credgate?options=-csearch_path%3Dx"


def test_storage_follows_database_url_and_the_override(monkeypatch):
    monkeypatch.delenv(WALLET_STORAGE_ENV, raising=False)
    assert wallet_storage("sqlite:///var/credgate.sqlite3", "k") is None
    storage = wallet_storage(PG, "k")
    assert storage is not None
    assert (storage.address, storage.account) == ("db.internal:6543", "acapy")
    monkeypatch.setenv(WALLET_STORAGE_ENV, "sqlite")
    assert wallet_storage(PG, "k") is None
    monkeypatch.setenv(WALLET_STORAGE_ENV, "postgres")
    with pytest.raises(ValueError, match="PostgreSQL"):
        wallet_storage("sqlite:///var/credgate.sqlite3", "k")
    monkeypatch.setenv(WALLET_STORAGE_ENV, "mongodb")
    with pytest.raises(ValueError, match="auto, sqlite or postgres"):
        wallet_storage(PG, "k")


def test_databases_are_named_by_the_wallet_key_and_the_password_stays_off_the_command_line(
    monkeypatch,
):
    monkeypatch.delenv(WALLET_STORAGE_ENV, raising=False)
    storage = wallet_storage(PG, "key-one")
    assert storage is not None and "s3cret-pw" not in repr(storage)
    assert wallet_storage(PG, "key-one") == storage  # stable: a moved agent finds its wallets
    assert wallet_storage(PG, "key-two").tag != storage.tag  # a new key: new databases
    args = agent_args("issuer", inbound_port=1, admin_port=2, storage=storage)
    base, tenants = wallet_databases("issuer", "key-one")
    assert args[args.index("--wallet-name") + 1] == base
    assert tenants in args[args.index("--multitenancy-config") + 1]
    assert "key-one" not in " ".join(args) and "s3cret-pw" not in " ".join(args)
    env = agent_env(
        {"admin-key": "a", "wallet-key": "key-one", "jwt-secret": "j"}, "http://h/w", storage
    )
    assert "s3cret-pw" in env["ACAPY_WALLET_STORAGE_CREDS"]
    # SQLite wallets keep today's names (existing var/ directories still open).
    assert "credgate-issuer" in agent_args("issuer", inbound_port=1, admin_port=2)
