"""Presentation challenges: issued by us, single use, expiring, bound to a domain.

Consumption is one conditional UPDATE, so two workers (or two requests) racing to use the same
challenge cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from verifier import errors
from verifier.errors import VerificationError
from verifier.models import Challenge

DEFAULT_TTL = timedelta(minutes=5)
#: Spent and expired challenges are deleted this long after they expire.
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class IssuedChallenge:
    challenge: str
    domain: str | None
    expires_at: datetime


class ChallengeStore:
    def __init__(self, factory: sessionmaker[Session], ttl: timedelta = DEFAULT_TTL) -> None:
        self.factory = factory
        self.ttl = ttl

    def issue(self, domain: str | None = None, *, now: datetime | None = None) -> IssuedChallenge:
        now = now or utcnow()
        value = secrets.token_urlsafe(24)
        expires_at = now + self.ttl
        with transaction(self.factory) as session:
            session.execute(delete(Challenge).where(Challenge.expires_at < now - RETENTION))
            session.add(
                Challenge(value=value, domain=domain, created_at=now, expires_at=expires_at)
            )
        return IssuedChallenge(value, domain, expires_at)

    def consume(self, value: str, domain: str | None, *, now: datetime | None = None) -> None:
        """Spend ``value``; raise challenge-unknown/-reused/-expired or domain-mismatch.

        ``domain`` is the domain the presentation was signed for (None when the holder omitted
        it, as Aries wallets do: the challenge's own domain binding then stands in for it)."""
        now = now or utcnow()
        if not isinstance(value, str) or not value or len(value) > 64:
            raise VerificationError(errors.CHALLENGE_UNKNOWN, "the challenge was not issued here")
        with transaction(self.factory) as session:
            row = session.scalar(select(Challenge).where(Challenge.value == value))
            if row is None:
                raise VerificationError(
                    errors.CHALLENGE_UNKNOWN, "the challenge was not issued here"
                )
            if domain is not None and row.domain is not None and domain != row.domain:
                raise VerificationError(
                    errors.DOMAIN_MISMATCH,
                    f"the presentation is for {domain!r}, the challenge for {row.domain!r}",
                )
            spent = session.execute(
                update(Challenge)
                .where(
                    Challenge.value == value,
                    Challenge.used_at.is_(None),
                    Challenge.expires_at > now,
                )
                .values(used_at=now)
            )
            if spent.rowcount == 1:
                return
        # Lost: say why (outside the transaction, which changed nothing).
        if row.used_at is not None or row.expires_at > now:
            raise VerificationError(errors.CHALLENGE_REUSED, "the challenge was already used")
        raise VerificationError(errors.CHALLENGE_EXPIRED, "the challenge has expired")
