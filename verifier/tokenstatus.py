"""IETF Token Status List (``statuslist+jwt``): the status of SD-JWT VCs.

A referenced token names ``status.status_list = {idx, uri}``; the list at ``uri`` is a JWT
(``typ: statuslist+jwt``) whose ``sub`` is that URI and whose ``status_list`` holds ``bits`` per
token (1, 2, 4 or 8) in ``lst``: ZLIB-deflated, base64url, the first token in the *least*
significant bits of the first byte. Status 0 is valid, 1 invalid (revoked), 2 suspended; any
other value is refused too.

The list must be signed by a key of the credential's issuer (or of a publisher the trust
registry names for that issuer), listed in that DID's own document. Lists are fetched under the
verifier's fetch policy and cached beside the W3C status lists (:class:`TokenStatusListCache`
follows its companion :class:`~verifier.status.StatusListCache`: the change feed's invalidations
and set-bit overlay, and its short TTL), so a revocation cuts SD-JWT sessions as fast.
"""

from __future__ import annotations

import threading
import time
import weakref
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import errors, jose, lru
from verifier.dids import DidResolver
from verifier.errors import VerificationError
from verifier.fetch import FetchError, FetchLocks
from verifier.sdjwt import TOKEN_STATUS_ENTRY
from verifier.status import (
    FETCH_LOCKS,
    MAX_BITSTRING_BYTES,
    MAX_LIST_BYTES,
    StatusListCache,
    list_fetch_failed,
    list_unverified,
)

LIST_TYPE = "statuslist+jwt"
ACCEPT = "application/statuslist+jwt"
VALID, INVALID, SUSPENDED = 0, 1, 2
TOKEN_SUFFIX = "/token"


