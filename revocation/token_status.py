"""Status lists published as IETF Token Status List tokens (draft-ietf-oauth-status-list).

SD-JWT VCs refer to ``{"status_list": {"idx": i, "uri": "<list URL>/token"}}``: the same list (and
the same entries) that W3C credentials name in ``statusListCredential``, so one revocation changes
both publications. The token is a JWT (``typ: statuslist+jwt``) signed by the list's issuing DID
in the issuer agent -- the key that signed the SD-JWT VCs referring to it -- with
``status_list: {"bits": 1, "lst": ...}``: one bit per entry, 1 (INVALID) for an entry that is
revoked, suspended or abandoned, 0 (VALID) otherwise. Unlike the W3C lists, bit ``i`` is bit
``i % 8`` counted from the least significant end of byte ``i // 8``, and the bytes are
ZLIB-compressed (RFC 1950), then base64url-encoded without padding.

A signed token is cached per list version for half its validity; the database stays the truth.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient, AgentError
from agents.tenants import tenant_token
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from revocation import store
from revocation.signing import _tenant_of, unavailable

MEDIA_TYPE = "application/statuslist+jwt"
TYP = "statuslist+jwt"
SIGN_TIMEOUT = 10.0


def token_bits(size: int, set_indices: Iterable[int]) -> bytes:
    """One bit per entry, least significant bit first within each byte (the draft's order)."""
    bits = bytearray((size + 7) // 8)
    for index in set_indices:
        if not 0 <= index < size:
            raise IndexError(f"index {index} outside a list of {size} entries")
        bits[index // 8] |= 1 << (index % 8)
    return bytes(bits)


def encode_lst(bits: bytes) -> str:
    return base64.urlsafe_b64encode(zlib.compress(bits, 9)).rstrip(b"=").decode()


def decode_lst(lst: str, *, max_bytes: int = 16 * 1024 * 1024) -> bytes:
    raw = base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4))
    inflater = zlib.decompressobj()
    out = inflater.decompress(raw, max_bytes)
    if inflater.unconsumed_tail:
        raise ValueError("status list too large")
    return out


def status_at(bits: bytes, index: int, width: int = 1) -> int:
    per_byte = 8 // width
    byte = bits[index // per_byte]
    return (byte >> ((index % per_byte) * width)) & ((1 << width) - 1)


@dataclass(frozen=True)
class StatusListToken:
    jwt: str
    etag: str
    version: int
    expires: float  # epoch seconds


_CACHE: dict[tuple[int, str], StatusListToken] = {}
_LOCK = threading.Lock()


def published_token(
    factory: sessionmaker[Session], agent: AdminClient | None, list_id: str, *, ttl: int
) -> StatusListToken:
    """The list's token, whose ``sub`` is the URI the SD-JWT VCs name: ``<list URL>/token``."""
    with factory() as session:
        status_list = store.find_list(session, list_id)
        if status_list is None:
            raise DomainError(ProblemType.UNKNOWN_STATUS_LIST, "no such status list")
        version = status_list.version  # before the bits: never label old bits with a new version
        issuer_did, size = status_list.issuer_did, status_list.size
        uri = f"{status_list.url}/token"
    key = (id(factory.kw.get("bind")), list_id)
    now = time.time()
    with _LOCK:
        cached = _CACHE.get(key)
    if cached is not None and cached.version == version and cached.expires - now > ttl / 2:
        return cached
    with factory() as session:
        set_bits = store.set_indices(session, list_id)
    payload = {
        "iss": issuer_did,
        "sub": uri,
        "iat": int(now),
        "exp": int(now) + ttl,
        "ttl": ttl,
        "status_list": {"bits": 1, "lst": encode_lst(token_bits(size, set_bits))},
    }
    jwt = _sign(factory, agent, issuer_did, payload)
    token = StatusListToken(
        jwt=jwt,
        etag=hashlib.sha256(jwt.encode()).hexdigest()[:40],
        version=version,
        expires=now + ttl,
    )
    with _LOCK:
        current = _CACHE.get(key)
        if current is None or current.version <= version:
            _CACHE[key] = token
    return token


def _sign(
    factory: sessionmaker[Session], agent: AdminClient | None, did: str, payload: dict
) -> str:
    if agent is None:
        raise unavailable("the revocation service has no issuer agent configured")
    wallet_id = _tenant_of(factory, did)
    headers = {"typ": TYP}
    try:
        if wallet_id is None:
            return agent.sign_jwt(payload, did=did, headers=headers, timeout=SIGN_TIMEOUT)
        token = tenant_token(agent, wallet_id)
        try:
            return agent.for_tenant(token).sign_jwt(
                payload, did=did, headers=headers, timeout=SIGN_TIMEOUT
            )
        except AgentError as exc:
            if exc.status != 401:
                raise
        fresh = tenant_token(agent, wallet_id, stale=token)
        return agent.for_tenant(fresh).sign_jwt(
            payload, did=did, headers=headers, timeout=SIGN_TIMEOUT
        )
    except AgentError as exc:
        raise unavailable(
            f"the issuer agent could not sign the status list: {exc.message}"
        ) from exc
