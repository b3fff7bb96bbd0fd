"""Credential status: StatusList2021 and BitstringStatusList, fetched, verified, cached.

A status entry names a status-list credential by URL and a bit index. The list credential is
fetched under the fetch policy (:mod:`verifier.fetch`), its own proof verified by
the injected ``verify_list`` (our library), and its decoded bitstring cached per URL.

Freshness (a revoked credential must stop working within one second):

* with the revocation service's change feed connected (:class:`ChangeFeed`), a changed list is
  dropped from the cache the moment the feed reports it, and cached lists otherwise live for
  ``long_ttl``;
* without a healthy feed, lists live only ``short_ttl`` (one second by default).

A change that names its entry (``index`` and ``status``) and sets its bit is not fetched for:
the cache keeps an *overlay* of such bits on top of the lists. The revoked credential is refused
at once, also while the revocation service cannot sign the list again (its signer is down) and
serves the last signed one; every other entry of that list keeps verifying against it. The
overlay only ever adds set bits, and only from the feed this verifier was configured to follow;
a bit is forgotten once a fetched list shows it. A cleared bit (reinstated) drops the list, since
only a newly signed list can say so.

Status is looked up on every verification; only the fetched lists are cached, never a verdict.

Formats (:func:`decode_list`): a list credential secured with a Data Integrity proof (JSON-LD,
checked by the injected ``verify_list``), or secured as a JWT: ``vc+jwt`` (VC-JOSE-COSE, the
payload is the credential), a VC-JWT with a ``vc`` claim (as walt.id and EBSI publish lists), or
either wrapped as an ``EnvelopedVerifiableCredential`` whose id is a ``data:application/vc+jwt,``
URL. A JWT counts only when signed with an asymmetric algorithm by a key listed in its issuer
DID's own document (the rule every proof follows). IETF Token Status Lists (``statuslist+jwt``)
are the other JWT-secured list format; :mod:`verifier.tokenstatus` reads them for
``TokenStatusListEntry`` entries, and a W3C entry pointing at one is refused here.

The size of a Bitstring Status List entry (``statusSize``) and its messages (``statusMessage``)
are the entry's, as that spec puts them; a StatusList2021 list's size is the list's own.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import re
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import errors, feeds, jose, lru
from verifier.credentials import as_list
from verifier.dids import DidResolver
from verifier.errors import VerificationError
from verifier.fetch import Fetcher, FetchError, FetchLocks, FetchPolicy
from verifier.jwtvc import credential_view

log = logging.getLogger(__name__)

FETCH_DEADLINE = 5.0  # seconds for a whole fetch of one list
FETCH_LOCKS = 64  # stripes of the one-fetch-per-URL locks (a bounded table)
MAX_LIST_BYTES = 1024 * 1024  # the list credential as fetched
MAX_BITSTRING_BYTES = 4 * 1024 * 1024  # decompressed (a gzip bomb stops here)
MAX_OVERLAY_LISTS = 1024  # lists with bits known set but not yet seen in a fetched list
SET_STATUSES = frozenset({"revoked", "suspended", "abandoned"})  # a change that sets the bit

#: What a list may be fetched as: a JSON-LD credential, or a JWT-secured one.
LIST_ACCEPT = "application/vc+ld+json, application/vc+jwt, application/vc, application/json"
#: ``typ`` values of a JWT-secured W3C list (VC-JOSE-COSE, its drafts, plain VC-JWT).
JWT_TYPES = frozenset({"vc+jwt", "vc+ld+jwt", "JWT", "jwt", None})
ENVELOPED = "EnvelopedVerifiableCredential"
ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vc+ld+jwt,")
TOKEN_LIST_TYPE = "statuslist+jwt"
MAX_STATUS_SIZE = 8

#: The two status-list models, by the type of the list itself (its ``credentialSubject``): the
#: type of an entry pointing into such a list, and the type of the list's credential.
STATUS_LIST_MODELS = {
    "StatusList2021": ("StatusList2021Entry", "StatusList2021Credential"),
    "BitstringStatusList": ("BitstringStatusListEntry", "BitstringStatusListCredential"),
}
#: The entry type an issuer writes for each model.
MODEL_ENTRY_TYPES = {model: entry for model, (entry, _) in STATUS_LIST_MODELS.items()}
#: The list credential type each entry type must point at.
ENTRY_TYPES = {entry: credential for entry, credential in STATUS_LIST_MODELS.values()}
#: The list (subject) type of each list credential type.
LIST_SUBJECT_TYPES = {credential: model for model, (_, credential) in STATUS_LIST_MODELS.items()}


@dataclass(frozen=True)
class StatusList:
    url: str
    kind: str  # StatusList2021Credential or BitstringStatusListCredential
    issuer: str
    purpose: str
    bits: bytes
    status_size: int
    fetched_at: float
    #: Whether the list credential stated its own statusSize (old BitstringStatusList drafts).
    size_stated: bool = False

    @property
    def length(self) -> int:
        return len(self.bits) * 8 // self.status_size

    def value(self, index: int, size: int | None = None) -> int:
        """The status value at ``index`` for entries of ``size`` bits (the list's own by
        default); bit 0 is the left-most bit of the first byte."""
        size = size or self.status_size
        length = len(self.bits) * 8 // size
        if not 0 <= index < length:
            raise VerificationError(
                errors.INVALID_STATUS, f"status index {index} outside the list ({length})"
            )
        result = 0
        for bit in range(index * size, (index + 1) * size):
            result = (result << 1) | ((self.bits[bit // 8] >> (7 - bit % 8)) & 1)
        return result


@dataclass(frozen=True)
class StatusEntry:
    type: str
    purpose: str
    index: int
    list_url: str
    #: The entry's statusSize (BitstringStatusListEntry), None to use the list's.
    size: int | None = None
    #: statusMessage: status value -> message.
    messages: Mapping[int, str] | None = None


@dataclass(frozen=True)
class EntryStatus:
    """What a status entry's list says about it."""

    purpose: str
    value: int
    message: str | None


