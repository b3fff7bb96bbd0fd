"""The trust registry KCIT serves over HTTP, as a :class:`verifier.trust.TrustRegistry`.

Per DID, one answer of ``GET <kcit>/kcit/trust/dids/<did>`` (company status, accreditations,
delegable powers) is cached; the onboarding authority comes from ``GET <kcit>/kcit/trust``.
Freshness works like the status-list cache (a company KCIT deactivates must stop working
within one second):

* while :class:`KcitChangeFeed` follows ``GET <kcit>/kcit/changes?after=&wait=`` (long poll), a
  DID's entry is dropped the moment the feed names it, and entries otherwise live ``long_ttl``;
* without a healthy feed, entries live ``short_ttl`` (one second).

Every fetch is bounded. If KCIT cannot be reached, a lookup raises a ``trust-unavailable``
verification error (never "unknown company": that would be a different, false, reason). KCIT
names no status-list publishers: every list counts only when signed by its credentials' own
issuer. After a failed connection nothing asks KCIT again for ``short_ttl``: requests
meanwhile fail at once instead of each waiting out the time-out.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import requests

from verifier import feeds, lru
from verifier.errors import VerificationError
from verifier.trust import CompanyStatus

log = logging.getLogger(__name__)

TRUST_UNAVAILABLE = "trust-unavailable"
FETCH_TIMEOUT = (2.0, 3.0)
MAX_BODY = 64 * 1024


@dataclass(frozen=True)
class DidFacts:
    status: CompanyStatus
    accreditations: frozenset[str]
    powers: frozenset[str]
    fetched_at: float


class KcitTrustRegistry:
    """A :class:`~verifier.trust.TrustRegistry` asking KCIT, with a per-DID cache."""

    def __init__(
        self,
        base_url: str,
        *,
        short_ttl: float = 1.0,
        long_ttl: float = 300.0,
        max_entries: int = 4096,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.short_ttl = short_ttl
        self.long_ttl = long_ttl
        self.max_entries = max_entries
        self.feed_healthy = False
        self.fetches = 0
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, DidFacts] = OrderedDict()
        self._generation = 0
        self._authority: tuple[str | None, float] | None = None
        self._down_until = float("-inf")  # after a failed connection: no fetch before this

    @property
    def ttl(self) -> float:
        return self.long_ttl if self.feed_healthy else self.short_ttl

    # -- the TrustRegistry protocol ------------------------------------------------------------

    def is_onboarding_authority(self, did: str) -> bool:
        return did is not None and did == self._trust()

    def company_status(self, did: str) -> CompanyStatus:
        return self.facts(did).status

    def may_issue(self, did: str, credential_type: str) -> bool:
        return credential_type in self.facts(did).accreditations

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return frozenset()

    def company_powers(self, did: str) -> frozenset[str]:
        """``app:action`` powers the company of ``did`` may delegate (empty unless active)."""
        return self.facts(did).powers

    # -- cache ---------------------------------------------------------------------------------

    def invalidate(self, did: str | None = None) -> None:
        with self._lock:
            self._generation += 1
            if did is None:
                self._entries.clear()
                self._authority = None
            else:
                self._entries.pop(did, None)

    def facts(self, did: str) -> DidFacts:
        now = self._clock()
        with self._lock:
            cached = self._entries.get(did)
            if cached is not None and now - cached.fetched_at <= self.ttl:
                return cached
            generation = self._generation
        body = self._get(f"/kcit/trust/dids/{quote(did, safe=':')}")
        try:
            facts = DidFacts(
                status=CompanyStatus(body["companyStatus"]),
                accreditations=frozenset(body.get("accreditations") or ()),
                powers=frozenset(body.get("powers") or ()),
                fetched_at=now,
            )
        except (KeyError, ValueError, TypeError):
            raise VerificationError(
                TRUST_UNAVAILABLE, "KCIT answered malformed trust facts"
            ) from None
        with self._lock:
            if generation == self._generation:  # not invalidated while we fetched
                lru.keep(self._entries, did, facts, self.max_entries)
        return facts

    def _trust(self) -> str | None:
        now = self._clock()
        cached = self._authority
        if cached is not None and now - cached[1] <= self.ttl:
            return cached[0]
        body = self._get("/kcit/trust")
        authority = body.get("onboardingAuthority")
        if authority is not None and not isinstance(authority, str):
            raise VerificationError(TRUST_UNAVAILABLE, "KCIT answered a malformed authority")
        # The authority never changes once it exists; until then, ask again a moment later.
        fetched = now if authority else now - max(0.0, self.ttl - self.short_ttl)
        self._authority = (authority, fetched)
        return authority

    def _get(self, path: str) -> Mapping[str, Any]:
        if self._clock() < self._down_until:
            raise VerificationError(TRUST_UNAVAILABLE, "KCIT did not answer a moment ago")
        self.fetches += 1
        try:
            with self._session.get(
                self.base_url + path,
                timeout=FETCH_TIMEOUT,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/json"},
            ) as response:
                body = response.raw.read(MAX_BODY + 1, decode_content=True)
                status = response.status_code
        except requests.RequestException as exc:
            self._down_until = self._clock() + self.short_ttl
            raise VerificationError(
                TRUST_UNAVAILABLE, f"KCIT did not answer: {type(exc).__name__}"
            ) from None
        if status != 200 or len(body) > MAX_BODY:
            raise VerificationError(TRUST_UNAVAILABLE, f"KCIT answered {status}")
        try:
            parsed = json.loads(body)
        except ValueError:
            raise VerificationError(TRUST_UNAVAILABLE, "KCIT answered no JSON") from None
        if not isinstance(parsed, dict):
            raise VerificationError(TRUST_UNAVAILABLE, "KCIT answered no JSON object")
        return parsed


class KcitChangeFeed(feeds.ChangeFeed):
    """Follows KCIT's change feed (``GET <kcit>/kcit/changes?after=&wait=``; each change names a
    company ``did``) and drops those DIDs from the registry's cache."""

    def __init__(self, registry: KcitTrustRegistry, **options: Any) -> None:
        url = f"{registry.base_url}/kcit/changes"
        super().__init__(url, "did", registry, name="kcit", **options)
        self.registry = registry


def kcit_trust(base_url: str, *, follow: bool = True) -> tuple[KcitTrustRegistry, KcitChangeFeed]:
    """A registry for KCIT at ``base_url`` and its change feed (started unless ``follow`` is
    false); stop the feed on shutdown."""
    registry = KcitTrustRegistry(base_url)
    feed = KcitChangeFeed(registry)
    if follow:
        feed.start()
    return registry, feed
