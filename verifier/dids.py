"""DID resolution for verification: did:key, did:peer (2 and 4), did:web.

did:key and did:peer are resolved by pure functions (their documents are encoded in the DID);
did:web is fetched over HTTPS under the fetch policy (:mod:`verifier.fetch`: allow-listed
hosts, a total deadline and a size cap, no redirects), with a bounded TTL cache.
``web_override`` maps a did:web host (as written in the DID, e.g. ``example.com%3A8443``) to a
base URL, so tests and loopback deployments resolve did:web without the network (its targets
are configuration, so they join the allow-list).

Only Ed25519 keys are of use to our proof suites; :meth:`DidResolver.verification_method` finds
a method by its DID URL, checks that the document authorises it for the proof purpose, and
returns its raw public key.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

import did_peer_2
import did_peer_4
from cachetools import TTLCache
from nacl.bindings import crypto_sign_ed25519_pk_to_curve25519

from verifier import errors
from verifier.encoding import (
    ED25519_PUB,
    X25519_PUB,
    b58decode,
    b58encode,
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multikey_decode,
    multikey_encode,
)
from verifier.errors import VerificationError
from verifier.fetch import Fetcher, FetchError, FetchPolicy

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
KEY_2018_CONTEXT = "https://w3id.org/security/suites/ed25519-2018/v1"
X25519_2019_CONTEXT = "https://w3id.org/security/suites/x25519-2019/v1"
JWS_2020_CONTEXT = "https://w3id.org/security/suites/jws-2020/v1"

WEB_DEADLINE = 5.0  # seconds for a whole fetch of a DID document
WEB_MAX_BYTES = 256 * 1024

#: Verification relationships a proof purpose needs (DID Core §5.3).
RELATIONSHIPS = frozenset(
    {"assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"}
)


@dataclass(frozen=True)
class VerificationMethod:
    id: str  # absolute DID URL
    type: str
    #: The DID this key belongs to: the DID whose own resolved document lists the method under
    #: an id of its own. Never a ``controller`` value written inside a document, which anyone
    #: who mints a did:peer:4 or hosts a did:web can set to any DID.
    did: str
    public_key: bytes  # raw Ed25519 public key


# -- did:key ----------------------------------------------------------------------------------


def _did_key_public_key(did: str) -> bytes:
    if not did.startswith("did:key:z"):
        raise VerificationError(errors.DID_RESOLUTION_FAILED, f"not a did:key: {did!r}")
    try:
        return multikey_decode(did.removeprefix("did:key:"), ED25519_PUB)
    except ValueError:
        raise VerificationError(
            errors.DID_RESOLUTION_FAILED, f"{did!r} is not an Ed25519 did:key"
        ) from None


@lru_cache(maxsize=4096)
def _did_key_document_cached(did: str, key_format: str) -> dict[str, Any]:
    public = _did_key_public_key(did)
    fingerprint = did.removeprefix("did:key:")
    x25519 = crypto_sign_ed25519_pk_to_curve25519(public)
    x_fingerprint = multikey_encode(x25519, X25519_PUB)
    signing_id = f"{did}#{fingerprint}"
    agreement_id = f"{did}#{x_fingerprint}"
    if key_format == "JsonWebKey2020":
        context = [DID_CONTEXT, JWS_2020_CONTEXT]
        methods = [
            {
                "id": signing_id,
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(public)},
            },
            {
                "id": agreement_id,
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": {"kty": "OKP", "crv": "X25519", "x": b64url_encode(x25519)},
            },
        ]
    elif key_format == "Ed25519VerificationKey2018":
        context = [DID_CONTEXT, KEY_2018_CONTEXT, X25519_2019_CONTEXT]
        methods = [
            {
                "id": signing_id,
                "type": "Ed25519VerificationKey2018",
                "controller": did,
                "publicKeyBase58": b58encode(public),
            },
            {
                "id": agreement_id,
                "type": "X25519KeyAgreementKey2019",
                "controller": did,
                "publicKeyBase58": b58encode(x25519),
            },
        ]
    else:
        raise ValueError(f"unknown did:key public key format {key_format!r}")
    return {
        "@context": context,
        "id": did,
        "verificationMethod": methods,
        "assertionMethod": [signing_id],
        "authentication": [signing_id],
        "capabilityInvocation": [signing_id],
        "capabilityDelegation": [signing_id],
        "keyAgreement": [agreement_id],
    }


def did_key_document(did: str, key_format: str = "Ed25519VerificationKey2018") -> dict[str, Any]:
    """The DID document of an Ed25519 did:key (w3c-ccg did-method-key), with the X25519
    key-agreement key derived from it. ``key_format`` is ``Ed25519VerificationKey2018`` or
    ``JsonWebKey2020``. Returns a fresh copy."""
    return copy.deepcopy(_did_key_document_cached(did, key_format))


def did_key_from_public_key(public_key: bytes) -> str:
    return "did:key:" + multikey_encode(public_key, ED25519_PUB)


# -- did:web ----------------------------------------------------------------------------------


def did_web_url(did: str, override: Mapping[str, str] | None = None) -> str:
    """The URL of a did:web document (did-method-web §3.2), or the override's base URL."""
    parts = did.removeprefix("did:web:").split(":")
    if not parts or not parts[0] or any(not p for p in parts):
        raise VerificationError(errors.DID_RESOLUTION_FAILED, f"malformed did:web {did!r}")
    host = parts[0]
    path = "/".join(unquote(p) for p in parts[1:])
    base = (override or {}).get(host)
    if base is None:
        if "/" in unquote(host) or "@" in unquote(host):
            raise VerificationError(errors.DID_RESOLUTION_FAILED, f"malformed did:web {did!r}")
        base = "https://" + unquote(host)
    base = base.rstrip("/")
    return f"{base}/{path}/did.json" if path else f"{base}/.well-known/did.json"


