"""Compact JWS for JWT-secured credentials (SD-JWT VC, VC-JWT, KB-JWT, Token Status Lists).

jwcrypto checks the signatures; these functions decide *which* signatures may be checked at all
(asymmetric algorithms only: ``none`` is unsecured and an HMAC key would be a secret the verifier
shares with whoever signs) and which key a DID names, by the same ownership rule as the JSON-LD
proofs: a key counts for DID X only if X's own resolved document lists it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from verifier import errors
from verifier.dids import DidResolver, VerificationMethod, did_key_from_public_key, did_of
from verifier.errors import VerificationError

#: Asymmetric algorithms a holder or issuer may sign with (ACA-Py signs EdDSA; phones ES256).
ALGORITHMS = frozenset({"EdDSA", "ES256", "ES384"})
MAX_JWT = 64 * 1024
#: Clock skew tolerated for exp/nbf/iat.
LEEWAY = 60


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or any(c in text for c in "=+/ \n"):
        raise ValueError("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json_part(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(b64url_decode(part))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise VerificationError(errors.INVALID_JWT, f"the {what} is not base64url JSON") from None
    if not isinstance(value, dict):
        raise VerificationError(errors.INVALID_JWT, f"the {what} is not a JSON object")
    return value


def parse(token: Any, what: str = "JWT") -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, unverified; the algorithm is vetted here so that
    nothing unsecured or symmetric gets further."""
    if not isinstance(token, str) or not token or len(token) > MAX_JWT:
        raise VerificationError(errors.INVALID_JWT, f"the {what} is not a compact JWS")
    parts = token.split(".")
    if len(parts) != 3:
        raise VerificationError(errors.INVALID_JWT, f"the {what} is not a compact JWS")
    header = _json_part(parts[0], f"{what} header")
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise VerificationError(errors.ALG_NONE, f"the {what} is unsecured (alg none)")
    if alg not in ALGORITHMS:
        raise VerificationError(
            errors.UNSUPPORTED_ALGORITHM,
            f"the {what} is signed with {alg!r}; accepted: {', '.join(sorted(ALGORITHMS))}",
        )
    if "crit" in header:  # RFC 7515: an extension we do not understand must be refused
        raise VerificationError(errors.INVALID_JWT, f"the {what} has critical extensions")
    return header, _json_part(parts[1], f"{what} payload")


def verify(token: str, key: jwk.JWK, what: str, slug: str = errors.BAD_SIGNATURE) -> None:
    """The signature of ``token`` (already :func:`parse`-d) under ``key``."""
    header, _ = parse(token, what)
    signed = jws.JWS()
    try:
        signed.deserialize(token)
        signed.verify(key, alg=header["alg"])
    except (JWException, ValueError, TypeError) as exc:
        raise VerificationError(
            slug, f"the {what} signature does not verify ({exc.__class__.__name__})"
        ) from None


def sign(payload: Mapping[str, Any], key: jwk.JWK, header: Mapping[str, Any]) -> str:
    """A compact JWS (wallet stand-in, tests)."""
    token = jws.JWS(json.dumps(payload, separators=(",", ":")).encode())
    token.add_signature(key, None, json.dumps(dict(header)))
    return token.serialize(compact=True)


def algorithm_of(key: jwk.JWK) -> str:
    if key.get("kty") == "OKP":
        return "EdDSA"
    return {"P-256": "ES256", "P-384": "ES384"}.get(key.get("crv"), "ES256")


def public_jwk(value: Any, what: str) -> jwk.JWK:
    """A holder's public key from a JWK object (``cnf.jwk``, a did:jwk): Ed25519, P-256 or
    P-384, never one with private parts."""
    if not isinstance(value, Mapping) or "d" in value:
        raise VerificationError(errors.HOLDER_KEY_MISSING, f"{what} is not a public JWK")
    kty, crv = value.get("kty"), value.get("crv")
    if (kty, crv) not in {("OKP", "Ed25519"), ("EC", "P-256"), ("EC", "P-384")}:
        raise VerificationError(
            errors.UNSUPPORTED_ALGORITHM, f"{what}: key type {kty}/{crv} is not supported"
        )
    members = {k: value[k] for k in ("kty", "crv", "x", "y") if k in value}
    try:
        return jwk.JWK(**members)
    except (JWException, ValueError, TypeError):
        raise VerificationError(errors.HOLDER_KEY_MISSING, f"{what} is not a usable key") from None


