"""Tables of the compute app: uploaded flists (bytes on disk, content-addressed), jobs, and the
hash-chained audit log of every job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import (
    Base,
    Did,
    Id32,
    Md5Hex,
    Sha256Hex,
    Str16,
    Str32,
    Str40,
    Str64,
    Str100,
    Uri,
    WrittenAt,
)


class Flist(Base):
    __tablename__ = "compute_flists"

    digest: Mapped[Str100] = mapped_column(primary_key=True)  # urn:sha256:<hex>
    md5: Mapped[Md5Hex]
    size: Mapped[int]
    uploaded_by: Mapped[Did]
    created_at: Mapped[WrittenAt]


class Job(Base):
    __tablename__ = "compute_jobs"

    id: Mapped[Id32] = mapped_column(primary_key=True)
    flist: Mapped[Str100]
    dataset: Mapped[Uri]
    purpose: Mapped[Str64]
    holder: Mapped[Did]
    party: Mapped[Did] = mapped_column(index=True)
    state: Mapped[Str16]  # refused|queued|running|succeeded|failed
    reason: Mapped[str | None]
    certificates: Mapped[list[str]] = mapped_column(default=list)
    exit_code: Mapped[int | None]
    timed_out: Mapped[bool] = mapped_column(default=False)
    stdout: Mapped[str | None]
    stderr: Mapped[str | None]
    created_at: Mapped[WrittenAt]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One link of the chain: ``hash = sha256(canonical JSON of the entry with prev_hash)``."""

    __tablename__ = "compute_audit"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[Str40]  # the exact text that was hashed
    job_id: Mapped[Id32 | None]
    event: Mapped[Str32]
    data: Mapped[dict[str, Any]]
    prev_hash: Mapped[Sha256Hex]
    hash: Mapped[Sha256Hex]
