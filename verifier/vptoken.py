"""An OpenID4VP ``vp_token`` verified into a :class:`~verifier.engine.PresentationResult`.

What comes back from a wallet is, by OpenID4VP 1.0 with DCQL, a JSON object from credential
query ids to arrays of presentations (drafts 23–27 sent one presentation per id); by the drafts
with Presentation Exchange, one presentation or an array of them beside a
``presentation_submission``. Each presentation is recognised by its shape, not by what the
wallet says it is:

* ``<jwt>~<disclosures>~<kb-jwt>`` — SD-JWT VC (:mod:`verifier.sdjwt`);
* a compact JWS — a VC-JWT presentation (:mod:`verifier.jwtvc`);
* a JSON object — a Data Integrity / LD-proof presentation (:class:`~verifier.engine.Verifier`).

Each must be bound to our nonce and audience (the client_id); all of them to one holder. The
nonce is a challenge of the login's own store and is spent once here, after a binding held.
The results carry the same ``verified``/``trusted`` as every other presentation, so one PDP,
one set of trust rules and one grant store serve both protocols; :func:`assess` is what a grant
re-runs on every request (it checks Token Status Lists beside the W3C ones).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from verifier import errors, jwtvc, sdjwt
from verifier.challenges import ChallengeStore
from verifier.credentials import check_credential
from verifier.engine import CredentialResult, PresentationResult, Verifier, holder_binding
from verifier.errors import VerificationError
from verifier.jose import Audience, audience_ok
from verifier.tokenstatus import cache_for, check_token_status, token_entries

MAX_PRESENTATIONS = 16


def assess(verifier: Verifier, result: CredentialResult, now: datetime) -> CredentialResult:
    """:meth:`Verifier.assess`, with the Token Status List entries of SD-JWT VCs checked too."""
    tokens = token_entries(result.credential)
    if not tokens:
        return verifier.assess(result, now)
    facts = result.facts
    assert facts is not None
    verifier.assess(result, now, check_status=False)
    if len(facts.status_entries) != len(tokens):
        result.errors.append(
            VerificationError(
                errors.INVALID_STATUS, "a credential mixes Token Status List and W3C status entries"
            )
        )
    elif not result.errors:  # nothing fetched for an untrusted or expired credential
        if verifier.status is None:
            result.errors.append(
                VerificationError(
                    errors.STATUS_UNAVAILABLE, "this verifier has no status service configured"
                )
            )
        else:
            cache = cache_for(verifier.status, verifier.resolver)
            signers = (
                verifier.trust.status_list_signers(facts.issuer) if verifier.trust else frozenset()
            )
            try:
                for entry in tokens:
                    index = entry.get("statusListIndex")
                    if not isinstance(index, str) or not index.isdigit() or len(index) > 12:
                        raise VerificationError(errors.INVALID_STATUS, "bad token status index")
                    check_token_status(
                        str(entry.get("statusListCredential")),
                        int(index),
                        facts.issuer,
                        cache,
                        signers,
                        now,
                    )
                result.checks.append("status")
            except VerificationError as exc:
                result.errors.append(exc)
    result.verified = not result.errors
    result.trusted = result.trusted and result.verified
    return result


def presentations(
    vp_token: Any, query_ids: frozenset[str] | None = None
) -> list[tuple[str | None, Any]]:
    """(credential query id or None, presentation) pairs of a vp_token in any of its forms."""
    if isinstance(vp_token, str) and vp_token[:1] in "{[":
        try:
            vp_token = json.loads(vp_token)
        except ValueError:
            raise VerificationError(errors.INVALID_PRESENTATION, "vp_token is not JSON") from None
    found: list[tuple[str | None, Any]] = []
    if isinstance(vp_token, Mapping) and not ("@context" in vp_token or "proof" in vp_token):
        for query_id, value in vp_token.items():  # DCQL
            if query_ids is not None and query_id not in query_ids:
                raise VerificationError(
                    errors.INVALID_PRESENTATION, f"vp_token answers no query {query_id!r}"
                )
            for item in value if isinstance(value, list) else [value]:
                found.append((query_id, item))
    elif isinstance(vp_token, list):
        found = [(None, item) for item in vp_token]
    else:
        found = [(None, vp_token)]
    if not found or len(found) > MAX_PRESENTATIONS:
        raise VerificationError(
            errors.INVALID_PRESENTATION, "vp_token holds no (or too many) presentations"
        )
    return found


def _credential_result(view: dict[str, Any], checks: list[str]) -> CredentialResult:
    result = CredentialResult(view, checks=list(checks))
    result.facts = check_credential(view)
    return result


def verify_vp_token(
    verifier: Verifier,
    vp_token: Any,
    *,
    nonce: str,
    audience: Audience,
    challenges: ChallengeStore | None = None,
    query_ids: frozenset[str] | None = None,
    now: datetime | None = None,
) -> PresentationResult:
    """Verify every presentation of ``vp_token`` for ``nonce`` and ``audience``; spend the nonce
    from ``challenges`` once the holder's binding held."""
    now = now or datetime.now(UTC)
    result = PresentationResult(vp_token)
    try:
        items = presentations(vp_token, query_ids)
    except VerificationError as exc:
        result.errors.append(exc)
        return result
    holders: list[str] = []
    bound = False
    for _, item in items:
        try:
            holder = _one(verifier, item, nonce, audience, now, result)
        except VerificationError as exc:
            result.errors.append(exc)
            continue
        bound = True
        holders.append(holder)
    if len(set(holders)) > 1:
        result.errors.append(
            VerificationError(
                errors.HOLDER_MISMATCH,
                "the presentations of one vp_token come from several holders",
            )
        )
    result.holder = holders[0] if holders and len(set(holders)) == 1 else None
    if bound and challenges is not None:
        try:
            challenges.consume(nonce, None, now=now)
            result.checks += ["challenge", "domain"]
        except VerificationError as exc:
            result.errors.append(exc)
    result.verified = (
        bool(result.credentials)
        and not result.errors
        and all(c.verified for c in result.credentials)
    )
    if not result.credentials and not result.errors:
        result.errors.append(
            VerificationError(errors.INVALID_PRESENTATION, "no credential presented")
        )
    return result


