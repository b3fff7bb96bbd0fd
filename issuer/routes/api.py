"""JSON APIs of the onboarding authority: onboarding, role requests, generic offers, certifiers,
exchanges and issuance records. Operator routes need the operator's API token."""

from __future__ import annotations

from flask import Blueprint, Response, request

from credgate.auth import OPERATOR, operator_required
from credgate.openapi import component, listing, obj, operation, param
from credgate.problems import Problem, json_body
from credgate.qr import qr_svg
from issuer import certifiers, onboarding, records, roles
from issuer.context import issuer_context
from issuer.exchanges import get_exchange, short_url
from issuer.idempotency import idempotent
from issuer.models import IssuedCredential
from issuer.offers import offer_credential
from issuer.routes.common import (
    DID,
    INVALID,
    PROOF_TYPE,
    STRINGS,
    actor,
    envelope,
    exchange_created,
    exchange_view,
    public_url,
    text,
)

api = Blueprint("issuer_api", __name__, url_prefix="/issuer")

# What the API takes and answers (its /openapi.json).


STRING = {"type": "string"}
NULLABLE = {"type": ["string", "null"]}
AUTHORITY = obj(required={"did": STRING})
EXCHANGE = component(
    "Exchange",
    obj(
        required={
            "id": STRING,
            "workflow": STRING,
            "state": STRING,
            "expires_at": STRING,
            "invitation_url": STRING,
            "status_url": STRING,
        },
        optional={
            "reason": NULLABLE,
            "delivered": {"type": "boolean"},
            "deep_link": NULLABLE,
            "qr_code": STRING,
            "credentials": {"type": "array", "items": {"type": "object"}},
            "oid4vci": {"type": ["object", "null"]},
        },
    ),
)
RECORD = component(
    "IssuanceRecord",
    obj(
        required={
            "id": STRING,
            "credential_id": STRING,
            "type": STRING,
            "issuer": STRING,
            "state": STRING,
        },
        optional={
            "subject": NULLABLE,
            "workflow": NULLABLE,
            "reason": NULLABLE,
            "acknowledged": {"type": ["boolean", "null"]},
            "proofType": NULLABLE,
            "exchange_id": NULLABLE,
            "created_at": STRING,
            "issued_at": NULLABLE,
            "credential": {"type": ["object", "null"]},
        },
    ),
)
ROLE_REQUEST = component(
    "RoleRequest",
    obj(
        required={
            "id": STRING,
            "did": STRING,
            "roles": {"type": "array", "items": STRING},
            "state": {"enum": list(roles.STATES)},
            "created_at": STRING,
        },
        optional={
            "note": NULLABLE,
            "proofType": STRING,
            "reason": NULLABLE,
            "decided_by": NULLABLE,
            "decided_at": NULLABLE,
            "exchange": {"anyOf": [EXCHANGE, {"type": "null"}]},
        },
    ),
)
CERTIFIER = component(
    "Certifier",
    obj(
        required={"name": STRING, "did": STRING},
        optional={
            "accredited": {"type": ["boolean", "null"]},
            "created_at": STRING,
            "token": {"type": "string", "description": "shown once"},
        },
    ),
)


LISTED = listing("credentials", RECORD)
RECORD_FILTERS = {
    "limit": param(
        "1 to 500",
        {"type": "integer", "minimum": 1, "maximum": 500, "x-problem": "invalid-request"},
        empty=False,
    ),
    **{
        name: param(f"only records of this {name}")
        for name in ("type", "subject", "state", "workflow")
    },
}


@api.get("/did")
@operation("The onboarding authority's DID", responses={200: AUTHORITY}, problems=(503,))
def authority_did():
    """The onboarding authority's DID: what verifiers trust for Onboarding and Role credentials."""
    ctx = issuer_context()
    authority = ctx.tenants.authority()
    return {"did": authority.did, "tenant": authority.name}


# -- onboarding ----------------------------------------------------------------------------------


@api.post("/onboarding/persons")
@idempotent
@operation(
    "Onboard a person: an exchange offering the credential",
    body=envelope(
        *onboarding.PERSON_FIELDS,
        did={**DID, "type": ["string", "null"]},
        proofType=PROOF_TYPE,
    ),
    responses={201: EXCHANGE},
    problems=(409, 422, 503),
)
def onboard_person():
    exchange = onboarding.onboard_person(issuer_context(), json_body())
    return exchange_created(exchange)


@api.post("/organisations")
@operator_required
@idempotent
@operation(
    "Onboard an organisation",
    body=envelope(
        *onboarding.ORGANISATION_FIELDS,
        did=DID,
        roles=STRINGS,
        proofType=PROOF_TYPE,
        required=("did", "roles"),
    ),
    responses={201: EXCHANGE},
    problems=(409, 422, 503),
    auth="operatorToken",
)
def onboard_organisation():
    exchange = onboarding.onboard_organisation(issuer_context(), json_body(), actor())
    return exchange_created(exchange)


@api.post("/offers")
@operator_required
@idempotent
@operation(
    "Offer a credential of a registered type",
    body=envelope(
        credential={"type": "object", **INVALID},
        proofType=PROOF_TYPE,
        required=("credential",),
    ),
    responses={201: EXCHANGE},
    problems=(409, 422, 503),
    auth="operatorToken",
)
def offer():
    exchange = offer_credential(issuer_context(), json_body(), actor())
    return exchange_created(exchange)


