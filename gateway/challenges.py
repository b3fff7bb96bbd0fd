"""The gateway's challenge stores: one for its token API, one per QR login portal, each a
consumer of its own (:mod:`verifier.challenges`). Their values are UUID4s — ACA-Py refuses any
other format in a DIF presentation request (422 "not UUID4"), and a token client and a QR login
should get the same kind of challenge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from verifier.challenges import (
    DEFAULT_TTL,
    GATEWAY_TOKEN,
    ChallengeStore,
    login_consumer,
    uuid4_value,
)


def token_challenges(
    factory: sessionmaker[Session], ttl: timedelta = DEFAULT_TTL
) -> ChallengeStore:
    """``/auth/challenge`` + ``/auth/token``: a machine client signs for the gateway's domain."""
    return ChallengeStore(factory, GATEWAY_TOKEN, ttl=ttl, require_domain=True, values=uuid4_value)


def login_challenges(
    factory: sessionmaker[Session], portal: str, ttl: timedelta = DEFAULT_TTL
) -> ChallengeStore:
    """A QR login of ``portal``: Aries wallets omit ``domain``, so it is not required; the
    challenge is bound to its login instead (the login's expected challenge, its lifetime, its
    browser)."""
    return ChallengeStore(factory, login_consumer(portal), ttl=ttl, values=uuid4_value)