def _status_size(entry: Mapping[str, Any]) -> int:
    size = entry.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_STATUS_SIZE:
        raise VerificationError(
            errors.INVALID_STATUS, f"statusSize must be an integer from 1 to {MAX_STATUS_SIZE}"
        )
    return size


def _status_messages(entry: Mapping[str, Any], size: int) -> dict[int, str] | None:
    """statusMessage as value -> message; required, one per value, when statusSize > 1."""
    listed = entry.get("statusMessage")
    if listed is None:
        if size > 1:
            raise VerificationError(
                errors.INVALID_STATUS, "an entry with statusSize > 1 needs statusMessage"
            )
        return None
    if not isinstance(listed, list):
        raise VerificationError(errors.INVALID_STATUS, "statusMessage must be an array")
    messages: dict[int, str] = {}
    for item in listed:
        status = item.get("status") if isinstance(item, Mapping) else None
        message = item.get("message") if isinstance(item, Mapping) else None
        if not (
            isinstance(status, str)
            and re.fullmatch(r"0x[0-9a-fA-F]{1,2}", status)
            and isinstance(message, str)
        ):
            raise VerificationError(
                errors.INVALID_STATUS, "statusMessage entries need a hex status and a message"
            )
        value = int(status, 16)
        if value >= 1 << size or value in messages:
            raise VerificationError(
                errors.INVALID_STATUS, f"statusMessage status {status} is repeated or too large"
            )
        messages[value] = message
    if len(messages) != 1 << size:
        raise VerificationError(
            errors.INVALID_STATUS, f"statusMessage must list all {1 << size} status values"
        )
    return messages