# -- methods ----------------------------------------------------------------------------------


def _public_key(method: Mapping[str, Any]) -> bytes:
    """The raw Ed25519 key of a verification method, whatever its encoding."""
    try:
        if "publicKeyMultibase" in method:
            raw = multibase_decode(method["publicKeyMultibase"])
            # Multikey and Ed25519VerificationKey2020 carry the multicodec prefix; some early
            # 2020 keys were the bare 32 bytes.
            key = raw[2:] if len(raw) == 34 and raw.startswith(ED25519_PUB) else raw
        elif "publicKeyBase58" in method:
            key = b58decode(method["publicKeyBase58"])
        elif "publicKeyJwk" in method:
            jwk = method["publicKeyJwk"]
            if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or "d" in jwk:
                raise ValueError("not a public Ed25519 JWK")
            key = b64url_decode(jwk["x"])
        else:
            raise ValueError("no public key in the verification method")
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND,
            f"verification method {method.get('id')!r} has no usable Ed25519 key: {exc}",
        ) from None
    if len(key) != 32:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND,
            f"verification method {method.get('id')!r} key is not 32 bytes",
        )
    return key


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def did_of(method_id: str) -> str:
    """The DID part of a DID URL (before any fragment, query or path)."""
    return method_id.split("#", 1)[0].split("?", 1)[0]


def find_method(
    document: Mapping[str, Any], method_id: str, relationship: str
) -> VerificationMethod:
    """The verification method ``method_id`` of ``document``, which must be listed (by reference
    or embedded) under ``relationship``.

    The method belongs to the document's DID only: ``method_id`` must be a DID URL of that DID,
    and the document's own entry for it (relative, or absolute with that DID) is the only one
    that counts. Entries whose ids name another DID are ignored, and so is every ``controller``
    field: a document proves nothing about keys of other DIDs."""
    did = document.get("id")
    if not isinstance(did, str):
        raise VerificationError(errors.DID_RESOLUTION_FAILED, "DID document without an id")
    if relationship not in RELATIONSHIPS:
        raise VerificationError(
            errors.PROOF_PURPOSE_MISMATCH, f"unknown proof purpose {relationship!r}"
        )
    if did_of(method_id) != did or "#" not in method_id:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND,
            f"{method_id!r} is not a verification method of {did}",
        )
    candidates: dict[str, Mapping[str, Any]] = {}
    for method in document.get("verificationMethod") or []:
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            candidates.setdefault(_absolute(did, method["id"]), method)
    authorised = False
    for entry in document.get(relationship) or []:
        if isinstance(entry, str) and _absolute(did, entry) == method_id:
            authorised = True
        elif (
            isinstance(entry, Mapping)
            and isinstance(entry.get("id"), str)
            and _absolute(did, entry["id"]) == method_id
        ):
            authorised = True
            candidates[method_id] = entry
    method = candidates.get(method_id)
    if method is None:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND,
            f"{method_id!r} is not a verification method of {did}",
        )
    if not authorised:
        raise VerificationError(
            errors.PROOF_PURPOSE_MISMATCH,
            f"{method_id!r} is not authorised for {relationship} by {did}",
        )
    return VerificationMethod(
        id=method_id, type=str(method.get("type")), did=did, public_key=_public_key(method)
    )


