"""Tables of the verifier: the challenges it issued (single use, expiring, each for one consumer).

Challenges live in the database, not in a worker's memory, so that every gateway worker agrees
on which were issued and which are spent (a challenge spent on one worker is spent on all).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow


class Challenge(Base):
    __tablename__ = "verifier_challenges"
    __table_args__ = (Index("ix_verifier_challenges_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[str] = mapped_column(String(64), unique=True)
    # Who issued it and alone may spend it (verifier.challenges: "gateway-token", "depute", ...).
    consumer: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
