"""W3C VC-API verifier endpoints.

* ``POST /challenges`` → ``{"challenge", "domain", "expires"}`` (single use, expiring, spent only
  by ``/presentations/verify``: the gateway and depute have challenges of their own)
* ``POST /credentials/verify`` ``{"verifiableCredential", "options": {"checks"}}``
* ``POST /presentations/verify`` ``{"verifiablePresentation", "options": {"challenge",
  "domain", "checks"}}``

Options as the VC-API specifies them. ``checks`` names what the caller wants checked: the proof,
the data model and the validity period are always checked; ``status`` and ``trust`` run unless
a ``checks`` list leaves them out; ``holder`` (a presentation signed by its credentials'
subject) is reported as a check and required only when asked for. The gateway and the sign-ins
do not come through here: they require holder binding and spend their own challenges.

A presentation's challenge: the caller's ``options.challenge`` is compared with the proof's; a
challenge that this service's ``/challenges`` issued is also spent (once); one it did not issue
is only compared, and without ``options.challenge`` it is refused (``challenge-unknown``).
``options.domain``, when given, must be the proof's ``domain``.

A verification answers 200 with ``{"verified": true, "checks", "warnings", "errors"}``, or 400
with the same result (``verified: false``) that is also an RFC 9457 problem document of type
``verification-failed`` whose ``errors`` carry the stable type of each failure. A request that is
not a verification request at all (malformed JSON, wrong shape, too large) is a plain problem
document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from flask import Blueprint, Response, current_app, json, request
from sqlalchemy import select

from credgate.openapi import PROBLEM, obj, operation
from credgate.problems import PROBLEM_MEDIA_TYPE, Problem, json_body
from verifier import errors
from verifier.engine import PresentationResult, Verifier
from verifier.errors import VerificationError
from verifier.models import Challenge

bp = Blueprint("vc_api", __name__)

# -- what the VC-API takes and answers (its /openapi.json) -----------------------------------------

INVALID = {"x-problem": errors.INVALID_REQUEST}


def verification_request(name: str) -> dict:
    """``{name: document, options}``; an enveloped (string) document passes here, to be refused
    as ``unsupported-format`` by the route."""
    return obj(
        required={name: {"type": ["object", "string"], **INVALID}},
        optional={"options": {"description": "checks, challenge, domain (strings; checks a list)"}},
        **INVALID,
    )


VERIFIED = obj(
    required={
        "verified": {"const": True},
        "checks": {"type": "array"},
        "warnings": {"type": "array"},
        "errors": {"type": "array"},
    }
)


def verification(summary: str, name: str) -> Callable[[Callable], Callable]:
    """The declaration of a VC-API verify route: the request names its document ``name``; the
    answer is a verification result, or a problem (a 400 for a document that does not verify)."""
    return operation(
        summary,
        body=verification_request(name),
        responses={200: VERIFIED, 400: (PROBLEM_MEDIA_TYPE, PROBLEM)},
        problems=(503,),
    )


#: Any JSON: only an object's ``domain`` counts.
CHALLENGE_REQUEST = {
    "properties": {"domain": {"type": ["string", "null"], "maxLength": 500, **INVALID}}
}
CHALLENGE = {"type": "object", "required": ["challenge", "domain", "expires"]}

MAX_DOMAIN = 500  # the challenge store's column


def verifier() -> Verifier:
    return current_app.extensions["credgate.verifier"]


def _request_object(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    body = json_body()
    if not isinstance(body, dict):
        raise Problem(errors.INVALID_REQUEST, "Invalid request", 400, "the body must be an object")
    document = body.get(name)
    if isinstance(document, str):
        raise Problem(
            errors.UNSUPPORTED_FORMAT,
            "Unsupported format",
            400,
            f"{name} must be a JSON-LD object; enveloped (JWT) forms are not accepted",
        )
    if not isinstance(document, dict):
        raise Problem(
            errors.INVALID_REQUEST, "Invalid request", 400, f"the body needs {name} (an object)"
        )
    options = body.get("options") or {}
    if not isinstance(options, dict):
        raise Problem(errors.INVALID_REQUEST, "Invalid request", 400, "options must be an object")
    return document, options


def _answer(result: dict[str, Any]) -> Response:
    if result["verified"]:
        return Response(json.dumps(result), status=200, mimetype="application/json")
    body = {
        "type": errors.type_uri("verification-failed"),
        "title": "Verification failed",
        "status": 400,
        "instance": request.path,
        **result,
    }
    return Response(json.dumps(body), status=400, mimetype=PROBLEM_MEDIA_TYPE)


def _option(options: dict[str, Any], name: str) -> str | None:
    value = options.get(name)
    if value is not None and not isinstance(value, str):
        raise Problem(errors.INVALID_REQUEST, "Invalid request", 400, f"options.{name} is a string")
    return value


#: ``options.checks`` names; the first three are always done, whatever the caller asks.
ALWAYS = ("proof", "structure", "validity")
CREDENTIAL_CHECKS = frozenset({*ALWAYS, "expiration", "status", "credentialStatus", "trust"})
PRESENTATION_CHECKS = CREDENTIAL_CHECKS | {"holder", "challenge", "domain"}


def _checks(options: dict[str, Any], known: frozenset[str]) -> frozenset[str] | None:
    """The caller's ``options.checks`` (None: the defaults). A check we do not perform is a
    400, never a silent ``verified: true`` without it."""
    if "checks" not in options:
        return None
    checks = options["checks"]
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise Problem(
            errors.INVALID_REQUEST,
            "Invalid request",
            400,
            "options.checks is a list of check names",
        )
    unknown = sorted(set(checks) - known)
    if unknown:
        raise Problem(
            errors.INVALID_REQUEST,
            "Invalid request",
            400,
            f"options.checks: {unknown[0]!r} is not a check this verifier performs "
            f"(known: {', '.join(sorted(known))})",
        )
    return frozenset(checks)


def _wanted(checks: frozenset[str] | None, *names: str) -> bool:
    return checks is None or any(name in checks for name in names)


@bp.post("/credentials/verify")
@verification("VC-API: verify a credential", "verifiableCredential")
def verify_credential():
    credential, options = _request_object("verifiableCredential")
    checks = _checks(options, CREDENTIAL_CHECKS)
    result = verifier().verify_credential(
        credential,
        check_status=_wanted(checks, "status", "credentialStatus"),
        check_trust=_wanted(checks, "trust"),
    )
    return _answer(result.to_vc_api())


@bp.post("/presentations/verify")
@verification(
    "VC-API: verify a presentation (with the challenge and domain it was signed for)",
    "verifiablePresentation",
)
def verify_presentation():
    presentation, options = _request_object("verifiablePresentation")
    checks = _checks(options, PRESENTATION_CHECKS)
    challenge = _option(options, "challenge")
    domain = _option(options, "domain")
    service = verifier()
    compared_only = challenge is not None and not _ours(service, challenge)
    if compared_only:
        # The caller's own challenge: compared with the proof, nothing to spend here (and
        # another consumer's stays unspent there); its freshness is the caller's to ensure.
        service = copy.copy(service)
        service.challenges = None
    # Otherwise our store spends the proof's challenge once its proof verified, before any of
    # its credentials is resolved or fetched; one it did not issue is challenge-unknown.
    result = service.verify_presentation(
        presentation,
        challenge=challenge,
        domain=domain,
        check_status=_wanted(checks, "status", "credentialStatus"),
        check_trust=_wanted(checks, "trust"),
        require_holder_binding=checks is not None and "holder" in checks,
    )
    if compared_only and result.holder is not None:
        result.warnings.append(
            VerificationError(
                errors.CHALLENGE_UNKNOWN,
                "not issued by this verifier's /challenges: compared with options.challenge "
                "only, not spent",
            )
        )
    if domain is not None:
        _require_domain(presentation, domain, result)
    result.verified = not result.errors and all(c.verified for c in result.credentials)
    return _answer(result.to_vc_api())


def _ours(service: Verifier, value: str) -> bool:
    """Whether this service's ``/challenges`` issued ``value`` (spent or not)."""
    store = service.challenges
    if store is None or not value or len(value) > 64:
        return False
    with store.factory() as session:
        found = session.scalar(
            select(Challenge.value).where(
                Challenge.value == value, Challenge.consumer == store.consumer
            )
        )
    return found is not None


