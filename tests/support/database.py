"""Scratch databases for a test session: a SQLite file in the session's var/, or, with
``DATABASE_URL`` naming PostgreSQL (CI), a schema of its own that is dropped at the end.

Under pytest-xdist each worker is a session of its own, and on PostgreSQL it also gets a database
of its own (``<database>_<worker>_<random>``): LISTEN/NOTIFY channels and ``pg_stat_activity`` are
per database, so one worker's notifications and killed connections never reach another's. With
a single process the schemas go in ``DATABASE_URL``'s database as they always did.
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from credgate.notify import stop_listeners

__all__ = ["drop_worker_database", "scratch_database", "server_url"]


def server_url() -> str | None:
    """``DATABASE_URL`` when it names a database server (not SQLite), else None."""
    url = os.environ.get("DATABASE_URL")
    return None if not url or url.startswith("sqlite") else url


@contextmanager
def scratch_database(var_dir: Path, name: str = "credgate") -> Iterator[str]:
    """An empty database: a SQLite file in ``var_dir``, or a new schema on the server."""
    url = server_url()
    if url is None:
        yield f"sqlite:///{var_dir / f'{name}.sqlite3'}"
        return
    url = _worker_database(url)
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


def _worker() -> str | None:
    return os.environ.get("PYTEST_XDIST_WORKER")


@functools.cache
def _worker_database(url: str) -> str:
    """``url`` itself in a single process; under xdist, this worker's own database (made on
    first use, for the whole session)."""
    worker = _worker()
    if worker is None:
        return url
    parsed = make_url(url)
    database = f"{parsed.database}_{worker}_{uuid.uuid4().hex[:8]}"
    with _server(url) as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    return parsed.set(database=database).render_as_string(hide_password=False)


def drop_worker_database() -> None:
    """At the end of a worker's session: drop the database it made (and whatever still holds a
    connection to it). Nothing to do in a single process."""
    url = server_url()
    if url is None or _worker() is None or _worker_database.cache_info().currsize == 0:
        return
    database = make_url(_worker_database(url)).database
    stop_listeners()  # their connections are dropped with the database
    with _server(url) as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    _worker_database.cache_clear()


@contextmanager
def _server(url: str):
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()
