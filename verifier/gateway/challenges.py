"""Challenges for gateway presentations: the verifier's single-use challenge store, with UUID4
values — ACA-Py refuses any other format in a DIF presentation request (422 "not UUID4"), and a
token client and a QR login should get the same kind of challenge."""

from __future__ import annotations

import uuid
from datetime import datetime

from credgate.db import transaction, utcnow
from verifier.challenges import ChallengeStore, IssuedChallenge
from verifier.models import Challenge


def issue_challenge(
    store: ChallengeStore, domain: str | None, *, now: datetime | None = None
) -> IssuedChallenge:
    now = now or utcnow()
    value = str(uuid.uuid4())  # 122 random bits
    expires_at = now + store.ttl
    with transaction(store.factory) as session:
        session.add(Challenge(value=value, domain=domain, created_at=now, expires_at=expires_at))
    return IssuedChallenge(value, domain, expires_at)