def ed25519_jwk(public_key: bytes) -> jwk.JWK:
    return jwk.JWK(kty="OKP", crv="Ed25519", x=b64url(public_key))


def did_for_key(key: jwk.JWK) -> str:
    """The DID that names a holder key: did:key for Ed25519 (what our wallets use), did:jwk
    for the rest."""
    public = json.loads(key.export_public())
    if public.get("kty") == "OKP" and public.get("crv") == "Ed25519":
        return did_key_from_public_key(b64url_decode(public["x"]))
    members = {k: public[k] for k in ("crv", "kty", "x", "y") if k in public}
    return "did:jwk:" + b64url(json.dumps(members, separators=(",", ":")).encode())


def method_key(resolver: DidResolver, kid: Any, did: str, relationship: str, what: str) -> jwk.JWK:
    """The key ``kid`` names for ``did`` under ``relationship``: ``kid`` must be a verification
    method of ``did`` itself (absolute, or a fragment of it), listed in ``did``'s own document.
    did:jwk is resolved here (its document is its key); other methods by ``resolver``."""
    if not isinstance(kid, str) or not kid:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND, f"the {what} header names no key (kid)"
        )
    method_id = did + kid if kid.startswith("#") else kid
    if did_of(method_id) != did:
        raise VerificationError(
            errors.ISSUER_MISMATCH, f"the {what} key {kid} is not a key of {did}"
        )
    if did.startswith("did:jwk:"):
        if method_id != did + "#0":
            raise VerificationError(
                errors.VERIFICATION_METHOD_NOT_FOUND, f"{method_id} is not {did}'s key"
            )
        return jwk_of_did_jwk(did)
    method: VerificationMethod = resolver.verification_method(method_id, relationship)
    if method.did != did:
        raise VerificationError(
            errors.ISSUER_MISMATCH, f"the {what} key {kid} is not a key of {did}"
        )
    return ed25519_jwk(method.public_key)


def jwk_of_did_jwk(did: str) -> jwk.JWK:
    try:
        value = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise VerificationError(errors.DID_RESOLUTION_FAILED, f"{did} is not a did:jwk") from None
    return public_jwk(value, did)


#: Our client_id, or the set of them (a request object names one), or None (unchecked).
type Audience = str | frozenset[str] | None


def audience_ok(aud: Any, audience: Audience) -> bool:
    """Whether a JWT's ``aud`` (a string, or a list for a VP JWT) names us."""
    if audience is None:
        return True
    ours = {audience} if isinstance(audience, str) else set(audience)
    named = aud if isinstance(aud, list) else [aud]
    return any(isinstance(a, str) and a in ours for a in named)


def check_challenge(
    payload: Mapping[str, Any], nonce: str | None, audience: Audience, what: str
) -> str:
    """A holder's proof names our nonce (when we gave one) and us as ``aud``; returns its nonce."""
    presented = payload.get("nonce")
    if not isinstance(presented, str) or not presented:
        raise VerificationError(errors.CHALLENGE_MISSING, f"the {what} has no nonce")
    if nonce is not None and presented != nonce:
        raise VerificationError(errors.CHALLENGE_MISMATCH, f"the {what}'s nonce is not ours")
    aud = payload.get("aud")
    if not audience_ok(aud, audience):
        raise VerificationError(errors.AUDIENCE_MISMATCH, f"the {what} is for {aud!r}, not us")
    return presented


def numeric_date(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e11:
        raise VerificationError(errors.INVALID_JWT, f"{name} is not a NumericDate")
    return datetime.fromtimestamp(value, UTC)


def check_times(payload: Mapping[str, Any], now: datetime, what: str) -> None:
    """exp and nbf of ``payload`` against ``now`` (with :data:`LEEWAY`)."""
    exp, nbf = numeric_date(payload, "exp"), numeric_date(payload, "nbf")
    stamp = now.timestamp()
    if exp is not None and exp.timestamp() + LEEWAY < stamp:
        raise VerificationError(errors.EXPIRED, f"the {what} expired at {exp.isoformat()}")
    if nbf is not None and nbf.timestamp() - LEEWAY > stamp:
        raise VerificationError(errors.NOT_YET_VALID, f"the {what} is valid from {nbf.isoformat()}")
