"""The gateway's API: challenges and access tokens (challenge, presentation, token), who-am-I,
the JWK set, the mounted apps, and the operator's audit log and company credentials.

* ``POST /auth/challenge`` → ``{"challenge", "domain", "expires"}``
* ``POST /auth/token`` with a verifiable presentation (the object itself, or
  ``{"verifiablePresentation": ...}``) signed with that challenge → ``{"access_token",
  "token_type": "Bearer", "expires_in", "holder", "credentials"}``
* ``GET /auth/me`` (token or session), ``GET /.well-known/jwks.json``, ``GET /gateway/apps``
* operator (bearer API token): ``GET /gateway/decisions``, ``POST /gateway/company-credentials``
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, g, jsonify, request

from credgate.auth import OPERATOR
from credgate.db import utcnow
from credgate.openapi import listing, obj, operation, param
from credgate.problems import Problem, json_body
from gateway.audit import AuditRecord, recent_decisions
from gateway.challenges import token_challenges
from gateway.cookies import csrf_for
from gateway.enforce import authenticate, unauthenticated
from gateway.grants import recheck, status_entry_ids
from gateway.state import gateway
from verifier import errors
from verifier.challenges import bound_to

api = Blueprint("gateway_api", __name__)

# -- what the API takes and answers (its /openapi.json) --------------------------------------------

OBJECT = {"type": "object"}
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
NULLABLE = {"type": ["string", "null"]}
CHALLENGE = obj(required={"challenge": STRING, "domain": STRING, "expires": STRING})
#: A signed verifiable presentation, bare or as ``{"verifiablePresentation": ...}``; its checks
#: (JSON-LD, proof, the enveloped forms refused) are the verifier's, with their problem types.
PRESENTATION: dict = {"description": "a verifiable presentation, or {verifiablePresentation}"}
TOKEN = obj(
    required={
        "access_token": STRING,
        "token_type": {"const": "Bearer"},
        "expires_in": {"type": "integer"},
    },
    optional={"holder": NULLABLE, "credentials": STRINGS},
)
ME = {
    "type": "object",
    "required": ["holder", "via", "expires", "credentials"],
    "properties": {"credentials": {"type": "array", "items": OBJECT}},
}
JWKS = listing("keys", OBJECT)
APPS = listing("apps", obj(required={"name": STRING, "path": STRING, "powers": STRINGS}))
DECISION_FILTERS = {
    "holder": param("a holder DID"),
    "allow": param("true: allowed ones, anything else: refused ones"),
    "route": param("a route"),
    "limit": param("how many", {"type": "integer", "x-problem": "invalid-parameter"}, empty=False),
}
COMPANY_CREDENTIAL = {"description": "{verifiableCredential}: the company's credential"}
#: What gateway.handoff's redeem reads: four short ASCII strings (else invalid-request).
HANDOFF_MEMBER = {
    "type": "string",
    "minLength": 1,
    "maxLength": 500,
    "pattern": "^[\\x00-\\x7f]*$",
    "x-problem": "invalid-request",
}
HANDOFF = obj(
    problem="invalid-request",
    required={name: HANDOFF_MEMBER for name in ("client", "code", "code_verifier", "redirect_uri")},
)

TOKEN_TTL = timedelta(minutes=5)


@api.after_request
def no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/auth/challenge")
@operation("A challenge to sign in a presentation (token flow)", responses={200: CHALLENGE})
def challenge():
    gw = gateway()
    issued = token_challenges(gw.factory).issue(gw.domain)
    return {
        "challenge": issued.challenge,
        "domain": issued.domain,
        "expires": issued.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def presentation_from(body: Any) -> dict[str, Any]:
    presentation = body
    if isinstance(body, dict):
        presentation = body.get("verifiablePresentation", body.get("presentation", body))
    if isinstance(presentation, str):
        raise Problem(
            errors.UNSUPPORTED_FORMAT,
            "Unsupported format",
            400,
            "send the presentation as a JSON-LD object; enveloped (JWT) forms are not accepted",
        )
    if not isinstance(presentation, dict) or "proof" not in presentation:
        raise Problem(
            errors.INVALID_REQUEST,
            "Invalid request",
            400,
            'send a signed verifiable presentation (or {"verifiablePresentation": ...})',
        )
    return presentation


def verification_problem(result) -> Problem:
    """400 whose type is the first failure's stable error type, listing every failure."""
    problems = [e.to_problem() for e in result.errors]
    for index, credential in enumerate(result.credentials):
        problems += [{**e.to_problem(), "credentialIndex": index} for e in credential.errors]
    first = (result.errors or [e for c in result.credentials for e in c.errors])[0]
    return Problem(first.slug, first.title, 400, first.detail, errors=problems)