def _one(
    verifier: Verifier,
    item: Any,
    nonce: str,
    audience: Audience,
    now: datetime,
    result: PresentationResult,
) -> str:
    """Verify one presentation, add its credentials' results; return its holder DID."""
    if isinstance(item, str) and "~" in item:
        verified, _ = sdjwt.verify_sdjwt(
            item, verifier.resolver, nonce=nonce, audience=audience, now=now
        )
        credential = _credential_result(
            sdjwt.credential_view(verified),
            ["structure", "proof", "issuer", "disclosures", "holder"],
        )
        result.credentials.append(assess(verifier, credential, now))
        result.checks.append("proof")
        return verified.holder
    if isinstance(item, str):
        holder, tokens, _ = jwtvc.verify_presentation_jwt(
            item, verifier.resolver, nonce=nonce, audience=audience, now=now
        )
        result.checks.append("proof")
        for token in tokens:
            try:
                credential = _credential_result(
                    jwtvc.credential_view(token, verifier.resolver),
                    ["structure", "proof", "issuer"],
                )
            except VerificationError as exc:
                failed = CredentialResult(token, errors=[exc])
                result.credentials.append(failed)
                continue
            problem = holder_binding(holder, credential.facts)  # type: ignore[arg-type]
            if problem is not None:
                result.errors.append(problem)
            result.credentials.append(assess(verifier, credential, now))
        if not tokens:
            raise VerificationError(errors.INVALID_PRESENTATION, "the VP JWT carries no credential")
        return holder
    if isinstance(item, Mapping):
        # The nonce is compared here and spent once for the whole vp_token by the caller.
        unbound = copy.copy(verifier)
        unbound.challenges = None
        # An LD proof's domain is the client_id (OpenID4VP B.1.3.2): ours, or none at all (Aries
        # wallets omit it; the nonce is bound to this login).
        proof = item.get("proof")
        domain = proof.get("domain") if isinstance(proof, Mapping) else None
        if domain is not None and not audience_ok(domain, audience):
            raise VerificationError(errors.AUDIENCE_MISMATCH, f"the presentation is for {domain!r}")
        inner = unbound.verify_presentation(item, challenge=nonce, domain=None, now=now)
        result.credentials.extend(inner.credentials)
        result.errors.extend(inner.errors)
        result.warnings.extend(inner.warnings)
        if inner.holder is None:
            raise VerificationError(
                errors.PROOF_MISSING, "the LD presentation is not signed by a holder"
            )
        return inner.holder
    raise VerificationError(
        errors.UNSUPPORTED_FORMAT, "a presentation is neither a JWT nor a JSON object"
    )
