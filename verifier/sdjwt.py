"""SD-JWT VC (``dc+sd-jwt``) presentations with key binding, verified into credgate's results.

An SD-JWT presentation is ``<issuer-signed JWT>~<disclosure>~...~<KB-JWT>``. It counts when:

* the issuer JWT is signed (EdDSA/ES256/ES384, never ``none`` or HMAC) by a key that the
  ``iss`` DID's own document lists under assertionMethod (``kid``; an ``x5c`` chain is refused:
  no certificate authority is configured);
* every disclosure's digest is one the issuer signed (``_sd`` or an array's ``...``), each used
  once;
* the KB-JWT (``typ: kb+jwt``) is signed by the ``cnf.jwk`` key, for our nonce and our audience
  (the client_id), over exactly this SD-JWT and these disclosures (``sd_hash``), and recent.

The verified claims are then *viewed* as a W3C credential (:func:`credential_view`) — the
``vct`` as credgate type, the claims as ``credentialSubject`` whose ``id`` is the holder key's
DID, the status reference as a ``TokenStatusListEntry`` — so that the same trust rules, policy
decision point and grants apply to both formats; :mod:`verifier.tokenstatus` checks that entry.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from jwcrypto import jwk

from schemas.registry import credential_types
from verifier import errors, jose
from verifier.credentials import V2
from verifier.dids import DidResolver
from verifier.errors import VerificationError

ISSUER_TYPES = frozenset({"dc+sd-jwt", "vc+sd-jwt"})  # vc+sd-jwt: drafts before SD-JWT VC -06
KB_TYPE = "kb+jwt"
TOKEN_STATUS_ENTRY = "TokenStatusListEntry"
MAX_DISCLOSURES = 256
MAX_DEPTH = 16
#: A KB-JWT older than this is not fresh, whatever its nonce says.
KB_MAX_AGE = timedelta(minutes=5)
#: Registered JWT / SD-JWT VC claims: about the credential, not its subject.
REGISTERED = frozenset(
    {
        "iss",
        "sub",
        "iat",
        "nbf",
        "exp",
        "cnf",
        "vct",
        "vct#integrity",
        "status",
        "jti",
        "aud",
        "_sd",
        "_sd_alg",
    }
)
FORMAT_KEY = "credgate:format"
URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class SdJwt:
    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None

    @property
    def bound_part(self) -> str:
        """What ``sd_hash`` covers: the SD-JWT up to and including the last ``~``."""
        return "~".join((self.issuer_jwt, *self.disclosures)) + "~"


@dataclass(frozen=True)
class StatusReference:
    uri: str
    index: int


@dataclass(frozen=True)
class VerifiedSdJwt:
    issuer: str
    vct: str
    claims: dict[str, Any]  # the payload with the presented disclosures applied
    holder_key: jwk.JWK
    holder: str  # the DID naming the holder key
    status: StatusReference | None
    digest: str  # sha-256 of the issuer JWT: the credential's identity


def split(text: Any) -> SdJwt:
    if not isinstance(text, str) or "~" not in text or len(text) > jose.MAX_JWT * 4:
        raise VerificationError(errors.INVALID_JWT, "not an SD-JWT (issuer JWT~disclosures~)")
    parts = text.split("~")
    disclosures = tuple(parts[1:-1])
    if len(disclosures) > MAX_DISCLOSURES or any(not d for d in disclosures):
        raise VerificationError(errors.INVALID_JWT, "the SD-JWT has empty or too many disclosures")
    return SdJwt(parts[0], disclosures, parts[-1] or None)


def digest(text: str) -> str:
    return jose.b64url(hashlib.sha256(text.encode("ascii")).digest())


def _decode_disclosure(text: str) -> list[Any]:
    try:
        value = json.loads(jose.b64url_decode(text))
    except (ValueError, UnicodeDecodeError):
        raise VerificationError(
            errors.DISCLOSURE_MISMATCH, "a disclosure is not base64url JSON"
        ) from None
    if not isinstance(value, list) or len(value) not in (2, 3) or not isinstance(value[0], str):
        raise VerificationError(
            errors.DISCLOSURE_MISMATCH, "a disclosure is not [salt, (name,) value]"
        )
    if len(value) == 3 and (not isinstance(value[1], str) or value[1] in ("_sd", "...")):
        raise VerificationError(errors.DISCLOSURE_MISMATCH, "a disclosure names no usable claim")
    return value


def disclose(payload: Mapping[str, Any], disclosures: tuple[str, ...]) -> dict[str, Any]:
    """The payload with ``disclosures`` applied (RFC 9901 §7.1): each must match a digest the
    issuer signed, once; undisclosed digests and ``_sd``/``_sd_alg`` are dropped."""
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise VerificationError(
            errors.INVALID_JWT, f"_sd_alg {payload.get('_sd_alg')!r} is not sha-256"
        )
    by_digest: dict[str, list[Any]] = {}
    for text in disclosures:
        key = digest(text)
        if key in by_digest:
            raise VerificationError(errors.DISCLOSURE_MISMATCH, "a disclosure is presented twice")
        by_digest[key] = _decode_disclosure(text)
    used: set[str] = set()
    seen: set[str] = set()

    def claim(digest_value: Any) -> list[Any] | None:
        if not isinstance(digest_value, str):
            raise VerificationError(errors.INVALID_JWT, "an _sd digest is not a string")
        if digest_value in seen:
            raise VerificationError(errors.DISCLOSURE_MISMATCH, "the issuer signed a digest twice")
        seen.add(digest_value)
        found = by_digest.get(digest_value)
        if found is not None:
            used.add(digest_value)
        return found

    def walk(value: Any, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise VerificationError(errors.INVALID_JWT, "the SD-JWT nests too deep")
        if isinstance(value, Mapping):
            out: dict[str, Any] = {}
            for name, item in value.items():
                if name not in ("_sd", "_sd_alg"):
                    out[name] = walk(item, depth + 1)
            sd = value.get("_sd", [])
            if not isinstance(sd, list):
                raise VerificationError(errors.INVALID_JWT, "_sd is not an array")
            for digest_value in sd:
                found = claim(digest_value)
                if found is None:
                    continue
                if len(found) != 3:
                    raise VerificationError(
                        errors.DISCLOSURE_MISMATCH, "an array-element disclosure used for a claim"
                    )
                if found[1] in out:
                    raise VerificationError(
                        errors.DISCLOSURE_MISMATCH,
                        f"claim {found[1]!r} is disclosed over a signed one",
                    )
                out[found[1]] = walk(found[2], depth + 1)
            return out
        if isinstance(value, list):
            items = []
            for item in value:
                if isinstance(item, Mapping) and set(item) == {"..."}:
                    found = claim(item["..."])
                    if found is None:
                        continue
                    if len(found) != 2:
                        raise VerificationError(
                            errors.DISCLOSURE_MISMATCH,
                            "a claim disclosure used for an array element",
                        )
                    items.append(walk(found[1], depth + 1))
                else:
                    items.append(walk(item, depth + 1))
            return items
        return value

    result = walk(payload, 0)
    if used != set(by_digest):
        raise VerificationError(
            errors.DISCLOSURE_MISMATCH, "a disclosure matches no digest the issuer signed"
        )
    return result


def status_reference(claims: Mapping[str, Any]) -> StatusReference | None:
    status = claims.get("status")
    if status is None:
        return None
    listed = status.get("status_list") if isinstance(status, Mapping) else None
    if not isinstance(listed, Mapping):
        raise VerificationError(errors.INVALID_STATUS, "status has no status_list reference")
    uri, index = listed.get("uri"), listed.get("idx")
    if not isinstance(uri, str) or not uri.startswith(("https://", "http://")):
        raise VerificationError(errors.INVALID_STATUS, "status_list.uri is not an HTTP URL")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < 2**40:
        raise VerificationError(errors.INVALID_STATUS, "status_list.idx is not an index")
    return StatusReference(uri, index)


def verify_issuer_jwt(
    token: str, resolver: DidResolver, *, allow_x5c: bool = False
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of an issuer-signed JWT whose key its ``iss`` DID lists."""
    header, payload = jose.parse(token, "SD-JWT")
    if header.get("typ") not in ISSUER_TYPES:
        raise VerificationError(
            errors.INVALID_JWT, f"SD-JWT typ {header.get('typ')!r} is not dc+sd-jwt"
        )
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer.startswith("did:"):
        raise VerificationError(errors.INVALID_CREDENTIAL, "the SD-JWT's iss is not a DID")
    if "x5c" in header and not allow_x5c:
        raise VerificationError(
            errors.VERIFICATION_METHOD_NOT_FOUND,
            "x5c issuer keys are not accepted: no certificate authority is configured",
        )
    key = jose.method_key(resolver, header.get("kid"), issuer, "assertionMethod", "SD-JWT")
    jose.verify(token, key, "SD-JWT")
    return header, payload


