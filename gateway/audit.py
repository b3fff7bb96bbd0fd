"""The decision audit log: who asked for what, allowed or why not, on which credentials.

Decisions are queued and written in batches by one background thread (at most ``interval``
seconds late, and at once when the queue is long): one database commit per request would cost
more than the whole authorisation, and the gateway must stay within 90% of an app's throughput.
:meth:`AuditLog.flush` writes what is queued (tests, shutdown); the queue is bounded, and a full
queue is written by the caller itself rather than dropped.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import storage_unavailable, transaction, utcnow, where_given
from gateway.models import Decision as DecisionRow

log = logging.getLogger(__name__)

MAX_DETAIL = 2000
MAX_QUEUE = 10_000


@dataclass(frozen=True)
class AuditRecord:
    via: str
    method: str
    route: str
    requirement: str
    allow: bool
    holder: str | None = None
    acting_for: str | None = None
    reason: str | None = None
    detail: str | None = None
    credentials: list[str] = field(default_factory=list)
    at: datetime = field(default_factory=utcnow)

    def row(self) -> dict[str, Any]:
        """The row to insert: every string clamped to its column and cleaned of what no
        database stores (NUL, lone surrogates), since a path or a DID comes from the caller."""
        values = asdict(self)
        for name, value in values.items():
            if isinstance(value, str):
                values[name] = _storable(value)[: _LENGTHS.get(name, MAX_DETAIL)]
        values["credentials"] = [_storable(str(c))[:500] for c in values["credentials"]]
        return values


#: Column lengths of the audit table's bounded strings (read from the model, not repeated).
_LENGTHS = {
    column.name: column.type.length
    for column in DecisionRow.__table__.columns
    if getattr(column.type, "length", None)
}


def _storable(text: str) -> str:
    text = text.replace("\x00", "\ufffd")
    return text.encode("utf-8", "replace").decode("utf-8")


class AuditLog:
    def __init__(self, factory: sessionmaker[Session], *, interval: float = 0.2) -> None:
        self.factory = factory
        self.interval = interval
        self._queue: deque[AuditRecord] = deque()
        self._lock = threading.Lock()  # serialises writers (the thread and flush())
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="gateway-audit", daemon=True)
        self._thread.start()
        atexit.register(self.flush)

    def record(self, record: AuditRecord) -> None:
        self._queue.append(record)
        if len(self._queue) >= MAX_QUEUE:
            self.flush()  # back-pressure: never drop a decision
        elif len(self._queue) >= 500:
            self._wake.set()

    def flush(self) -> int:
        """Write every queued decision now; returns how many."""
        with self._lock:
            batch: list[AuditRecord] = []
            while self._queue:
                batch.append(self._queue.popleft())
            if not batch:
                return 0
            try:
                self._write(batch)
            except Exception as exc:
                if not storage_unavailable(exc) and isinstance(exc, DBAPIError):
                    # Not an outage: some record the database will not take. Write one by one
                    # so that one record never holds back the whole log.
                    return sum(self._write_alone(record) for record in batch)
                log.warning("could not write %d audit records; keeping them queued", len(batch))
                self._queue.extendleft(reversed(batch))
                return 0
            return len(batch)

    def _write(self, batch: list[AuditRecord]) -> None:
        with transaction(self.factory) as session:
            session.execute(insert(DecisionRow), [r.row() for r in batch])

    def _write_alone(self, record: AuditRecord) -> int:
        try:
            self._write([record])
            return 1
        except DBAPIError as exc:
            if storage_unavailable(exc):
                self._queue.append(record)
            else:
                log.error("audit record refused by the database, dropped: %r", record.row())
            return 0

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        self._thread.join(timeout=2.0)
        self.flush()


def recent_decisions(
    factory: sessionmaker[Session],
    *,
    holder: str | None = None,
    allow: bool | None = None,
    route: str | None = None,
    limit: int = 100,
) -> Sequence[dict[str, Any]]:
    query = (
        where_given(select(DecisionRow), holder=holder, allow=allow, route=route)
        .order_by(DecisionRow.id.desc())
        .limit(max(1, min(limit, 1000)))
    )
    with factory() as session:
        rows = session.scalars(query).all()
    return [
        {
            "id": r.id,
            "at": r.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "holder": r.holder,
            "actingFor": r.acting_for,
            "via": r.via,
            "method": r.method,
            "route": r.route,
            "requirement": r.requirement,
            "allow": r.allow,
            "reason": r.reason,
            "detail": r.detail,
            "credentials": r.credentials,
        }
        for r in rows
    ]