@dataclass(frozen=True)
class TokenStatusList:
    uri: str
    signer: str  # the DID whose key signed the list
    bits: int
    data: bytes
    fetched_at: float
    generation: int
    expires: float | None  # the list's exp (epoch seconds)

    @property
    def length(self) -> int:
        return len(self.data) * 8 // self.bits

    def value(self, index: int) -> int:
        if not 0 <= index < self.length:
            raise VerificationError(
                errors.INVALID_STATUS, f"status index {index} outside the list ({self.length})"
            )
        per_byte = 8 // self.bits
        byte = self.data[index // per_byte]
        shift = (index % per_byte) * self.bits
        return (byte >> shift) & ((1 << self.bits) - 1)


def inflate(encoded: Any) -> bytes:
    if not isinstance(encoded, str) or not encoded:
        raise VerificationError(errors.INVALID_STATUS, "status_list.lst is missing")
    try:
        compressed = jose.b64url_decode(encoded)
        inflater = zlib.decompressobj()
        data = inflater.decompress(compressed, MAX_BITSTRING_BYTES + 1)
    except (ValueError, zlib.error):
        raise VerificationError(
            errors.INVALID_STATUS, "status_list.lst is not ZLIB base64url"
        ) from None
    if len(data) > MAX_BITSTRING_BYTES or inflater.unconsumed_tail:
        raise VerificationError(errors.INVALID_STATUS, "status_list.lst is too large")
    return data


def deflate(data: bytes) -> str:
    """The inverse of :func:`inflate` (publishers' side, tests)."""
    return jose.b64url(zlib.compress(data, 9))


def read_list(
    token: str, uri: str, resolver: DidResolver, fetched_at: float, generation: int, now: datetime
) -> TokenStatusList:
    """A fetched list JWT, verified: algorithm, ``typ``, a key of its ``iss`` DID (by ``kid``),
    ``sub`` = the URI it was fetched for, not expired."""
    try:
        header, payload = jose.parse(token, "status list")
        if header.get("typ") != LIST_TYPE:
            raise VerificationError(errors.INVALID_JWT, f"typ {header.get('typ')!r}")
        signer = payload.get("iss")
        if not isinstance(signer, str) or not signer.startswith("did:"):
            raise VerificationError(errors.INVALID_JWT, "the list's iss is not a DID")
        key = jose.method_key(resolver, header.get("kid"), signer, "assertionMethod", "status list")
        jose.verify(token, key, "status list")
        jose.check_times(payload, now, "status list")
    except VerificationError as exc:
        raise list_unverified(uri, exc) from None
    if payload.get("sub") != uri:
        raise VerificationError(
            errors.INVALID_STATUS, f"the status list at {uri} names another URI"
        )
    listed = payload.get("status_list")
    if not isinstance(listed, Mapping) or listed.get("bits") not in (1, 2, 4, 8):
        raise VerificationError(
            errors.INVALID_STATUS, f"{uri}: status_list.bits must be 1, 2, 4 or 8"
        )
    exp = jose.numeric_date(payload, "exp")
    return TokenStatusList(
        uri,
        signer,
        listed["bits"],
        inflate(listed.get("lst")),
        fetched_at,
        generation,
        exp.timestamp() if exp else None,
    )


class TokenStatusListCache:
    """Verified token status lists by URI: kept for the companion's short TTL, dropped by any
    invalidation the change feed causes there, and refused at once for an index the feed
    reported set."""

    def __init__(self, companion: StatusListCache, resolver: DidResolver, max_lists: int = 256):
        self.companion = companion
        self.resolver = resolver
        self.max_lists = max_lists
        self._lists: OrderedDict[str, TokenStatusList] = OrderedDict()
        self._lock = threading.Lock()
        self._url_locks = FetchLocks(FETCH_LOCKS)
        self.fetches = 0

    def _generation(self) -> int:
        # The companion counts its invalidations (feed changes, feed loss); a list fetched
        # before the latest one may be stale.
        return getattr(self.companion, "_generation", 0)

    def _fresh(self, uri: str) -> TokenStatusList | None:
        with self._lock:
            cached = self._lists.get(uri)
        if cached is None or cached.generation != self._generation():
            return None
        # At most the short TTL, even with a healthy feed: the feed names the W3C form of a list,
        # and forgets a set bit once the W3C form shows it, which says nothing about this copy.
        if time.monotonic() - cached.fetched_at > self.companion.short_ttl:
            return None
        if cached.expires is not None and cached.expires < time.time():
            return None
        return cached

    def get(self, uri: str, now: datetime) -> TokenStatusList:
        return self._url_locks.fetch_once(
            uri, lambda: self._fresh(uri), lambda: self._load(uri, now)
        )

    def _load(self, uri: str, now: datetime) -> TokenStatusList:
        generation = self._generation()
        fetched_at = time.monotonic()
        self.fetches += 1
        target = self.companion.target_url(uri)
        try:
            body = self.companion.fetcher.get(target, accept=ACCEPT, max_bytes=MAX_LIST_BYTES).body
            token = body.decode("ascii").strip()
        except FetchError as exc:
            raise list_fetch_failed(exc) from None
        except UnicodeDecodeError:
            raise VerificationError(errors.INVALID_STATUS, "the status list is not a JWT") from None
        listed = read_list(token, uri, self.resolver, fetched_at, generation, now)
        with self._lock:
            lru.keep(self._lists, uri, listed, self.max_lists)
        return listed


_caches: weakref.WeakKeyDictionary[StatusListCache, TokenStatusListCache] = (
    weakref.WeakKeyDictionary()
)
_caches_lock = threading.Lock()


def cache_for(companion: StatusListCache, resolver: DidResolver) -> TokenStatusListCache:
    """The token status list cache that rides along ``companion`` (one per verifier)."""
    with _caches_lock:
        found = _caches.get(companion)
        if found is None:
            found = _caches[companion] = TokenStatusListCache(companion, resolver)
        return found


def check_token_status(
    uri: str,
    index: int,
    issuer: str,
    cache: TokenStatusListCache,
    trusted_signers: frozenset[str] = frozenset(),
    now: datetime | None = None,
) -> None:
    """Raise revoked/suspended/invalid-status unless token ``index`` of the list is valid."""
    # The change feed names a list by its W3C URL; the suite's revocation service publishes the
    # token form of the same list (same indices) at ``<list URL>/token``.
    if any(cache.companion.known_set(url, index) for url in (uri, uri.removesuffix(TOKEN_SUFFIX))):
        raise VerificationError(errors.REVOKED, "the credential has been revoked")
    listed = cache.get(uri, now or datetime.now(UTC))
    if listed.signer != issuer and listed.signer not in trusted_signers:
        raise VerificationError(
            errors.INVALID_STATUS,
            f"the status list is signed by {listed.signer}, not by the credential's issuer",
        )
    value = listed.value(index)
    if value == INVALID:
        raise VerificationError(errors.REVOKED, "the credential has been revoked")
    if value == SUSPENDED:
        raise VerificationError(errors.SUSPENDED, "the credential is suspended")
    if value != VALID:
        raise VerificationError(errors.REVOKED, f"the credential's status is {value:#04x}")


def token_entries(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = credential.get("credentialStatus")
    entries = entries if isinstance(entries, list) else [entries]
    return [e for e in entries if isinstance(e, Mapping) and e.get("type") == TOKEN_STATUS_ENTRY]