def _proof(presentation: dict[str, Any]) -> dict[str, Any]:
    proof = presentation.get("proof")
    if isinstance(proof, list) and len(proof) == 1:
        proof = proof[0]
    return proof if isinstance(proof, dict) else {}


def _require_domain(presentation: dict[str, Any], domain: str, result: PresentationResult):
    """The caller named a domain: a proof signed for none does not meet it (the engine only
    warns, for Aries wallets at our own QR logins)."""
    if _proof(presentation).get("domain") is not None:
        return
    result.warnings = [w for w in result.warnings if w.slug != errors.DOMAIN_MISMATCH]
    result.checks = [c for c in result.checks if c != "domain"]
    result.errors.append(
        VerificationError(errors.DOMAIN_MISMATCH, f"the proof has no domain, expected {domain!r}")
    )


@bp.post("/challenges")
@operation(
    "VC-API: a challenge for a presentation",
    body=CHALLENGE_REQUEST,
    body_required=False,
    responses={200: CHALLENGE},
    problems=(503,),
)
def create_challenge():
    body = json_body(optional=True)
    domain = body.get("domain") if isinstance(body, dict) else None
    if domain is not None and (not isinstance(domain, str) or len(domain) > MAX_DOMAIN):
        raise Problem(
            errors.INVALID_REQUEST,
            "Invalid request",
            400,
            f"domain must be a string of at most {MAX_DOMAIN} characters",
        )
    store = verifier().challenges
    if store is None:
        raise Problem("not-available", "Challenges unavailable", 503, "no challenge store")
    issued = store.issue(domain or current_app.config.get("VERIFIER_DOMAIN"))
    return {
        "challenge": issued.challenge,
        "domain": issued.domain,
        "expires": issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
