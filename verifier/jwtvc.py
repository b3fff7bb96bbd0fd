"""VC-JWT (``jwt_vc_json``): W3C credentials and presentations secured as JWTs (VC Data Model
1.1 §6.3.1, the format OpenID4VCI/VP call ``jwt_vc_json``).

A credential JWT carries the credential in its ``vc`` claim; ``iss`` is the issuer, ``sub`` the
subject, ``jti`` the id, ``nbf``/``exp`` the validity. It counts when it is signed by a key of
the ``iss`` DID's own document (``kid``). A presentation JWT (``vp`` claim) is signed by the
holder (``iss``, a key listed under authentication) for our nonce and audience; every credential
subject must be that holder. The credential is then read as the W3C credential it carries
(:func:`credential_view`), so its BitstringStatusList entry, trust rule and policy are the ones
every other credential gets.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from verifier import errors, jose
from verifier.credentials import V1, V2, as_list
from verifier.dids import DidResolver
from verifier.errors import VerificationError
from verifier.jose import Audience
from verifier.sdjwt import FORMAT_KEY

#: A presentation JWT older than this is not fresh.
VP_MAX_AGE = timedelta(minutes=5)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _default_kid(did: str, kid: Any) -> Any:
    # A did:key has one key, named by its own fingerprint; some wallets leave kid out.
    if kid is None and did.startswith("did:key:"):
        return f"{did}#{did.removeprefix('did:key:')}"
    if kid is None and did.startswith("did:jwk:"):
        return f"{did}#0"
    return kid


def credential_view(token: Any, resolver: DidResolver) -> dict[str, Any]:
    """The W3C credential a VC-JWT carries, its signature verified (validity, status and trust
    are judged later, like any credential's)."""
    header, payload = jose.parse(token, "VC-JWT")
    vc = payload.get("vc")
    if not isinstance(vc, Mapping):
        raise VerificationError(errors.INVALID_CREDENTIAL, "the VC-JWT has no vc claim")
    issuer = payload.get("iss")
    if not isinstance(issuer, str) or not issuer.startswith("did:"):
        raise VerificationError(errors.INVALID_CREDENTIAL, "the VC-JWT's iss is not a DID")
    key = jose.method_key(
        resolver, _default_kid(issuer, header.get("kid")), issuer, "assertionMethod", "VC-JWT"
    )
    jose.verify(token, key, "VC-JWT")
    view = copy.deepcopy(dict(vc))
    view.setdefault("@context", [V1])
    named = view.get("issuer")
    named = named.get("id") if isinstance(named, Mapping) else named
    if named is not None and named != issuer:
        raise VerificationError(errors.ISSUER_MISMATCH, "vc.issuer is not the JWT's iss")
    view["issuer"] = issuer
    if isinstance(payload.get("jti"), str):
        view["id"] = payload["jti"]
    subject = payload.get("sub")
    if isinstance(subject, str):
        subjects = as_list(view.get("credentialSubject"))
        if len(subjects) != 1 or not isinstance(subjects[0], Mapping):
            raise VerificationError(errors.INVALID_CREDENTIAL, "sub needs one credentialSubject")
        if subjects[0].get("id", subject) != subject:
            raise VerificationError(errors.INVALID_CREDENTIAL, "sub is not credentialSubject.id")
        view["credentialSubject"] = {**subjects[0], "id": subject}
    start = jose.numeric_date(payload, "nbf") or jose.numeric_date(payload, "iat")
    end = jose.numeric_date(payload, "exp")
    v1 = as_list(view.get("@context"))[:1] != [V2]
    if start is not None:
        view["issuanceDate" if v1 else "validFrom"] = _iso(start)
    if end is not None:
        view["expirationDate" if v1 else "validUntil"] = _iso(end)
    view.pop("proof", None)
    view[FORMAT_KEY] = "jwt_vc_json"
    return view


def verify_presentation_jwt(
    token: Any, resolver: DidResolver, *, nonce: str | None, audience: Audience, now: datetime
) -> tuple[str, list[Any], str]:
    """A VP JWT: returns the holder DID (its signer), the credentials it carries and its nonce."""
    header, payload = jose.parse(token, "VP JWT")
    vp = payload.get("vp")
    if not isinstance(vp, Mapping) or "VerifiablePresentation" not in as_list(vp.get("type")):
        raise VerificationError(errors.INVALID_PRESENTATION, "the VP JWT has no vp claim")
    holder = payload.get("iss")
    named = vp.get("holder")
    if holder is None:
        holder = named
    if not isinstance(holder, str) or not holder.startswith("did:"):
        raise VerificationError(errors.INVALID_PRESENTATION, "the VP JWT names no holder DID (iss)")
    if named is not None and named != holder:
        raise VerificationError(errors.HOLDER_MISMATCH, "vp.holder is not the JWT's iss")
    key = jose.method_key(
        resolver, _default_kid(holder, header.get("kid")), holder, "authentication", "VP JWT"
    )
    jose.verify(token, key, "VP JWT")
    presented = jose.check_challenge(payload, nonce, audience, "VP JWT")
    jose.check_times(payload, now, "VP JWT")
    issued = jose.numeric_date(payload, "iat")
    if issued is not None and issued < now - VP_MAX_AGE:
        raise VerificationError(errors.EXPIRED, "the VP JWT is not fresh (iat)")
    return holder, as_list(vp.get("verifiableCredential")), presented