def verify_key_binding(
    sd: SdJwt, holder_key: jwk.JWK, *, nonce: str | None, audience: jose.Audience, now: datetime
) -> str:
    """The KB-JWT: holder's signature, nonce, audience, sd_hash, freshness; returns its nonce."""
    if sd.kb_jwt is None:
        raise VerificationError(errors.KB_JWT_MISSING, "the SD-JWT comes without a KB-JWT")
    header, payload = jose.parse(sd.kb_jwt, "KB-JWT")
    if header.get("typ") != KB_TYPE:
        raise VerificationError(
            errors.INVALID_JWT, f"KB-JWT typ {header.get('typ')!r} is not kb+jwt"
        )
    jose.verify(sd.kb_jwt, holder_key, "KB-JWT", slug=errors.HOLDER_MISMATCH)
    presented = jose.check_challenge(payload, nonce, audience, "KB-JWT")
    if payload.get("sd_hash") != digest(sd.bound_part):
        raise VerificationError(
            errors.SD_HASH_MISMATCH, "the KB-JWT binds another SD-JWT or other disclosures"
        )
    issued = jose.numeric_date(payload, "iat")
    if issued is None:
        raise VerificationError(errors.INVALID_JWT, "the KB-JWT has no iat")
    skew = timedelta(seconds=jose.LEEWAY)
    if issued > now + skew or issued < now - KB_MAX_AGE - skew:
        raise VerificationError(errors.EXPIRED, "the KB-JWT is not fresh (iat)")
    return presented


