"""Key proofs of the ``jwt`` proof type (OpenID4VCI 1.0 appendix F.1), checked as pure functions.

A proof counts only if: ``typ`` is ``openid4vci-proof+jwt``; ``alg`` is EdDSA (Ed25519) or ES256
(P-256) -- ``none``, HMAC and anything else are refused before any key is looked at; the key comes
from exactly one of ``jwk`` (a public key) or ``kid`` (a did:key or did:jwk DID URL, resolved
here, never fetched); the signature verifies with that key under the header's ``alg`` and the key's
type agrees with it; ``aud`` names this credential issuer; ``iat`` is recent and not in the
future; ``nonce`` is present (the caller spends it: it must be a live ``c_nonce`` of ours).

The holder DID a W3C credential is bound to is the ``kid``'s DID, or for a bare ``jwk`` the
did:key (Ed25519) or did:jwk (P-256) of that key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from jwcrypto import jwk, jws

from issuer.oid4vci.errors import OAuthError, invalid_proof
from verifier.dids import did_key_from_public_key
from verifier.encoding import (
    ED25519_PUB,
    b64url_decode,
    b64url_encode,
    multibase_decode,
    multikey_decode,
)

PROOF_TYP = "openid4vci-proof+jwt"
ALGORITHMS = {"EdDSA": ("OKP", "Ed25519"), "ES256": ("EC", "P-256")}
P256_PUB = b"\x80\x24"  # multicodec p256-pub (0x1200) as a varint
MAX_PROOF_BYTES = 8192
CLOCK_SKEW = 60  # seconds an iat may lie in the future


@dataclass(frozen=True)
class HolderKey:
    jwk: dict[str, str]  # the public key, as it goes into cnf.jwk
    did: str  # the DID a W3C credential's subject becomes
    nonce: str


def _b64json(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise invalid_proof(f"the proof's {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise invalid_proof(f"the proof's {what} is not a JSON object")
    return value


def public_jwk(value: Any, alg: str) -> dict[str, str]:
    """The public members of a JWK that suits ``alg``; private keys are refused."""
    if not isinstance(value, dict):
        raise invalid_proof("jwk must be a JSON object")
    if "d" in value:
        raise invalid_proof("jwk must be a public key (it carries a private key)")
    kty, crv = ALGORITHMS[alg]
    if value.get("kty") != kty or value.get("crv") != crv:
        raise invalid_proof(f"alg {alg} needs a {kty} {crv} key")
    members = ("kty", "crv", "x") if kty == "OKP" else ("kty", "crv", "x", "y")
    key = {}
    for name in members:
        if not isinstance(value.get(name), str) or not value[name]:
            raise invalid_proof(f"jwk lacks {name}")
        key[name] = value[name]
    return key


def did_of_jwk(key: dict[str, str]) -> str:
    if key["kty"] == "OKP":
        return did_key_from_public_key(b64url_decode(key["x"]))
    canonical = json.dumps(key, separators=(",", ":"), sort_keys=True)
    return "did:jwk:" + b64url_encode(canonical.encode())


def resolve_kid(kid: Any) -> tuple[str, dict[str, str]]:
    """(DID, public JWK) of a did:key or did:jwk DID URL; nothing is fetched."""
    if not isinstance(kid, str) or len(kid) > 2048:
        raise invalid_proof("kid must be a DID URL")
    did, _, fragment = kid.partition("#")
    if did.startswith("did:key:"):
        fingerprint = did.removeprefix("did:key:")
        if fragment and fragment != fingerprint:
            raise invalid_proof("kid names a key that is not the did:key's own")
        if fingerprint.startswith("z6Mk"):
            try:
                raw = multikey_decode(fingerprint, ED25519_PUB)
            except ValueError:
                raise invalid_proof("kid is not a valid Ed25519 did:key") from None
            return did, {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        if fingerprint.startswith("zDn"):
            return did, _p256_did_key(fingerprint)
        raise invalid_proof("only Ed25519 and P-256 did:key keys are supported")
    if did.startswith("did:jwk:"):
        if fragment not in ("", "0"):
            raise invalid_proof("a did:jwk has one key, #0")
        try:
            value = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
        except (ValueError, TypeError, UnicodeDecodeError):
            raise invalid_proof("kid is not a valid did:jwk") from None
        if not isinstance(value, dict):
            raise invalid_proof("kid is not a valid did:jwk")
        alg = "EdDSA" if value.get("kty") == "OKP" else "ES256"
        return did, public_jwk(value, alg)
    raise invalid_proof("kid must be a did:key or did:jwk DID URL (or send jwk)")


def _p256_did_key(fingerprint: str) -> dict[str, str]:
    try:
        data = multibase_decode(fingerprint)
        if not data.startswith(P256_PUB):
            raise ValueError("not p256-pub")
        point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), data[2:])
    except (ValueError, TypeError):
        raise invalid_proof("kid is not a valid P-256 did:key") from None
    numbers = point.public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def check_proof(proof: Any, *, audience: str, now: datetime, max_age: float) -> HolderKey:
    """The holder key a ``jwt`` key proof proves possession of; :class:`OAuthError` otherwise.

    The nonce is returned, not checked: spending it is the caller's (database) business."""
    if not isinstance(proof, str) or len(proof) > MAX_PROOF_BYTES:
        raise invalid_proof("the proof must be a compact JWT")
    parts = proof.split(".")
    if len(parts) != 3 or not all(parts):
        raise invalid_proof("the proof must be a signed compact JWT (three parts)")
    header = _b64json(parts[0], "header")
    payload = _b64json(parts[1], "payload")
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        raise invalid_proof(f"alg {alg!r} is not accepted; use EdDSA or ES256")
    if header.get("typ") != PROOF_TYP:
        raise invalid_proof(f"typ must be {PROOF_TYP}")
    if "crit" in header:
        raise invalid_proof("crit headers are not understood")
    if ("jwk" in header) == ("kid" in header) or "x5c" in header:
        raise invalid_proof("name the key by exactly one of jwk or kid")
    if "jwk" in header:
        key = public_jwk(header["jwk"], alg)
        did = did_of_jwk(key)
    else:
        did, key = resolve_kid(header["kid"])
        expected = ALGORITHMS[alg]
        if (key["kty"], key["crv"]) != expected:
            raise invalid_proof(f"the kid's key does not suit alg {alg}")
    _verify_signature(proof, key, alg)
    _check_claims(payload, audience=audience, now=now, max_age=max_age)
    return HolderKey(jwk=key, did=did, nonce=payload["nonce"])


def _verify_signature(proof: str, key: dict[str, str], alg: str) -> None:
    try:
        token = jws.JWS()
        token.deserialize(proof)
        token.verify(jwk.JWK(**key), alg=alg)
    except (jws.InvalidJWSSignature, jws.InvalidJWSObject, jwk.InvalidJWKValue, ValueError):
        raise invalid_proof("the proof's signature does not verify with its key") from None


def _check_claims(payload: dict[str, Any], *, audience: str, now: datetime, max_age: float) -> None:
    aud = payload.get("aud")
    if not (aud == audience or (isinstance(aud, list) and audience in aud)):
        raise invalid_proof(f"aud must be this credential issuer, {audience}")
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise invalid_proof("iat is required (seconds since the epoch)")
    moment = now.timestamp()
    if iat > moment + CLOCK_SKEW:
        raise invalid_proof("iat lies in the future")
    if iat < moment - max_age:
        raise invalid_proof(f"the proof is older than {int(max_age)} s: make a fresh one")
    exp = payload.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp <= moment):
        raise invalid_proof("the proof has expired")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise OAuthError("invalid_nonce", "the proof carries no nonce: ask the nonce endpoint")
