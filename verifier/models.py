"""Tables of the verifier: the challenges it issued (single use, expiring, each for one consumer).

Challenges live in the database, not in a worker's memory, so that every gateway worker agrees
on which were issued and which are spent (a challenge spent on one worker is spent on all).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, Str64, Uri, WrittenAt


class Challenge(Base):
    __tablename__ = "verifier_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[Str64] = mapped_column(unique=True)
    # Who issued it and alone may spend it (verifier.challenges: "gateway-token", "depute", ...).
    consumer: Mapped[Str64]
    domain: Mapped[Uri | None]
    created_at: Mapped[WrittenAt]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