def verify_sdjwt(
    text: Any,
    resolver: DidResolver,
    *,
    nonce: str | None,
    audience: jose.Audience,
    now: datetime,
    allow_x5c: bool = False,
) -> tuple[VerifiedSdJwt, str]:
    """Verify a presented SD-JWT VC (everything but validity period, status and trust, which
    change over time: see :func:`credential_view`); returns it and the KB-JWT's nonce."""
    sd = split(text)
    _, payload = verify_issuer_jwt(sd.issuer_jwt, resolver, allow_x5c=allow_x5c)
    claims = disclose(payload, sd.disclosures)
    vct = claims.get("vct")
    if not isinstance(vct, str) or not vct:
        raise VerificationError(errors.INVALID_CREDENTIAL, "the SD-JWT VC has no vct")
    cnf = claims.get("cnf")
    if not isinstance(cnf, Mapping) or "jwk" not in cnf:
        raise VerificationError(
            errors.HOLDER_KEY_MISSING, "the SD-JWT names no holder key (cnf.jwk)"
        )
    holder_key = jose.public_jwk(cnf["jwk"], "cnf.jwk")
    presented_nonce = verify_key_binding(sd, holder_key, nonce=nonce, audience=audience, now=now)
    for name in ("iat", "nbf", "exp"):
        jose.numeric_date(claims, name)  # well-formed now; judged by the validity check
    verified = VerifiedSdJwt(
        issuer=claims["iss"],
        vct=vct,
        claims=claims,
        holder_key=holder_key,
        holder=jose.did_for_key(holder_key),
        status=status_reference(claims),
        digest=digest(sd.issuer_jwt),
    )
    return verified, presented_nonce


def credgate_type(vct: str) -> str | None:
    """The credgate type a ``vct`` names: the type's name itself, or a URL whose last path
    segment or fragment is it (``https://issuer/vct/RoleCredential``). Trust is decided by the
    type's issuer rule, so a vct names a type, never vouches for it."""
    known = credential_types()
    if vct in known:
        return vct
    tail = re.split(r"[/#:]", vct.rstrip("/"))[-1]
    return tail if tail in known else None


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def credential_view(verified: VerifiedSdJwt) -> dict[str, Any]:
    """The SD-JWT VC as a W3C-shaped credential: what the trust rules, the policy decision point
    and a grant read. Its ``credentialSubject.id`` is the holder key's DID (holder binding
    was the KB-JWT), its status a ``TokenStatusListEntry``."""
    claims = verified.claims
    name = credgate_type(verified.vct)
    subject = {k: v for k, v in claims.items() if k not in REGISTERED}
    subject["id"] = verified.holder
    # The issuer's id for the credential (jti: the same in every format it issued), else the
    # issuer JWT's digest.
    jti = claims.get("jti")
    ident = jti if isinstance(jti, str) and URL.match(jti) else f"urn:sd-jwt:{verified.digest}"
    view: dict[str, Any] = {
        "@context": [V2],
        "id": ident,
        "type": ["VerifiableCredential", *([name] if name else [])],
        "issuer": verified.issuer,
        "credentialSubject": subject,
        FORMAT_KEY: "dc+sd-jwt",
        "vct": verified.vct,
    }
    start = jose.numeric_date(claims, "nbf") or jose.numeric_date(claims, "iat")
    if start is not None:
        view["validFrom"] = _iso(start)
    end = jose.numeric_date(claims, "exp")
    if end is not None:
        view["validUntil"] = _iso(end)
    if verified.status is not None:
        view["credentialStatus"] = {
            "type": TOKEN_STATUS_ENTRY,
            # The token status value itself says which: 1 invalid, 2 suspended.
            "statusPurpose": "revocation",
            "statusListCredential": verified.status.uri,
            "statusListIndex": str(verified.status.index),
        }
    return view
