"""W3C VC-API verifier endpoints.

* ``POST /challenges`` → ``{"challenge", "domain", "expires"}`` (single use, expiring, spent only
  by ``/presentations/verify``: the gateway and depute have challenges of their own)
* ``POST /credentials/verify`` ``{"verifiableCredential", "options"}``
* ``POST /presentations/verify`` ``{"verifiablePresentation", "options": {"challenge",
  "domain"}}``

A verification answers 200 with ``{"verified": true, "checks", "warnings", "errors"}``, or 400
with the same result (``verified: false``) that is also an RFC 9457 problem document of type
``verification-failed`` whose ``errors`` carry the stable type of each failure. A request that is
not a verification request at all (malformed JSON, wrong shape, too large) is a plain problem
document.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, json, request

from credgate.problems import PROBLEM_MEDIA_TYPE, Problem, json_body
from verifier import errors
from verifier.engine import Verifier

bp = Blueprint("vc_api", __name__)

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
            errors.UNSUPPORTED_FORMAT, "Unsupported format", 400,
            f"{name} must be a JSON-LD object; enveloped (JWT) forms are not accepted",
        )  # fmt: skip
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


@bp.post("/credentials/verify")
def verify_credential():
    credential, _options = _request_object("verifiableCredential")
    return _answer(verifier().verify_credential(credential).to_vc_api())


@bp.post("/presentations/verify")
def verify_presentation():
    presentation, options = _request_object("verifiablePresentation")
    result = verifier().verify_presentation(
        presentation,
        challenge=_option(options, "challenge"),
        domain=_option(options, "domain") or current_app.config.get("VERIFIER_DOMAIN"),
    )
    return _answer(result.to_vc_api())


@bp.post("/challenges")
def create_challenge():
    body = json_body(optional=True)
    domain = body.get("domain") if isinstance(body, dict) else None
    if domain is not None and (not isinstance(domain, str) or len(domain) > MAX_DOMAIN):
        raise Problem(errors.INVALID_REQUEST, "Invalid request", 400,
                      f"domain must be a string of at most {MAX_DOMAIN} characters")  # fmt: skip
    store = verifier().challenges
    if store is None:
        raise Problem("not-available", "Challenges unavailable", 503, "no challenge store")
    issued = store.issue(domain or current_app.config.get("VERIFIER_DOMAIN"))
    return {
        "challenge": issued.challenge,
        "domain": issued.domain,
        "expires": issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