# -- exchanges -------------------------------------------------------------------------------------


@api.get("/exchanges/<exchange_id>")
@operation(
    "Progress of an exchange (the id is the capability)",
    responses={200: EXCHANGE},
    problems=(404, 503),
)
def exchange(exchange_id: str):
    """Progress of an exchange (the id is the capability: it is given only to who opened it)."""
    exchange, _ = get_exchange(issuer_context(), exchange_id)
    return exchange_view(exchange)


@api.get("/exchanges/<exchange_id>/qr.svg")
@operation(
    "The exchange's short link as a QR code",
    responses={200: ("image/svg+xml", {"type": "string"})},
    problems=(404, 503),
)
def exchange_qr(exchange_id: str):
    exchange, _ = get_exchange(issuer_context(), exchange_id)
    svg = qr_svg(short_url(public_url(), exchange))
    return Response(svg, mimetype="image/svg+xml", headers={"Cache-Control": "no-store"})


# -- issuance records ----------------------------------------------------------------------------


@api.get("/credentials")
@operation(
    "Issuance records",
    responses={200: LISTED},
    problems=(400, 503),
    auth=OPERATOR,
    query=RECORD_FILTERS,
)
def list_credentials():
    args = request.args
    limit = args.get("limit", "100")
    if not limit.isdigit() or not 0 < int(limit) <= 500:
        raise Problem("invalid-request", "Invalid request", 400, "limit must be 1 to 500")
    with issuer_context().factory() as session:
        found = records.find(
            session,
            type_name=args.get("type"),
            subject=args.get("subject"),
            state=args.get("state"),
            workflow=args.get("workflow"),
            limit=int(limit),
        )
    return {"credentials": [records.describe(r) for r in found]}


@api.get("/credentials/<record_id>")
@operation(
    "An issuance record with its credential",
    responses={200: RECORD},
    problems=(404, 503),
    auth=OPERATOR,
)
def get_credential(record_id: str):
    with issuer_context().factory() as session:
        record = session.get(IssuedCredential, record_id)
    if record is None:
        raise Problem("credential-not-found", "Issuance record not found", 404)
    return {**records.describe(record), "credential": record.credential}


# -- role requests -------------------------------------------------------------------------------


def _role_request_view(row) -> dict:
    linked = roles.exchange_of(issuer_context(), row)
    return roles.describe(row, exchange_view(linked) if linked else None)


@api.post("/role-requests")
@operation(
    "Request roles (the answer's id is the capability)",
    body=envelope(
        did=DID,
        roles=STRINGS,
        note=text(2000, required=False),
        proofType=PROOF_TYPE,
        required=("did", "roles"),
    ),
    responses={201: ROLE_REQUEST},
    problems=(409, 422, 503),
)
def request_roles():
    row = roles.request_roles(issuer_context(), json_body())
    location = f"{public_url().rstrip('/')}/issuer/role-requests/{row.id}"
    return _role_request_view(row), 201, {"Location": location}


@api.get("/role-requests/<request_id>")
@operation("Follow a role request", responses={200: ROLE_REQUEST}, problems=(404, 503))
def role_request(request_id: str):
    """The participant follows its request here (the id is the capability)."""
    return _role_request_view(roles.get_request(issuer_context(), request_id))


@api.get("/role-requests")
@operation(
    "Role requests",
    responses={200: listing("role_requests", ROLE_REQUEST)},
    problems=(400, 503),
    auth=OPERATOR,
    query={"state": param("a state", {"enum": list(roles.STATES), **INVALID}, empty=False)},
)
def list_role_requests():
    rows = roles.list_requests(issuer_context(), request.args.get("state"))
    return {"role_requests": [roles.describe(r) for r in rows]}


@api.post("/role-requests/<request_id>/approve")
@operator_required
@idempotent
@operation(
    "Approve a role request: its credential is offered",
    responses={200: ROLE_REQUEST},
    problems=(404, 409, 503),
    auth="operatorToken",
)
def approve_role_request(request_id: str):
    row = roles.approve(issuer_context(), request_id, actor())
    return _role_request_view(row)


@api.post("/role-requests/<request_id>/reject")
@operation(
    "Reject a role request (a reason)",
    body=envelope(reason=text(2000), required=("reason",)),
    responses={200: ROLE_REQUEST},
    problems=(404, 409, 422, 503),
    auth=OPERATOR,
)
def reject_role_request(request_id: str):
    row = roles.reject(issuer_context(), request_id, actor(), json_body())
    return _role_request_view(row)


# -- certifiers (accredited in KCIT, which the issuer asks before signing) -----------------------


@api.post("/certifiers")
@operation(
    "Register a certifier (its API token is shown once)",
    body=envelope("name", "accredited"),  # accredited: refused, it is KCIT's (the service says so)
    responses={201: {"allOf": [CERTIFIER], "required": ["token"]}},
    problems=(409, 422, 503),
    auth=OPERATOR,
)
def register_certifier():
    ctx = issuer_context()
    row, token = certifiers.register(ctx, json_body())
    return {**certifiers.describe(ctx, row), "token": token}, 201


@api.get("/certifiers")
@operation(
    "Certifiers",
    responses={200: listing("certifiers", CERTIFIER)},
    problems=(503,),
    auth=OPERATOR,
)
def list_certifiers():
    ctx = issuer_context()
    return {"certifiers": [certifiers.describe(ctx, r) for r in certifiers.all_certifiers(ctx)]}
