"""Authentication and authorisation of every request to a mounted app.

For each request: find the grant (a bearer access token, or the browser session's cookie),
re-check its credentials' current state (:func:`~gateway.grants.recheck`), let the
policy decide the view's requirement, write the decision to the audit log, then either run the
view with :func:`~gateway.plugin.current_principal` set, or answer with a problem
document: 401 without a live grant, 403 naming what is missing (or which credential stopped
working: revoked, suspended, a company KCIT deactivated).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from flask import current_app, g, redirect, request

from credgate.auth import presented_bearer_token
from credgate.db import utcnow
from credgate.pages import page_headers as security_headers
from credgate.problems import Problem
from gateway.audit import AuditRecord
from gateway.cookies import SESSION_COOKIE, check_csrf
from gateway.grants import LoadedGrant, recheck
from gateway.plugin import PRINCIPAL, Principal
from gateway.requirements import (
    Public,
    Requirement,
    describe,
    evaluate,
    missing,
    requirement_of,
)
from gateway.state import gateway
from gateway.tokens import CHALLENGE
from verifier.engine import CredentialResult
from verifier.pdp import Decision

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

#: A credential's failure that explains a deny better than "role missing" does.
STATE_FAILURES = (
    "revoked",
    "suspended",
    "company-inactive",
    "expired",
    "issuer-not-kcit-company",
    "untrusted-issuer",
    "not-yet-valid",
    "status-unavailable",
    "invalid-status",
    "power-not-granted",
)

TITLES = {
    "role-missing": "Missing role",
    "power-missing": "Missing power",
    "company-role-missing": "Your company lacks the role",
    "software-not-certified": "Software not certified",
    "purpose-not-certified": "Software not certified for this purpose",
    "descriptor-unsatisfied": "No matching credential",
    "no-valid-credential": "No valid credential",
    "revoked": "Credential revoked",
    "suspended": "Credential suspended",
    "company-inactive": "Company not active",
    "expired": "Credential expired",
}


@dataclass(frozen=True)
class Caller:
    grant: LoadedGrant
    via: str  # token | session
    session_secret: str | None = None


def authenticate() -> Caller | None:
    """The caller's live grant, from ``Authorization: Bearer`` or the session cookie."""
    gw = gateway()
    token = presented_bearer_token()
    if token is not None:
        claims = gw.tokens.read(token)
        grant = gw.grants.get(claims.grant)
        if grant is None or grant.holder != claims.holder:
            raise Problem(
                "invalid-token",
                "Invalid access token",
                401,
                "the token's grant has ended",
                headers=CHALLENGE,
            )
        return Caller(grant, "token")
    secret = request.cookies.get(SESSION_COOKIE)
    if secret and len(secret) <= 200:
        grant = gw.grants.by_session(secret)
        if grant is not None:
            return Caller(grant, "session", secret)
    return None


def unauthenticated() -> Problem:
    return Problem(
        "unauthorized",
        "Authentication required",
        401,
        "log in with your wallet, or send an access token from POST /auth/token",
        headers=CHALLENGE,
    )


def wants_html() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.method == "GET" and best == "text/html"


def authorize(requirement: Requirement, caller: Caller) -> Principal:
    """Decide, audit and either return the principal or raise the deny's problem."""
    gw = gateway()
    results = recheck(gw.verifier, caller.grant.credentials, utcnow())
    decision = evaluate(requirement, results, gw.companies.roles)
    gw.audit.record(
        AuditRecord(
            via=caller.via,
            method=request.method,
            route=request.path,
            requirement=describe(requirement),
            allow=decision.allow,
            holder=caller.grant.holder,
            acting_for=decision.acting_for,
            reason=None if decision.allow else _reason_code(decision, results),
            detail=None if decision.allow else "; ".join(r.detail for r in decision.reasons),
            credentials=list(decision.credentials) or caller.grant.credential_ids,
        )
    )
    if not decision.allow:
        raise deny_problem(requirement, decision, results)
    return Principal(
        holder=caller.grant.holder,
        via=caller.via,
        grant=caller.grant.id,
        credentials=results,
        decision=decision,
        company_roles=gw.companies.roles,
    )


def _failures(results: Sequence[CredentialResult]) -> list[dict[str, object]]:
    return [
        {
            "credential": str(r.credential.get("id")),
            "errors": r.error_types(),
            "detail": "; ".join(e.detail for e in r.errors),
        }
        for r in results
        if not r.verified
    ]


def _reason_code(decision: Decision, results: Sequence[CredentialResult]) -> str:
    for result in results:
        for slug in result.error_types():
            if slug in STATE_FAILURES:
                return slug
    return decision.reasons[0].code if decision.reasons else "denied"


def deny_problem(
    requirement: Requirement, decision: Decision, results: Sequence[CredentialResult]
) -> Problem:
    code = _reason_code(decision, results)
    required = describe(requirement)
    lacking = missing(decision.reasons)
    failures = _failures(results)
    if code in STATE_FAILURES:
        failed = next(f for f in failures if code in f["errors"])
        detail = (
            f"credential {failed['credential']} is {code}: {failed['detail']}; "
            f"this route requires {required}"
        )
    else:
        detail = f"this route requires {required}; " + "; ".join(r.detail for r in decision.reasons)
    title = TITLES.get(code, "Forbidden")
    if code in ("role-missing", "power-missing") and lacking:
        title = f"{title}: {lacking[0].split(' ', 1)[1]}"
    return Problem(
        code,
        title,
        403,
        detail,
        required=required,
        missing=lacking,
        reasons=[r.to_dict() for r in decision.reasons],
        credentialErrors=failures,
    )


def enforce_mounted():
    """``before_request`` of the gateway: only requests to mounted apps are judged here."""
    gw = gateway()
    if request.blueprint not in gw.mounted_blueprints:
        return None
    view = current_app.view_functions.get(request.endpoint or "")
    requirement = requirement_of(view) if view is not None else None
    if requirement is None:
        if request.endpoint and request.endpoint.endswith(".static"):
            return None
        raise Problem("not-found", "Not Found", 404, "no such route")
    if isinstance(requirement, Public):
        return None
    try:
        caller = authenticate()
    except Problem:
        if wants_html():
            return redirect(login_redirect(), 303)
        raise
    if caller is None:
        if wants_html():
            return redirect(login_redirect(), 303)
        raise unauthenticated()
    if caller.via == "session" and request.method in UNSAFE:
        check_csrf(caller.session_secret or "")
    setattr(g, PRINCIPAL, authorize(requirement, caller))
    g.credgate_caller = caller
    return None


def login_redirect() -> str:
    """Where a browser without a session goes: the portals, then back here."""
    return "/portals?" + urlencode({"next": request.full_path.rstrip("?")})


def page_headers(response):
    """``after_request``: HTML of mounted apps gets the gateway pages' protections too."""
    if request.blueprint in gateway().mounted_blueprints and response.mimetype == "text/html":
        return security_headers(response, csp=CSP)
    return response