def parse_entry(entry: Mapping[str, Any]) -> StatusEntry:
    entry_type = entry.get("type")
    if entry_type not in ENTRY_TYPES:
        raise VerificationError(
            errors.INVALID_STATUS, f"status entry type {entry_type!r} is not supported"
        )
    purpose = entry.get("statusPurpose")
    url = entry.get("statusListCredential")
    raw_index = entry.get("statusListIndex")
    if not isinstance(purpose, str) or not isinstance(url, str):
        raise VerificationError(
            errors.INVALID_STATUS, "status entry needs statusPurpose and statusListCredential"
        )
    if not url.startswith(("https://", "http://")):
        raise VerificationError(errors.INVALID_STATUS, "statusListCredential is not an HTTP URL")
    # ASCII digits only: str.isdigit() also takes "²" (int() then fails) and "٧" (seven).
    if not isinstance(raw_index, str) or not re.fullmatch(r"[0-9]{1,12}", raw_index):
        raise VerificationError(
            errors.INVALID_STATUS, "statusListIndex must be a non-negative integer string"
        )
    if entry_type == "BitstringStatusListEntry":
        size = _status_size(entry)
        return StatusEntry(
            entry_type, purpose, int(raw_index), url, size, _status_messages(entry, size)
        )
    return StatusEntry(entry_type, purpose, int(raw_index), url)


def decode_bitstring(encoded: Any, list_type: str) -> bytes:
    """GZIP-compressed bits, base64url (StatusList2021) or multibase base64url ``u...``
    (BitstringStatusList); decompression is bounded."""
    if not isinstance(encoded, str) or not encoded:
        raise VerificationError(errors.INVALID_STATUS, "encodedList is missing")
    if list_type == "BitstringStatusList":
        if not encoded.startswith("u"):
            raise VerificationError(errors.INVALID_STATUS, "encodedList must be multibase 'u'")
        encoded = encoded[1:]
    try:
        compressed = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # gzip wrapper
        bits = inflater.decompress(compressed, MAX_BITSTRING_BYTES + 1)
    except (ValueError, zlib.error) as exc:
        raise VerificationError(errors.INVALID_STATUS, f"encodedList: {exc}") from None
    if len(bits) > MAX_BITSTRING_BYTES or inflater.unconsumed_tail:
        raise VerificationError(errors.INVALID_STATUS, "encodedList is too large")
    return bits


def encode_bitstring(bits: bytes, list_type: str = "StatusList2021") -> str:
    """The inverse of :func:`decode_bitstring` (fixtures and tests)."""
    text = base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode("ascii")
    return "u" + text if list_type == "BitstringStatusList" else text


def read_list(credential: Mapping[str, Any], url: str, fetched_at: float) -> StatusList:
    """The status list carried by a (verified) status-list credential."""
    types = as_list(credential.get("type"))
    list_type = next((LIST_SUBJECT_TYPES[t] for t in types if t in LIST_SUBJECT_TYPES), None)
    if list_type is None:
        raise VerificationError(errors.INVALID_STATUS, f"{url} is not a status-list credential")
    if credential.get("id") != url:
        raise VerificationError(
            errors.INVALID_STATUS, f"the status list at {url} names another URL as its id"
        )
    subject = credential.get("credentialSubject")
    if not isinstance(subject, Mapping) or subject.get("type") != list_type:
        raise VerificationError(errors.INVALID_STATUS, f"{url}: credentialSubject is not a list")
    purpose = subject.get("statusPurpose")
    if not isinstance(purpose, str):
        raise VerificationError(errors.INVALID_STATUS, f"{url}: list has no statusPurpose")
    size = subject.get("statusSize", 1)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= MAX_STATUS_SIZE:
        raise VerificationError(errors.INVALID_STATUS, f"{url}: bad statusSize")
    issuer = credential.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    return StatusList(
        url=url,
        kind=next(t for t in types if t in LIST_SUBJECT_TYPES),
        issuer=str(issuer_id),
        purpose=purpose,
        bits=decode_bitstring(subject.get("encodedList"), list_type),
        status_size=size,
        fetched_at=fetched_at,
        size_stated="statusSize" in subject,
    )


# -- JWT-secured lists ------------------------------------------------------------------------


