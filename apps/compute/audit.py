"""The compute audit log: a hash chain. Each entry's hash covers its content and the previous
entry's hash, so editing, deleting or reordering any entry breaks every hash after it, and
:func:`verify_chain` names the first entry that does not match.

Appends race safely: the next ``seq`` is the primary key, so of two writers that read the same
head one fails the insert and retries on the new head.

A job's ``finished`` entry says how it ended (:func:`ending`): exited, deadline, memory-limit,
cpu-limit, file-size-limit, signal, output-limit or output-rejected, with its exit code or
signal, whether every process of its sandbox was seen gone, and the checked outputs' hashes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from apps.compute.executor import RunResult
from apps.compute.models import AuditEntry
from credgate.db import transaction, utcnow

GENESIS = "0" * 64
ATTEMPTS = 20


def entry_hash(seq: int, at: str, job_id: str | None, event: str, data: Any, prev: str) -> str:
    canonical = json.dumps(
        {"seq": seq, "at": at, "job": job_id, "event": event, "data": data, "prev": prev},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def append(
    factory: sessionmaker[Session], event: str, data: dict[str, Any], job_id: str | None = None
) -> AuditEntry:
    for _ in range(ATTEMPTS):
        try:
            with transaction(factory) as session:
                head = session.scalar(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1))
                seq = head.seq + 1 if head else 1
                prev = head.hash if head else GENESIS
                at = utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")
                entry = AuditEntry(
                    seq=seq,
                    at=at,
                    job_id=job_id,
                    event=event,
                    data=data,
                    prev_hash=prev,
                    hash=entry_hash(seq, at, job_id, event, data, prev),
                )
                session.add(entry)
            return entry
        except IntegrityError:
            continue  # another writer took this seq: chain onto its entry
    raise RuntimeError("could not append to the compute audit log")


REASONS = {
    "deadline": "time limit exceeded",
    "memory-limit": "memory limit exceeded",
    "cpu-limit": "CPU time limit exceeded",
    "file-size-limit": "file size limit exceeded",
    "output-limit": "output limit exceeded",
    "output-rejected": "outputs rejected",
}


def succeeded(result: RunResult) -> bool:
    return result.exit_code == 0 and result.ended == "exited"


def reason(result: RunResult) -> str | None:
    """Why a job failed, in words (None when it succeeded)."""
    if succeeded(result):
        return None
    words = REASONS.get(result.ended)
    if words is None:
        words = (
            f"killed by signal {result.signal}"
            if result.signal is not None
            else f"exit code {result.exit_code}"
        )
    return f"{words}: {result.detail}" if result.detail else words


def ending(result: RunResult) -> dict[str, Any]:
    """How a job ended, for its ``finished`` entry."""
    return {
        "ended": result.ended,
        "signal": result.signal,
        "timedOut": result.timed_out,
        "outputs": [f.to_json() for f in result.outputs],
        "outputsRef": result.outputs_ref,
        "detail": result.detail,
        "sandbox": result.sandbox,
    }


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    broken_at: int | None = None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "brokenAt": self.broken_at,
            "reason": self.reason,
        }


def verify_chain(factory: sessionmaker[Session], batch: int = 1000) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    with factory() as session:
        after = 0
        while True:
            rows = session.scalars(
                select(AuditEntry)
                .where(AuditEntry.seq > after)
                .order_by(AuditEntry.seq)
                .limit(batch)
            ).all()
            if not rows:
                return ChainReport(True, count)
            for row in rows:
                if row.seq != expected_seq:
                    return ChainReport(
                        False, count, expected_seq, f"entry {expected_seq} is missing"
                    )
                if row.prev_hash != prev:
                    return ChainReport(
                        False, count, row.seq, "does not link to the entry before it"
                    )
                if entry_hash(row.seq, row.at, row.job_id, row.event, row.data, prev) != row.hash:
                    return ChainReport(False, count, row.seq, "its content was changed")
                prev = row.hash
                expected_seq += 1
                count += 1
                after = row.seq