@lru_cache(maxsize=4096)
def _did_key_method(method_id: str, relationship: str) -> VerificationMethod:
    did = did_of(method_id)
    return find_method(
        _did_key_document_cached(did, "Ed25519VerificationKey2018"), method_id, relationship
    )


class DidResolver:
    """Resolves DIDs to documents; did:web answers are cached (bounded, TTL)."""

    def __init__(
        self,
        *,
        web_override: Mapping[str, str] | None = None,
        cache_size: int = 1024,
        cache_ttl: float = 300.0,
        policy: FetchPolicy | None = None,
    ) -> None:
        self.web_override = dict(web_override or {})
        self._cache: TTLCache = TTLCache(maxsize=cache_size, ttl=cache_ttl)
        self._lock = threading.Lock()
        # Without a policy only the override targets are fetched: nothing from a DID alone.
        policy = policy if policy is not None else FetchPolicy()
        policy.allow(*self.web_override.values())
        self.fetcher = Fetcher(policy, deadline=WEB_DEADLINE, max_bytes=WEB_MAX_BYTES)

    def resolve(self, did: str) -> dict[str, Any]:
        if not isinstance(did, str) or not did.startswith("did:"):
            raise VerificationError(errors.DID_RESOLUTION_FAILED, f"not a DID: {did!r}")
        if did.startswith("did:key:"):
            return _did_key_document_cached(did, "Ed25519VerificationKey2018")
        if did.startswith("did:peer:2"):
            return self._pure(did, did_peer_2.resolve)
        if did.startswith("did:peer:4"):
            return self._pure(did, did_peer_4.resolve)
        if did.startswith("did:web:"):
            return self._web(did)
        method = did.split(":")[1]
        raise VerificationError(
            errors.UNSUPPORTED_DID_METHOD, f"did:{method} is not supported", did=did
        )

    def _pure(self, did: str, resolve: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
        with self._lock:
            cached = self._cache.get(did)
        if cached is not None:
            return cached
        try:
            document = resolve(did)
        except Exception as exc:  # the libraries raise ValueError, KeyError, binascii.Error...
            raise VerificationError(
                errors.DID_RESOLUTION_FAILED, f"cannot resolve {did!r}: {exc}"
            ) from None
        with self._lock:
            self._cache[did] = document
        return document

    def _web(self, did: str) -> dict[str, Any]:
        with self._lock:
            cached = self._cache.get(did)
        if cached is not None:
            return cached
        url = did_web_url(did, self.web_override)
        try:
            document = self.fetcher.json(url, accept="application/did+json, application/json")
        except FetchError as exc:
            # Coarse on purpose: what the host answered must not make us a port or service oracle.
            raise VerificationError(
                errors.DID_RESOLUTION_FAILED, exc.describe(f"the DID document of {did}")
            ) from None
        if not isinstance(document, dict) or document.get("id") != did:
            raise VerificationError(
                errors.DID_RESOLUTION_FAILED, f"the DID document of {did} names another DID"
            )
        with self._lock:
            self._cache[did] = document
        return document

    def verification_method(self, method_id: str, relationship: str) -> VerificationMethod:
        """Resolve the DID of ``method_id`` and find the method authorised for
        ``relationship``."""
        if not isinstance(method_id, str) or "#" not in method_id:
            raise VerificationError(
                errors.VERIFICATION_METHOD_NOT_FOUND,
                f"verification method {method_id!r} is not a DID URL with a fragment",
            )
        did = did_of(method_id)
        if did.startswith("did:key:"):
            return _did_key_method(method_id, relationship)
        return find_method(self.resolve(did), method_id, relationship)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