def _enveloped_token(document: Mapping[str, Any], url: str) -> str | None:
    """The JWT inside an ``EnvelopedVerifiableCredential``, None if ``document`` is not one."""
    if ENVELOPED not in as_list(document.get("type")):
        return None
    ident = document.get("id")
    prefix = next(
        (p for p in ENVELOPED_PREFIXES if isinstance(ident, str) and ident.startswith(p)), None
    )
    if prefix is None:
        raise VerificationError(
            errors.INVALID_STATUS, f"the enveloped status list at {url} is not a vc+jwt data URL"
        )
    return ident[len(prefix) :]


def _validity(credential: Mapping[str, Any], now: datetime, url: str) -> None:
    for name, late in (("validFrom", False), ("validUntil", True)):
        value = credential.get(name)
        if value is None:
            continue
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            raise VerificationError(errors.INVALID_STATUS, f"{url}: {name} is not a date-time")
        if (now > moment) if late else (now < moment):
            raise VerificationError(
                errors.INVALID_STATUS, f"the status list {url} is not valid now ({name})"
            )


def jwt_list_credential(
    token: str, url: str, resolver: DidResolver, now: datetime | None = None
) -> dict[str, Any]:
    """The list credential a JWT secures, its signature checked: ``vc+jwt`` (the payload is the
    credential) or a VC-JWT (``vc`` claim), signed by a key of the issuer DID's own document,
    never ``alg: none`` or a symmetric algorithm, within its exp/nbf and validFrom/validUntil."""
    now = now or datetime.now(UTC)
    header, payload = jose.parse(token, "status list")
    typ = header.get("typ")
    if typ == TOKEN_LIST_TYPE:
        raise VerificationError(
            errors.INVALID_STATUS,
            f"{url} is an IETF Token Status List; it serves TokenStatusListEntry entries",
        )
    if typ not in JWT_TYPES:
        raise VerificationError(errors.INVALID_JWT, f"the status list has typ {typ!r}")
    jose.check_times(payload, now, "status list")
    if "vc" in payload:
        credential = credential_view(token, resolver)
    else:
        issuer = payload.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        if not isinstance(issuer, str) or not issuer.startswith("did:"):
            raise VerificationError(errors.INVALID_JWT, "the status list's issuer is not a DID")
        if payload.get("iss", issuer) != issuer:
            raise VerificationError(errors.ISSUER_MISMATCH, "iss is not the list's issuer")
        kid = header.get("kid")
        if kid is None and issuer.startswith("did:key:"):
            kid = f"{issuer}#{issuer.removeprefix('did:key:')}"
        key = jose.method_key(resolver, kid, issuer, "assertionMethod", "status list")
        jose.verify(token, key, "status list")
        credential = dict(payload)
    _validity(credential, now, url)
    return credential


def decode_list(
    body: bytes,
    url: str,
    fetched_at: float,
    verify_list: Callable[[Mapping[str, Any]], None],
    resolver: DidResolver | None,
) -> StatusList:
    """A fetched status list in any format we take (see the module docstring), verified."""
    text = body.decode("utf-8", errors="strict").strip() if body else ""
    token: str | None = None
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError:
            raise VerificationError(errors.INVALID_STATUS, "the status list is not JSON") from None
        if not isinstance(document, dict):
            raise VerificationError(errors.INVALID_STATUS, "the status list is not a credential")
        token = _enveloped_token(document, url)
    else:
        token = text
        document = {}
    try:
        if token is None:
            verify_list(document)
            credential = document
        else:
            if resolver is None:
                raise VerificationError(
                    errors.DID_RESOLUTION_FAILED, "no DID resolver for a JWT-secured list"
                )
            credential = jwt_list_credential(token, url, resolver)
    except VerificationError as exc:
        raise list_unverified(url, exc) from None
    return read_list(credential, url, fetched_at)


def list_unverified(url: str, exc: VerificationError) -> VerificationError:
    """A status list that does not verify: ``invalid-status``, caused by ``exc``'s slug."""
    # The slug says why; the detail could quote the fetched document.
    return VerificationError(
        errors.INVALID_STATUS, f"the status list {url} does not verify ({exc.slug})", cause=exc.slug
    )


