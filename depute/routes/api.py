"""Depute's JSON API under ``/depute/api``.

Sign-in: ``POST /login/challenge`` then ``POST /login`` with a presentation of an Attorney
credential granting ``depute:admin`` → a bearer session token. Every other route takes
``Authorization: Bearer <operator API token | session token>``; a company admin sees only its
own company.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Response, current_app, g, jsonify, request
from sqlalchemy import select

from credgate.auth import CHALLENGE, presented_bearer_token, required_bearer_token
from credgate.openapi import component, listing, obj, operation, operation_with, param
from credgate.problems import Problem, json_body
from depute import audit
from depute.authorisations import FIELDS as AUTHORISATION_FIELDS
from depute.authorisations import (
    PROOF_TYPES,
    STATES,
    authorise,
    delegable_powers,
    list_authorisations,
    set_status,
    view_of,
)
from depute.context import depute_context
from depute.models import DeputeCompany
from depute.provisioning import provision
from depute.sessions import Admin, admin_for_bearer, challenge, login, logout
from kcit import registry
from kcit.validation import single

api = Blueprint("depute_api", __name__, url_prefix="/depute/api")

# What the API takes and answers (its /openapi.json). The bodies of authorisations and status
# changes are any JSON here: depute's own checks give their problem types.
JSON: dict = {}
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
NULLABLE = {"type": ["string", "null"]}
#: An operator API token or a depute session token (from /login).
ADMIN = {"auth": "bearer"}
#: A route of one company: not this admin's company is a 403, an unknown one a 404.
of_company = operation_with(**ADMIN, problems=(403, 404))
CHALLENGE_VIEW = obj(required={"challenge": STRING, "domain": STRING, "expiresAt": STRING})
PRESENTATION = obj(
    problem="missing-field",  # as depute says of a body without a presentation
    required={"presentation": {"type": "object", "x-problem": "missing-field"}},
)
SESSION = obj(
    required={"token": STRING, "company": STRING, "expiresAt": STRING},
    optional={"name": NULLABLE},
)
POWERS = listing("powers", STRING)
COMPANY = obj(
    required={"id": STRING, "legalName": STRING, "status": STRING},
    optional={
        "did": NULLABLE,
        "provisioning": {"type": ["object", "null"]},
        "delegablePowers": STRINGS,
    },
)
#: What depute.authorisations.check_mandate reads; what the members hold (the powers the
#: company may delegate, the dates) it checks, with its own field problems.
MANDATE = obj(
    optional={
        **{name: {} for name in AUTHORISATION_FIELDS},
        "proofType": {"enum": list(PROOF_TYPES)},
    },
    additionalProperties=False,
)
AUTHORISATION = component(
    "Authorisation",
    obj(
        required={
            "id": STRING,
            "company": STRING,
            "mandatee": obj(optional={"name": STRING, "email": STRING}),
            "powers": STRINGS,
            "state": {"enum": list(STATES)},
            "validFrom": STRING,
            "validUntil": STRING,
        },
        optional={
            "signer": {"type": ["object", "null"]},
            "credentialId": NULLABLE,
            "subject": NULLABLE,
            "createdBy": NULLABLE,
            "createdAt": STRING,
            "exchange": {"type": ["object", "null"]},
        },
    ),
)
COMPANIES = listing("companies", COMPANY)


def domain() -> str:
    """The domain admins' presentations are signed for: depute's host."""
    configured = current_app.config.get("DEPUTE_DOMAIN")
    return configured or urlsplit(request.host_url).netloc


def current_admin() -> Admin:
    presented = required_bearer_token(
        "send an operator API token or a depute session token as Bearer"
    )
    admin = admin_for_bearer(depute_context(), presented)
    if admin is None:
        raise Problem(
            "invalid-token",
            "Invalid or ended session",
            401,
            "the token is unknown, expired, or its mandate is no longer active",
            headers=CHALLENGE,
        )
    g.admin = admin
    return admin


def admin_of(company_id: str) -> Admin:
    admin = current_admin()
    if not admin.may_act_for(company_id):
        raise Problem(
            "forbidden",
            "Not your company",
            403,
            "a company admin acts only for the company that mandated them",
        )
    return admin


# -- sign-in ---------------------------------------------------------------------------------------


@api.post("/login/challenge")
@operation(
    "A challenge to sign in with a presentation (the company's admin mandate)",
    responses={200: CHALLENGE_VIEW},
)
def login_challenge():
    response = jsonify(challenge(depute_context(), domain()))
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/login")
@operation(
    "Sign in with a presentation of an admin mandate: a session token",
    body=PRESENTATION,
    responses={200: SESSION},
    problems=(401, 403, 503),
)
def login_with_presentation():
    body = json_body()
    presentation = body.get("presentation") if isinstance(body, dict) else None
    if not isinstance(presentation, dict):
        raise single("presentation", "missing-field", "post {presentation: <VP>}", 400)
    token, row = login(depute_context(), presentation, domain())
    response = jsonify(
        {
            "token": token,
            "company": row.company_id,
            "name": row.name,
            "expiresAt": row.expires_at.isoformat(),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@api.post("/logout")
@operation("End the session", responses={204: None}, **ADMIN)
def end_session():
    current_admin()
    logout(depute_context(), presented_bearer_token() or "")
    return "", 204


# -- companies -------------------------------------------------------------------------------------


def company_view(company_id: str) -> dict:
    ctx = depute_context()
    with ctx.factory() as session:
        company = registry.get_company(session, company_id)
        wallet = session.get(DeputeCompany, company_id)
    return {
        "id": company.id,
        "legalName": company.legal_name,
        "status": company.status,
        "did": wallet.did if wallet else None,
        "provisioning": None
        if wallet is None
        else {
            "state": wallet.state,
            "onboarding": wallet.onboarding_state,
            "adminAuthorisation": wallet.admin_authorisation_id,
            "error": wallet.error,
        },
        "delegablePowers": delegable_powers(ctx, company),
    }


@api.get("/powers")
@operation("The power catalogue", responses={200: POWERS}, **ADMIN)
def power_catalogue():
    current_admin()
    return {"powers": list(depute_context().powers)}


@api.get("/companies")
@operation("The companies this admin may act for", responses={200: COMPANIES}, **ADMIN)
def companies():
    admin = current_admin()
    ctx = depute_context()
    with ctx.factory() as session:
        query = select(DeputeCompany.company_id).order_by(DeputeCompany.created_at)
        if admin.company_id is not None:
            query = query.where(DeputeCompany.company_id == admin.company_id)
        ids = list(session.scalars(query))
    return {"companies": [company_view(i) for i in ids]}


@api.get("/companies/<company_id>")
@of_company("A company: its wallet, provisioning and delegable powers", responses={200: COMPANY})
def company(company_id: str):
    admin_of(company_id)
    return company_view(company_id)


@api.post("/companies/<company_id>/provision")
@of_company(
    "Retry a provisioning that failed (the operator's)",
    responses={200: COMPANY},
    problems=(409, 503),
)
def reprovision(company_id: str):
    """Retry a provisioning that failed (the operator's; the sweeper retries too)."""
    if admin_of(company_id).company_id is not None:
        raise Problem("forbidden", "Operator only", 403)
    provision(depute_context(), company_id)
    return company_view(company_id)


# -- authorisations --------------------------------------------------------------------------------


@api.post("/companies/<company_id>/authorisations")
@of_company(
    "Authorise a person: an attorney credential offered to them",
    body=MANDATE,
    before=admin_of,  # not this admin's company: a 403 whatever the body
    responses={201: AUTHORISATION},
    problems=(400, 409, 422, 503),
)
def create_authorisation(company_id: str):
    admin = admin_of(company_id)
    ctx = depute_context()
    row, _exchange = authorise(ctx, company_id, json_body(), admin.signer())
    return (
        view_of(ctx, company_id, row.id),
        201,
        {"Location": f"{request.url.rstrip('/')}/{row.id}"},
    )


@api.get("/companies/<company_id>/authorisations")
@of_company(
    "The company's authorisations",
    responses={200: listing("authorisations", AUTHORISATION)},
    query={"state": param("only those in this state", {"enum": list(STATES)})},
)
def authorisations(company_id: str):
    admin_of(company_id)
    state = request.args.get("state") or None
    return {"authorisations": list_authorisations(depute_context(), company_id, state)}


@api.get("/companies/<company_id>/authorisations/<authorisation_id>")
@of_company("An authorisation", responses={200: AUTHORISATION})
def authorisation(company_id: str, authorisation_id: str):
    admin_of(company_id)
    return view_of(depute_context(), company_id, authorisation_id)


@api.post("/companies/<company_id>/authorisations/<authorisation_id>/<action>")
@of_company(
    "Suspend, reinstate or revoke an authorisation (a reason)",
    body=JSON,
    responses={200: AUTHORISATION},
    problems=(400, 409, 422, 503),
)
def change(company_id: str, authorisation_id: str, action: str):
    admin = admin_of(company_id)
    body = json_body()
    reason = body.get("reason") if isinstance(body, dict) else None
    return set_status(depute_context(), company_id, authorisation_id, action, reason, admin.actor)


@api.get("/companies/<company_id>/audit")
@of_company(
    "The company's audit log (JSON, or CSV)",
    responses={200: (("application/json", "text/csv"), {"type": "object"})},
    query={"format": param("json (default) or csv", {"enum": ["json", "csv"]})},
)
def audit_log(company_id: str):
    admin_of(company_id)
    ctx = depute_context()
    with ctx.factory() as session:
        registry.get_company(session, company_id)
        rows = [audit.describe(e) for e in audit.events(session, company_id)]
    if request.args.get("format", "json") == "csv":
        return Response(
            audit.to_csv(rows),
            mimetype="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="depute-audit-{company_id}.csv"',
                "Cache-Control": "no-store",
            },
        )
    return {"company": company_id, "events": rows}
