"""Grants: what a verified presentation allows, kept so that every later request can be judged
again against the credentials' *current* state.

A grant stores the holder DID and the credentials the presentation carried. Their proofs and the
holder binding were verified once, when the grant was made, and cannot change. What can change
— status (revoked, suspended), the issuer's trust (a company KCIT deactivates), validity period —
is re-checked on every request by :func:`recheck`, from the verifier's status cache (invalidated
by the revocation change feed) and trust registry.

Grant rows never change after creation except for ``ended_at`` (logout), so a worker caches the
parsed credentials of a grant for as long as the grant lives.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cachetools import LRUCache
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.hashing import hash_token
from gateway.models import Grant
from verifier.credentials import CredentialFacts, check_credential
from verifier.engine import CredentialResult, PresentationResult, Verifier
from verifier.vptoken import assess

#: Grants, logins and sign-in hand-offs are kept this long after they end, then deleted.
RETENTION = timedelta(days=1)


@dataclass(frozen=True)
class LoadedGrant:
    id: str
    kind: str
    holder: str
    credentials: tuple[tuple[Mapping[str, Any], CredentialFacts], ...]
    expires_at: datetime
    portal: str | None = None

    @property
    def credential_ids(self) -> list[str]:
        return [str(c.get("id", "(no id)")) for c, _ in self.credentials]


def status_entry_ids(credentials: Sequence[Mapping[str, Any]]) -> list[str]:
    """``<list URL>#<index>`` of every status entry (what the grant is bound to)."""
    found = []
    for credential in credentials:
        entries = credential.get("credentialStatus")
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, Mapping):
                found.append(f"{entry.get('statusListCredential')}#{entry.get('statusListIndex')}")
    return found


def grant_lifetime(result: PresentationResult, ttl: timedelta, now: datetime) -> datetime:
    """A grant ends with its token or session, or earlier when a credential expires."""
    end = now + ttl
    for credential in result.credentials:
        if credential.facts is not None and credential.facts.valid_until is not None:
            end = min(end, credential.facts.valid_until)
    return end


class GrantStore:
    def __init__(self, factory: sessionmaker[Session], cache_size: int = 4096) -> None:
        self.factory = factory
        self._cache: LRUCache[str, LoadedGrant] = LRUCache(cache_size)
        self._lock = threading.Lock()

    def create(
        self,
        result: PresentationResult,
        *,
        kind: str,
        ttl: timedelta,
        portal: str | None = None,
        with_session: bool = False,
        now: datetime | None = None,
    ) -> tuple[str, str | None]:
        """Store a grant for a verified presentation; returns (grant id, session secret)."""
        if not result.verified or result.holder is None:
            raise ValueError("only a verified presentation makes a grant")
        now = now or utcnow()
        credentials = [c.credential for c in result.credentials]
        grant_id = secrets.token_urlsafe(16)
        secret = secrets.token_urlsafe(32) if with_session else None
        with transaction(self.factory) as session:
            # Housekeeping on the way: grants over for a day are of no use to anyone.
            session.execute(delete(Grant).where(Grant.expires_at < now - RETENTION))
            session.add(
                Grant(
                    id=grant_id,
                    kind=kind,
                    holder=result.holder,
                    credentials=credentials,
                    credential_ids=[str(c.get("id", "(no id)")) for c in credentials],
                    status_entries=status_entry_ids(credentials),
                    portal=portal,
                    session_hash=hash_token(secret) if secret else None,
                    created_at=now,
                    expires_at=grant_lifetime(result, ttl, now),
                )
            )
        return grant_id, secret

    def get(self, grant_id: str) -> LoadedGrant | None:
        """A live token grant (cached: a grant's content never changes)."""
        with self._lock:
            loaded = self._cache.get(grant_id)
        if loaded is None:
            with self.factory() as session:
                row = session.get(Grant, grant_id)
                if row is None or row.ended_at is not None:
                    return None
                loaded = _load(row)
            with self._lock:
                self._cache[grant_id] = loaded
        return loaded

    def by_session(self, secret: str, now: datetime | None = None) -> LoadedGrant | None:
        """The live grant of a browser session. Always read from the database: logout in any
        worker must end the session everywhere."""
        now = now or utcnow()
        with self.factory() as session:
            row = session.scalar(select(Grant).where(Grant.session_hash == hash_token(secret)))
            if row is None or row.ended_at is not None or row.expires_at <= now:
                return None
            with self._lock:
                loaded = self._cache.get(row.id)
            if loaded is None:
                loaded = _load(row)
                with self._lock:
                    self._cache[row.id] = loaded
        return loaded

    def attach_session(self, grant_id: str) -> str | None:
        """Give a (login) grant its browser session, once: returns the cookie's secret, or None
        if the grant already has a session or has ended."""
        secret = secrets.token_urlsafe(32)
        with transaction(self.factory) as session:
            updated = session.execute(
                update(Grant)
                .where(Grant.id == grant_id, Grant.session_hash.is_(None), Grant.ended_at.is_(None))
                .values(session_hash=hash_token(secret))
            )
        return secret if updated.rowcount == 1 else None

    def end(self, grant_id: str, now: datetime | None = None) -> None:
        with transaction(self.factory) as session:
            session.execute(
                update(Grant)
                .where(Grant.id == grant_id, Grant.ended_at.is_(None))
                .values(ended_at=now or utcnow())
            )
        with self._lock:
            self._cache.pop(grant_id, None)


def _load(row: Grant) -> LoadedGrant:
    parsed = tuple((c, check_credential(c)) for c in row.credentials)
    return LoadedGrant(row.id, row.kind, row.holder, parsed, row.expires_at, row.portal)


def recheck(
    verifier: Verifier,
    credentials: Sequence[tuple[Mapping[str, Any], CredentialFacts]],
    now: datetime,
) -> tuple[CredentialResult, ...]:
    """The credentials' state now: validity period, status entries (Token Status Lists of
    SD-JWT VCs too), issuer trust (proofs and holder binding were verified when the grant was
    made)."""
    return tuple(
        assess(verifier, CredentialResult(credential, facts=facts, checks=["proof", "issuer"]), now)
        for credential, facts in credentials
    )