def list_fetch_failed(exc: FetchError) -> VerificationError:
    """A status list that could not be fetched: unavailable, or malformed as served. What the
    remote host answered stays out of the error: no port or service oracle."""
    slug = errors.INVALID_STATUS if exc.malformed else errors.STATUS_UNAVAILABLE
    return VerificationError(slug, exc.describe("the status list"))


class StatusListCache:
    """Fetched, verified status lists by URL (bounded LRU, TTL per feed health).

    Lists are fetched under ``policy`` (its allow-list gains the ``url_override`` targets, which
    are configuration); without one, nothing but those targets is fetched."""

    def __init__(
        self,
        verify_list: Callable[[Mapping[str, Any]], None],
        *,
        short_ttl: float = 1.0,
        long_ttl: float = 300.0,
        max_lists: int = 256,
        url_override: Mapping[str, str] | None = None,
        policy: FetchPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        resolver: DidResolver | None = None,
    ) -> None:
        self.verify_list = verify_list
        # JWT-secured lists name their signer's DID: resolved as the verifier whose
        # verify_status_list we were given resolves every other DID, unless told otherwise.
        owner = getattr(verify_list, "__self__", None)
        self.resolver = resolver or getattr(owner, "resolver", None)
        self.short_ttl = short_ttl
        self.long_ttl = long_ttl
        self.max_lists = max_lists
        self.url_override = dict(url_override or {})
        self.feed_healthy = False
        policy = policy if policy is not None else FetchPolicy()
        policy.allow(*self.url_override.values())
        self.fetcher = Fetcher(policy, deadline=FETCH_DEADLINE, max_bytes=MAX_LIST_BYTES)
        self._lists: OrderedDict[str, StatusList] = OrderedDict()
        self._lock = threading.Lock()
        self._url_locks = FetchLocks(FETCH_LOCKS)
        self._clock = clock
        self._generation = 0  # bumped by every invalidation
        # URL -> indices the change feed reported set that no fetched list has shown yet.
        self._overlay: OrderedDict[str, set[int]] = OrderedDict()
        self.fetches = 0

    @property
    def ttl(self) -> float:
        return self.long_ttl if self.feed_healthy else self.short_ttl

    def invalidate(self, url: str | None = None) -> None:
        """Drop one list (``url``) or all of them."""
        with self._lock:
            self._generation += 1
            if url is None:
                self._lists.clear()
            else:
                self._lists.pop(url, None)

    def apply_change(self, url: str, index: int, status: str) -> None:
        """A change to entry ``index`` of the list at ``url``, as the change feed reported it."""
        with self._lock:
            if status in SET_STATUSES:
                self._overlay.setdefault(url, set()).add(index)
                self._overlay.move_to_end(url)
                if len(self._overlay) > MAX_OVERLAY_LISTS:
                    dropped, _ = self._overlay.popitem(last=False)
                    log.warning("status overlay full: forgot the set bits of %s", dropped)
                return  # the cached list stays: with the overlay on top it is current
            known = self._overlay.get(url)
            if known is not None:
                known.discard(index)
        self.invalidate(url)

    def known_set(self, url: str, index: int) -> bool:
        """Whether the change feed reported the bit set after the last fetched list."""
        with self._lock:
            known = self._overlay.get(url)
            return known is not None and index in known

    def get(self, url: str) -> StatusList:
        return self._url_locks.fetch_once(url, lambda: self._fresh(url), lambda: self._load(url))

    def _load(self, url: str) -> StatusList:
        with self._lock:
            generation = self._generation
        status_list = self._fetch(url)
        with self._lock:
            self._forget_shown(status_list)
            if generation != self._generation:
                # Invalidated while we fetched: what we hold may predate the change.
                return status_list
            lru.keep(self._lists, url, status_list, self.max_lists)
        return status_list

    def _forget_shown(self, status_list: StatusList) -> None:
        """Drop overlay bits the fetched list shows set (it caught up with the feed)."""
        known = self._overlay.get(status_list.url)
        if not known:
            return
        known -= {i for i in known if 0 <= i < status_list.length and status_list.value(i)}
        if not known:
            del self._overlay[status_list.url]

    def _fresh(self, url: str) -> StatusList | None:
        with self._lock:
            cached = self._lists.get(url)
            if cached is not None and self._clock() - cached.fetched_at <= self.ttl:
                return cached
        return None

    def target_url(self, url: str) -> str:
        """Where the list at ``url`` is fetched from (``url_override`` applied)."""
        for prefix, replacement in self.url_override.items():
            if url.startswith(prefix):
                return replacement + url[len(prefix) :]
        return url

    def _fetch(self, url: str) -> StatusList:
        fetched_at = self._clock()
        target = self.target_url(url)
        self.fetches += 1
        try:
            body = self.fetcher.get(target, accept=LIST_ACCEPT).body
        except FetchError as exc:
            raise list_fetch_failed(exc) from None
        try:
            return decode_list(body, url, fetched_at, self.verify_list, self.resolver)
        except UnicodeDecodeError:
            raise VerificationError(errors.INVALID_STATUS, "the status list is not UTF-8") from None


