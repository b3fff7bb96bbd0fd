"""Tables of the compute app: uploaded flists (bytes on disk, content-addressed), jobs, and the
hash-chained audit log of every job."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow


class Flist(Base):
    __tablename__ = "compute_flists"

    digest: Mapped[str] = mapped_column(String(100), primary_key=True)  # urn:sha256:<hex>
    md5: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    __tablename__ = "compute_jobs"
    __table_args__ = (Index("ix_compute_jobs_party", "party"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    flist: Mapped[str] = mapped_column(String(100))
    dataset: Mapped[str] = mapped_column(String(500))
    purpose: Mapped[str] = mapped_column(String(64))
    holder: Mapped[str] = mapped_column(String(500))
    party: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16))  # refused|queued|running|succeeded|failed
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    certificates: Mapped[list[str]] = mapped_column(JSON, default=list)
    exit_code: Mapped[int | None] = mapped_column(Integer, default=None)
    timed_out: Mapped[bool] = mapped_column(Boolean, default=False)
    stdout: Mapped[str | None] = mapped_column(Text, default=None)
    stderr: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEntry(Base):
    """One link of the chain: ``hash = sha256(canonical JSON of the entry with prev_hash)``."""

    __tablename__ = "compute_audit"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(40))  # the exact text that was hashed
    job_id: Mapped[str | None] = mapped_column(String(32), default=None)
    event: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
