"""KCIT's JSON API (described by ``GET /kcit/openapi.json``).

Public: self-registration and following it, lookup by DID, the trust-registry interface
(``/kcit/trust/...``) and the change feed. Admin (operator API token): list, create, read, change,
review (approve, suspend, reinstate, remove), powers, DIDs, accreditations, history.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request, url_for

from credgate.auth import OPERATOR
from credgate.changefeed import long_poll, wait_seconds
from credgate.openapi import operation, operation_with, param, serve_document
from credgate.problems import json_body
from kcit import feed, registry, service, validation
from kcit.context import kcit_context
from kcit.openapi import (
    ACCREDITATION,
    ACCREDITATION_CHANGE,
    ACCREDITATIONS,
    CHANGES,
    COMPANIES,
    COMPANY,
    COMPANY_CHANGE,
    DID,
    DID_DECLARATION,
    DID_ENTRY,
    DID_PATH,
    HISTORY,
    MAY_ISSUE,
    POWER_CATALOGUE,
    POWERS,
    REGISTRATION,
    STATUS_CHANGE,
    TRUST,
    TRUST_FACTS,
)

api = Blueprint("kcit_api", __name__, url_prefix="/kcit")

MAX_SEQ = 2**31 - 1


def actor() -> str:
    return g.get("actor", "public")


def company_view(company_id: str, *, full: bool, with_history: bool = False) -> dict:
    with kcit_context().factory() as session:
        company = registry.get_company(session, company_id)
        view = registry.describe(company, registry.dids_of(session, company.id), full=full)
        if with_history:
            view["history"] = [
                registry.describe_event(e) for e in registry.history(session, company.id)
            ]
    return view


def follow_url(token: str) -> str:
    return url_for("kcit_api.follow_registration", token=token, _external=True)


@api.get("/openapi.json")
@operation(
    "This API's description (OpenAPI 3.1), also at /openapi.json",
    responses={200: {"type": "object"}},
)
def openapi():
    return serve_document()


# -- self-registration -----------------------------------------------------------------------------


@api.post("/registrations")
@operation(
    "Self-register a company (level of assurance self-registration)",
    body=REGISTRATION,
    responses={201: COMPANY},
    problems=(409,),
    invalid_status=422,
)
def register():
    company, token = service.self_register(kcit_context(), json_body())
    view = company_view(company.id, full=False)
    view["followUrl"] = follow_url(token)
    return view, 201, {"Location": view["followUrl"]}


@api.get("/registrations/<token>")
@operation(
    "Follow a registration (the token from followUrl is the capability)",
    responses={200: COMPANY},
    problems=(404,),
)
def follow_registration(token: str):
    """The registrant follows its registration (the token is the capability); once approved,
    the invitation to its first admin mandate appears here."""
    ctx = kcit_context()
    with ctx.factory() as session:
        company = registry.by_follow_token(session, token)
        view = registry.describe(company, registry.dids_of(session, company.id))
    view["provisioning"] = company.provisioning
    response = jsonify(view)
    response.headers["Cache-Control"] = "no-store"
    return response


# -- public lookup and the trust-registry interface ------------------------------------------------


@api.get("/dids/<path:did>")
@operation(
    "Look up the company whose public DID this is",
    responses={200: COMPANY},
    problems=(404, 422),
    path={"did": DID_PATH},
)
def lookup(did: str):
    did = validation.did_syntax(did)
    with kcit_context().factory() as session:
        company = registry.company_of_did(session, did)
        if company is None or company.status == "pending":
            raise service.not_found_did(did)
        return registry.describe(company, registry.dids_of(session, company.id))


@api.get("/trust")
@operation("The onboarding authority", responses={200: TRUST})
def trust():
    ctx = kcit_context()
    authority = ctx.onboarding_authority()
    return {"onboardingAuthority": authority}


@api.get("/trust/dids/<path:did>")
@operation(
    "Trust facts of a DID: company status, accreditations, delegable powers",
    responses={200: TRUST_FACTS},
    problems=(422,),
    path={"did": DID_PATH},
)
def trust_facts(did: str):
    did = validation.did_syntax(did)
    with kcit_context().factory() as session:
        return registry.trust_facts(session, did).to_json()


@api.get("/trust/may-issue")
@operation(
    "May DID X issue credential type T?",
    responses={200: MAY_ISSUE},
    problems=(422,),
    query={
        "did": param("the issuer DID", DID, required=True),
        "type": param("a credgate credential type (none or unknown: it may not)"),
    },
)
def may_issue():
    did = validation.did_syntax(request.args.get("did"))
    type_name = request.args.get("type", "")
    allowed, why = service.may_issue(kcit_context(), did, type_name)
    return {"did": did, "type": type_name, "mayIssue": allowed, "reason": why}


@api.get("/changes")
@operation(
    "Change feed (long poll): DIDs whose trust facts changed",
    responses={200: CHANGES},
    problems=(400,),
    query={
        "after": param("last seq seen", {"type": "integer", "minimum": 0, "maximum": MAX_SEQ}),
        "wait": param(
            "seconds to wait for a change (longer waits are cut to 25)",
            {"type": "number", "minimum": 0},
        ),
    },
)
def changes():
    ctx = kcit_context()
    after = _int_arg("after", 0, MAX_SEQ)
    wait = _float_arg("wait", ctx.max_wait)
    return long_poll(feed.LOG, ctx.factory, after, wait)


def _int_arg(name: str, default: int, maximum: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or int(raw) > maximum:
        raise validation.single(name, "invalid-field", f"must be an integer 0 to {maximum}", 400)
    return int(raw)


def _float_arg(name: str, maximum: float) -> float:
    try:
        return wait_seconds(request.args.get(name), maximum)
    except ValueError:
        detail = "must be seconds (a number >= 0)"
        raise validation.single(name, "invalid-field", detail, 400) from None


# -- admin -----------------------------------------------------------------------------------------

#: An admin route: the operator's API token, required before any other check.
admin = operation_with(auth=OPERATOR)
#: An admin route of one company (its id in the path): an unknown company is a 404.
of_company = operation_with(auth=OPERATOR, problems=(404,))


@api.get("/admin/companies")
@admin(
    "List and filter companies",
    responses={200: COMPANIES},
    problems=(400,),
    query={
        "status": param("a status", {"enum": ["pending", "identified", "suspended", "removed"]}),
        "q": param("name, number, id or DID contains"),
        "limit": param(
            "at most 500 (0: the default, 100)", {"type": "integer", "minimum": 0, "maximum": 500}
        ),
    },
)
def list_companies():
    limit = _int_arg("limit", 100, 500) or 100
    with kcit_context().factory() as session:
        found = registry.find_companies(
            session,
            status=request.args.get("status") or None,
            query=(request.args.get("q") or "").strip()[:200] or None,
            limit=limit,
        )
        views = [registry.describe(c, registry.dids_of(session, c.id), full=True) for c in found]
    return {"companies": views}


@api.post("/admin/companies")
@admin(
    "Record a company (checked like a self-registration)",
    body=REGISTRATION,
    responses={201: COMPANY},
    problems=(409,),
    invalid_status=422,
)
def create_company():
    """An admin records a company (same checks as self-registration; still to be approved)."""
    company, _token = service.self_register(kcit_context(), json_body(), actor())
    location = url_for(".get_company", company_id=company.id, _external=True)
    return company_view(company.id, full=True), 201, {"Location": location}


@api.get("/admin/companies/<company_id>")
@of_company("A company with its history", responses={200: COMPANY})
def get_company(company_id: str):
    return company_view(company_id, full=True, with_history=True)


@api.patch("/admin/companies/<company_id>")
@of_company(
    "Change a company's fields (reason, version for optimistic locking)",
    body=COMPANY_CHANGE,
    responses={200: COMPANY},
    problems=(409,),
    invalid_status=422,
)
def update_company(company_id: str):
    company = service.update(kcit_context(), company_id, json_body(), actor())
    return company_view(company.id, full=True)


@api.post("/admin/companies/<company_id>/dids")
@of_company(
    "Add a public DID (did:web must resolve and list the key)",
    body=DID_DECLARATION,
    responses={201: DID_ENTRY},
    problems=(409,),
    invalid_status=422,
)
def add_did(company_id: str):
    row = service.add_did(kcit_context(), company_id, json_body(), actor())
    return {"did": row.did, "origin": row.origin, "key": row.key_id}, 201


@api.post("/admin/companies/<company_id>/<action>")
@of_company(
    "Review: approve (identified, with level, roles and powers), suspend, reinstate or "
    "remove (a reason required)",
    body=STATUS_CHANGE,
    body_required=False,
    responses={200: COMPANY},
    problems=(409,),
    path={"action": {"enum": ["approve", "suspend", "reinstate", "remove"]}},
)
def change_status(company_id: str, action: str):
    body = json_body(optional=True)
    company = service.change_status(kcit_context(), company_id, action, body, actor())
    return company_view(company.id, full=True)


@api.put("/admin/companies/<company_id>/powers")
@of_company("Set the powers the company may delegate", body=POWERS, responses={200: COMPANY})
def set_powers(company_id: str):
    company = service.set_powers(kcit_context(), company_id, json_body(), actor())
    return company_view(company.id, full=True)


@api.get("/admin/companies/<company_id>/history")
@of_company("The company's change history", responses={200: HISTORY})
def company_history(company_id: str):
    with kcit_context().factory() as session:
        registry.get_company(session, company_id)
        events = registry.history(session, company_id)
        return {"history": [registry.describe_event(e) for e in events]}


@api.get("/admin/accreditations")
@admin(
    "Active accreditations (all: withdrawn ones too)",
    responses={200: ACCREDITATIONS},
    query={"all": param("present: list withdrawn ones too")},
)
def list_accreditations():
    with kcit_context().factory() as session:
        rows = registry.all_accreditations(session, active_only=request.args.get("all") is None)
        return {"accreditations": [registry.describe_accreditation(r) for r in rows]}


@api.post("/admin/accreditations")
@admin(
    "Grant or withdraw an accreditation",
    body=ACCREDITATION_CHANGE,
    responses={200: ACCREDITATION},
    invalid_status=422,
)
def accredit():
    row = service.accredit(kcit_context(), json_body(), actor())
    return registry.describe_accreditation(row)


@api.get("/admin/powers")
@admin("The power catalogue", responses={200: POWER_CATALOGUE})
def power_catalogue():
    ctx = kcit_context()
    return {"powers": list(ctx.powers), "default": list(ctx.default_powers)}
