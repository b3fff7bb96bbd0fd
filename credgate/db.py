"""Database engine and sessions for every service.

One declarative ``Base`` carries all tables; each package declares its models in its own ``models``
module and its migrations in ``<package>/migrations`` (run by :mod:`suite.schema`). SQLite is the
embedded default, PostgreSQL the production and CI database; the same migrations run on both.

Models give a column its type by annotation (``did: Mapped[Did]``) instead of spelling out
``String(500)`` at every column: the aliases below say what a column holds, and ``Base``'s type
map says once how each is stored. A plain ``str`` is TEXT, a ``datetime`` a UTC timestamp, a
``dict`` or ``list`` JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from sqlalchemy import JSON, DateTime, Engine, MetaData, Select, String, Text, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
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


# Strings by size (VARCHAR(n) on every backend); the number is the length.
Str8 = Annotated[str, 8]
Str10 = Annotated[str, 10]
Str16 = Annotated[str, 16]  # states, statuses, kinds
Str20 = Annotated[str, 20]
Str32 = Annotated[str, 32]
Str40 = Annotated[str, 40]
Str60 = Annotated[str, 60]
Str64 = Annotated[str, 64]
Str80 = Annotated[str, 80]
Str100 = Annotated[str, 100]
Str128 = Annotated[str, 128]
Str200 = Annotated[str, 200]
Str300 = Annotated[str, 300]
Str500 = Annotated[str, 500]
Str600 = Annotated[str, 600]

# What a column holds, where many columns hold the same thing: each is its size's alias by
# another name, so it maps to the same VARCHAR.
Did = Str500  # a DID, or a party named by its DID (holder, company, seller, ...)
Uri = Str500  # a URI or URL: credential ids, base and redirect URLs, domains
LongUri = Str600  # URLs that run longer: status-list URLs, a key's DID URL
Name = Str200  # a name, title or label (tenants, items, counterparties)
Actor = Str200  # who did it, as audit columns record them
Id32 = Str32  # a random public id (grants, logins, jobs, interactions, short links)
Md5Hex = Str32
Sha256Hex = Str64  # token hashes and file digests: only ever a hash is stored
AgentRecordId = Str64  # an id ACA-Py gave (tenant wallet, connection, exchange, thread)
CompanyId = Str40  # a KCIT company record id, "kcit-<hex>"
Id36 = Annotated[str, 36]  # a UUID in its text form (issuance records, exchanges, mandates)
CountryCode = Annotated[str, 2]  # ISO 3166-1 alpha-2
SubdivisionCode = Annotated[str, 6]  # ISO 3166-2, e.g. "BE-VAN"
CurrencyCode = Annotated[str, 3]  # ISO 4217
Email = Annotated[str, 254]  # the longest address SMTP carries (RFC 5321)

#: Every sized string alias; each is VARCHAR of the length it carries. (An alias missing here
#: would be TEXT: tests/suite/test_schema_matches_models.py catches that against the migrations.)
SIZED_STRINGS = (
    *(Str8, Str10, Str16, Str20, Str32, Str40, Str60, Str64, Str80, Str100, Str128, Str200),
    *(Str300, Str500, Str600, Id36, CountryCode, SubdivisionCode, CurrencyCode, Email),
)

#: A UTC time that defaults to the moment the row is written (created_at, updated_at, at).
WrittenAt = Annotated[datetime, mapped_column(default=utcnow)]


class Timestamps:
    """Mixin of a record that keeps when it was created and when it last changed (whoever changes
    the row sets ``updated_at``). The mapping places them after the table's own columns."""

    created_at: Mapped[WrittenAt]
    updated_at: Mapped[WrittenAt]


def _type_annotation_map() -> dict[Any, Any]:
    sized = {alias: String(alias.__metadata__[0]) for alias in SIZED_STRINGS}
    json = {kind: JSON for kind in (dict[str, Any], list[str], list[Any], list[dict[str, Any]])}
    return {str: Text, datetime: UTCDateTime, **sized, **json}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = _type_annotation_map()


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


def where_given[S: Select[Any]](query: S, **values: Any) -> S:
    """``query`` narrowed to the rows whose attribute (by name) equals each given value; a value
    of None is no filter. What a search with optional exact-match parameters asks for."""
    return query.filter_by(**{name: value for name, value in values.items() if value is not None})


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
