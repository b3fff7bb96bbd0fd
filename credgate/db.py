"""Database engine and sessions for every service.

One declarative ``Base`` carries all tables; each package declares its models in its own ``models``
module and its migrations in ``<package>/migrations`` (run by :mod:`suite.schema`). SQLite is the
embedded default, PostgreSQL the production and CI database; the same migrations run on both.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

CONNECT_TIMEOUT = 5  # seconds to open a connection to a database server

# Stable constraint names, so migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite drops the offset otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (a PostgreSQL URL may pin a schema: ``?options=-csearch_path%3Dx``)."""
    connect_args: dict[str, object] = {}
    if url.startswith("sqlite"):
        connect_args["check_same_thread"] = False
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    elif url.startswith("postgresql"):
        # A server out of reach fails a request (a 503, see credgate.web) instead of hanging it.
        connect_args["connect_timeout"] = CONNECT_TIMEOUT
    # A database server can drop pooled connections (restart, idle time-out, an operator's
    # pg_terminate_backend): ping before use, so a lost connection costs at most the requests
    # that held it, and the service recovers without a restart. An embedded SQLite file cannot,
    # and the ping would be one more statement per checkout.
    server = not url.startswith("sqlite")
    engine = create_engine(url, connect_args=connect_args, pool_pre_ping=server)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets readers run beside the one writer; busy_timeout makes a writer wait (bounded)
    # instead of failing at once when another thread holds the lock.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work commits on success and rolls back on any exception."""
    with factory() as session, session.begin():
        yield session


def storage_unavailable(error: BaseException) -> bool:
    """Whether a database error is the database being out of reach (a connection lost or
    refused, a lock or pool wait that timed out), as opposed to a bug or a refused statement."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    outage = (
        sa_exc.OperationalError,
        sa_exc.InterfaceError,
        sa_exc.TimeoutError,  # no pooled connection came free in time
        sa_exc.PendingRollbackError,  # a session whose connection was lost mid-transaction
    )
    return isinstance(error, outage)