def check_entry(
    entry: Mapping[str, Any],
    credential_issuer: str,
    cache: StatusListCache,
    trusted_list_issuers: frozenset[str] = frozenset(),
) -> EntryStatus:
    """Raise ``revoked``/``suspended`` if the entry's bit is set; return what its list says
    (the purpose checked, the entry's value and its statusMessage, if any).

    The list must be issued by the credential's issuer or by a DID trusted to publish lists
    (the operator's revocation service); otherwise anyone could host an all-zero list."""
    parsed = parse_entry(entry)
    if parsed.purpose in ("revocation", "suspension") and cache.known_set(
        parsed.list_url, parsed.index
    ):
        # Refused whatever the list says, so it need not be fetched (its signer may be down).
        _refuse(parsed.purpose)
    status_list = cache.get(parsed.list_url)
    if status_list.issuer != credential_issuer and status_list.issuer not in trusted_list_issuers:
        raise VerificationError(
            errors.INVALID_STATUS,
            f"the status list is issued by {status_list.issuer}, not by the credential's issuer",
        )
    if status_list.kind != ENTRY_TYPES[parsed.type]:
        raise VerificationError(
            errors.INVALID_STATUS, f"a {parsed.type} cannot point at a {status_list.kind}"
        )
    if status_list.purpose != parsed.purpose:
        raise VerificationError(
            errors.INVALID_STATUS,
            f"entry purpose {parsed.purpose!r} does not match the list's {status_list.purpose!r}",
        )
    size = parsed.size or status_list.status_size
    if parsed.size is not None and status_list.size_stated and status_list.status_size != size:
        raise VerificationError(
            errors.INVALID_STATUS,
            f"the entry's statusSize {size} is not the list's {status_list.status_size}",
        )
    value = status_list.value(parsed.index, size)
    if value and parsed.purpose in ("revocation", "suspension"):
        _refuse(parsed.purpose)
    message = parsed.messages.get(value) if parsed.messages else None
    return EntryStatus(parsed.purpose, value, message)


def _refuse(purpose: str) -> None:
    if purpose == "revocation":
        raise VerificationError(errors.REVOKED, "the credential has been revoked")
    raise VerificationError(errors.SUSPENDED, "the credential is suspended")


class ChangeFeed(feeds.ChangeFeed):
    """Follows the revocation service's change feed
    (``GET <revocation>/status/changes?after=&wait=``; each change names a list ``url``, and a
    change to one entry its ``index`` and ``status``)."""

    def __init__(self, base_url: str, cache: StatusListCache, **options: Any) -> None:
        url = f"{base_url.rstrip('/')}/status/changes"
        super().__init__(url, "url", cache, name="status", **options)
        self.cache = cache

    def apply(self, change: Mapping[str, Any]) -> None:
        url, index, status = change.get("url"), change.get("index"), change.get("status")
        if not isinstance(url, str):
            return
        if type(index) is int and index >= 0 and isinstance(status, str):
            self.cache.apply_change(url, index, status)
        else:
            self.cache.invalidate(url)  # the list changed, no more said: fetch it again
