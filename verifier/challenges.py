"""Presentation challenges: issued by us, single use, expiring, bound to a domain and to the
consumer that issued them.

Every place that takes a presentation over a challenge (the VC-API's ``/challenges``, the
gateway's token API, each QR login portal, depute's sign-in) has a store of its own
``consumer``: a challenge issued for one is unknown to every other, so a presentation signed for
one place cannot be relayed to another while its challenge is live. Where ``require_domain`` is
set, a proof without ``domain`` is refused (a direct sign-in: the holder signs for the place it
talks to); QR logins take Aries wallets that omit it, and bind the challenge to the login instead.

Consumption is one conditional UPDATE, so two workers (or two requests) racing to use the same
challenge cannot both win, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from verifier import errors
from verifier.errors import VerificationError
from verifier.models import Challenge

DEFAULT_TTL = timedelta(minutes=5)
#: Spent and expired challenges are deleted this long after they expire.
RETENTION = timedelta(days=1)
MAX_CONSUMER = 64

# The suite's consumers. A QR login's is per portal (:func:`login_consumer`).
VC_API = "vc-api"
GATEWAY_TOKEN = "gateway-token"
DEPUTE = "depute"


def login_consumer(portal: str) -> str:
    """The namespace of the gateway's QR logins for ``portal`` (governance, company-access...)."""
    return f"gateway-login:{portal}"


def token_value() -> str:
    return secrets.token_urlsafe(24)


def uuid4_value() -> str:
    # ACA-Py refuses any other format in a DIF presentation request (422 "not UUID4"); 122 bits.
    return str(uuid.uuid4())


@dataclass(frozen=True)
class IssuedChallenge:
    challenge: str
    domain: str | None
    expires_at: datetime


class ChallengeStore:
    """The challenges of one ``consumer``: it issues them and spends only its own."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        consumer: str,
        *,
        ttl: timedelta = DEFAULT_TTL,
        require_domain: bool = False,
        values: Callable[[], str] = token_value,
    ) -> None:
        if not isinstance(consumer, str) or not 0 < len(consumer) <= MAX_CONSUMER:
            raise ValueError(f"a challenge consumer is a name of 1 to {MAX_CONSUMER} characters")
        self.factory = factory
        self.consumer = consumer
        self.ttl = ttl
        self.require_domain = require_domain
        self.values = values

    def issue(self, domain: str | None = None, *, now: datetime | None = None) -> IssuedChallenge:
        now = now or utcnow()
        value = self.values()
        expires_at = now + self.ttl
        with transaction(self.factory) as session:
            session.execute(delete(Challenge).where(Challenge.expires_at < now - RETENTION))
            row = Challenge(
                value=value,
                consumer=self.consumer,
                domain=domain,
                created_at=now,
                expires_at=expires_at,
            )
            session.add(row)
        return IssuedChallenge(value, domain, expires_at)

    def consume(self, value: str, domain: str | None, *, now: datetime | None = None) -> None:
        """Spend ``value``; raise domain-missing, challenge-unknown/-reused/-expired or
        domain-mismatch.

        ``domain`` is the domain the presentation was signed for: None when the holder omitted
        it, as Aries wallets do. Without ``require_domain`` the challenge's own domain binding
        then stands in for it. A challenge of another consumer is *unknown* here (nothing says
        that it exists elsewhere)."""
        now = now or utcnow()
        if self.require_domain and not (isinstance(domain, str) and domain):
            raise VerificationError(
                errors.DOMAIN_MISSING,
                "the presentation proof has no domain; sign it for the domain that came with "
                "the challenge",
            )
        if not isinstance(value, str) or not value or len(value) > 64:
            raise VerificationError(errors.CHALLENGE_UNKNOWN, "the challenge was not issued here")
        mine = (Challenge.value == value, Challenge.consumer == self.consumer)
        with transaction(self.factory) as session:
            row = session.scalar(select(Challenge).where(*mine))
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
                .where(*mine, Challenge.used_at.is_(None), Challenge.expires_at > now)
                .values(used_at=now)
            )
            if spent.rowcount == 1:
                return
        # Lost: say why (outside the transaction, which changed nothing).
        if row.used_at is not None or row.expires_at > now:
            raise VerificationError(errors.CHALLENGE_REUSED, "the challenge was already used")
        raise VerificationError(errors.CHALLENGE_EXPIRED, "the challenge has expired")


class _Consuming(Protocol):
    challenges: ChallengeStore | None


def bound_to[V: _Consuming](verifier: V, store: ChallengeStore) -> V:
    """``verifier`` spending challenges from ``store`` only: a shallow copy sharing its resolver,
    trust, status and proof caches (so a consumer never spends another's challenges)."""
    bound = copy.copy(verifier)
    bound.challenges = store
    return bound