@api.post("/auth/token")
@operation(
    "Exchange a signed presentation for an access token",
    body=PRESENTATION,
    responses={200: TOKEN},
    problems=(403, 409, 503),
)
def token():
    gw = gateway()
    presentation = presentation_from(json_body())
    # Only the token API's own challenges, and the proof must name the gateway's domain.
    verifier = bound_to(gw.verifier, token_challenges(gw.factory))
    result = verifier.verify_presentation(presentation, domain=gw.domain)
    audit = {"via": "token", "method": "POST", "route": request.path, "requirement": "presentation"}
    if result.verified and not result.credentials:
        result.verified = False
        result.errors.append(
            errors.VerificationError(errors.INVALID_PRESENTATION, "the presentation is empty")
        )
    elif result.verified and not any(c.trusted for c in result.credentials):
        # A token would grant nothing: untrusted credentials are reported, never counted.
        result.verified = False
        result.errors.append(
            errors.VerificationError(
                errors.UNTRUSTED_ISSUER,
                "no credential of the presentation comes from an issuer the data space trusts",
            )
        )
    if not result.verified:
        problem = verification_problem(result)
        gw.audit.record(
            AuditRecord(
                **audit,
                allow=False,
                holder=result.holder,
                reason=problem.slug,
                detail=problem.detail,
            )
        )
        raise problem
    grant_id, _ = gw.grants.create(result, kind="token", ttl=TOKEN_TTL)
    grant = gw.grants.get(grant_id)
    credentials = [c.credential for c in result.credentials]
    access_token = gw.tokens.issue(
        holder=result.holder,
        grant=grant_id,
        status=status_entry_ids(credentials),
        expires_at=grant.expires_at.timestamp(),
    )
    gw.audit.record(
        AuditRecord(**audit, allow=True, holder=result.holder, credentials=grant.credential_ids)
    )
    expires_in = max(
        0,
        int(
            min(grant.expires_at.timestamp(), utcnow().timestamp() + gw.tokens.ttl)
            - utcnow().timestamp()
        ),
    )
    return {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "holder": result.holder,
        "credentials": grant.credential_ids,
    }


@api.get("/auth/me")
@operation(
    "Who the access token speaks for: holder, portal, its credentials (still valid?)",
    responses={200: ME},
    problems=(401,),
    auth="bearer",
)
def me():
    gw = gateway()
    caller = authenticate()
    if caller is None:
        raise unauthenticated()
    results = recheck(gw.verifier, caller.grant.credentials, utcnow())
    body: dict[str, Any] = {}
    if caller.via == "session":  # for the session's own pages (same origin: no CORS here)
        body["csrfToken"] = csrf_for(caller.session_secret or "")
    return body | {
        "holder": caller.grant.holder,
        "via": caller.via,
        "portal": caller.grant.portal,
        "expires": caller.grant.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "credentials": [
            {
                "id": r.credential.get("id"),
                "types": [t for t in r.facts.types if t != "VerifiableCredential"]
                if r.facts
                else [],
                "valid": r.verified,
                "errors": r.error_types(),
            }
            for r in results
        ],
    }


@api.get("/.well-known/jwks.json")
@operation("The keys that sign access tokens (JWKS)", responses={200: JWKS})
def jwks():
    response = jsonify(gateway().tokens.jwks())
    return response


@api.get("/gateway/apps")
@operation("The apps mounted in the gateway and the powers they need", responses={200: APPS})
def apps():
    return {
        "apps": [
            {
                "name": a.name,
                "title": a.title,
                "description": a.description,
                "path": f"/apps/{a.name}/",
                "powers": list(a.powers),
            }
            for a in gateway().apps.values()
        ]
    }


@api.get("/gateway/decisions")
@operation(
    "Recent access decisions (audit)",
    responses={200: {"type": "object", "required": ["decisions"]}},
    query=DECISION_FILTERS,
    auth=OPERATOR,
)
def decisions():
    gw = gateway()
    gw.audit.flush()
    allow = request.args.get("allow")
    try:
        limit = int(request.args.get("limit", "100"))
    except ValueError:
        raise Problem("invalid-parameter", "Invalid parameter", 400, "limit is a number") from None
    found = recent_decisions(
        gw.factory,
        holder=request.args.get("holder") or None,
        allow=None if allow is None else allow == "true",
        route=request.args.get("route") or None,
        limit=limit,
    )
    return {"decisions": list(found)}


@api.post("/gateway/company-credentials")
@operation(
    "Register a company credential (a KCIT-identified company's, for its portal)",
    body=COMPANY_CREDENTIAL,
    responses={
        201: {
            "type": "object",
            "required": ["company", "credential", "roles"],
            "properties": {"roles": STRINGS},
        }
    },
    problems=(409, 422),
    auth=OPERATOR,
)
def register_company_credential():
    body = json_body()
    credential = body.get("verifiableCredential") if isinstance(body, dict) else None
    registered = gateway().companies.register(credential, actor=g.actor)
    return registered, 201


@api.post("/connect/token")
@operation(
    "A service redeems the one-time code of a QR login done for it (PKCE; server to server)",
    body=HANDOFF,
    responses={
        200: {
            "type": "object",
            "required": ["client", "portal", "holder", "credentials", "verifiedAt"],
            "properties": {"credentials": {"type": "array", "items": OBJECT}},
        }
    },
    problems=(401, 403, 404, 409, 410, 503),
)
def redeem_handoff():
    """A service redeems the one-time code of a QR login done for it (server to server)."""
    handoffs = gateway().handoffs
    if handoffs is None:
        raise Problem("not-available", "Sign-in hand-off unavailable", 503)
    body = json_body()
    if not isinstance(body, dict):
        raise Problem("invalid-request", "Invalid request", 400, "send a JSON object")
    return jsonify(handoffs.redeem(body))  # no-store, as every answer here
