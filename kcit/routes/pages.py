"""KCIT's pages: self-registration (and following it), and the admin's review pages (list and
filter, review, approve, suspend, reinstate, remove, accredit).

Admins sign in with their wallet through the gateway's QR login (a Governance role credential;
:mod:`kcit.admins`), or with the operator API token: the admin-pages kit (:mod:`signin.pages`)
gives the sign-in, the CSRF token on every form and the pages' look. Templates autoescape
everything they show.
"""

from __future__ import annotations

from flask import redirect, render_template, request, url_for

from credgate.errors import DomainError
from credgate.pages import check_csrf
from credgate.problems import problem_of
from credgate.qr import qr_svg
from kcit import registry, service
from kcit.admins import governance_admins
from kcit.context import kcit_context
from kcit.models import LEVELS, STATUSES
from kcit.validation import ROLES
from schemas.registry import credential_types
from signin.governance import governance_policy
from signin.pages import admin_pages, refusal_told, tell, told

FORM_FIELDS = (
    "legalName",
    "vatId",
    "lei",
    "euid",
    "nationalId",
    "country",
    "subdivision",
    "street",
    "locality",
    "postalCode",
    "repName",
    "repEmail",
    "repTitle",
    "did",
    "didKey",
)


policy = governance_policy(
    "kcit",
    lambda: governance_admins(kcit_context()),
    authority="the data space's onboarding authority",
)


def admin_list(actor: str):
    """The admin's home: companies (filtered by status and a query) and accreditations."""
    status = request.args.get("status", "")
    query = request.args.get("q", "").strip()[:200]
    with kcit_context().factory() as db:
        companies = registry.find_companies(
            db, status=status if status in STATUSES else None, query=query or None, limit=200
        )
        accreditations = registry.all_accreditations(db)
    return render_template(
        "kcit/admin_list.html",
        actor=actor,
        companies=companies,
        status=status,
        query=query,
        statuses=STATUSES,
        accreditations=accreditations,
        types=list(credential_types()),
        message=told(),
    )


pages = admin_pages(
    "kcit_pages",
    __name__,
    prefix="/kcit/admin",
    policy=policy,
    title="KCIT · company identification",
    home=admin_list,
    template_folder="../templates",
)


# -- self-registration -----------------------------------------------------------------------------


def registration_body(form) -> dict:
    """The form as the API's registration body (blanks left out)."""
    value = {name: form.get(name, "").strip() for name in FORM_FIELDS}
    numbers = {k: value[k] for k in ("vatId", "lei", "euid", "nationalId") if value[k]}
    body: dict = {
        "legalName": value["legalName"],
        "legalRegistrationNumber": numbers,
        "country": value["country"].upper(),
        "representatives": [
            _filled(name=value["repName"], email=value["repEmail"], title=value["repTitle"])
        ],
    }
    if value["street"] or value["locality"]:
        body["addresses"] = [
            _filled(
                street=value["street"], locality=value["locality"], postalCode=value["postalCode"]
            )
        ]
    for key in ("subdivision", "did", "didKey"):
        if value[key]:
            body[key] = value[key]
    return body


def _filled(**members: str) -> dict[str, str]:
    """The members that are not blank."""
    return {name: member for name, member in members.items() if member}


# Form inputs an error's field belongs to (the API's dotted paths).
FIELD_INPUTS = {
    "legalRegistrationNumber.vatId": "vatId",
    "legalRegistrationNumber.lei": "lei",
    "legalRegistrationNumber.euid": "euid",
    "legalRegistrationNumber.nationalId": "nationalId",
    "legalRegistrationNumber": "vatId",
    "addresses[0].street": "street",
    "addresses[0].locality": "locality",
    "addresses[0].postalCode": "postalCode",
    "representatives[0].name": "repName",
    "representatives[0].email": "repEmail",
    "representatives[0].title": "repTitle",
    "representatives": "repName",
}


@pages.get("/kcit/register")
def register_form():
    return render_template("kcit/register.html", form={}, errors={}, problem=None)


@pages.post("/kcit/register")
def register():
    check_csrf()
    try:
        _company, token = service.self_register(kcit_context(), registration_body(request.form))
    except DomainError as error:
        problem = problem_of(error)
        if problem.status >= 500 or "errors" not in problem.extra:
            raise
        errors: dict[str, list[str]] = {}
        for error in problem.extra["errors"]:
            name = FIELD_INPUTS.get(error["field"], error["field"])
            errors.setdefault(name, []).append(error["detail"])
        return render_template(
            "kcit/register.html", form=request.form, errors=errors, problem=problem
        ), problem.status
    return redirect(url_for(".follow", token=token), 303)


@pages.get("/kcit/register/<token>")
def follow(token: str):
    with kcit_context().factory() as session:
        company = registry.by_follow_token(session, token)
        dids = registry.dids_of(session, company.id)
    invitation = (company.provisioning or {}).get("adminInvitation")
    qr = qr_svg(invitation["invitation_url"]) if invitation else None
    return render_template(
        "kcit/follow.html", company=company, dids=dids, invitation=invitation, qr=qr
    )


# -- admin -----------------------------------------------------------------------------------------


@pages.get("/kcit/admin/review/<company_id>")
def admin_company(company_id: str):
    actor = policy.signed_in()
    if actor is None:
        return redirect(url_for(".home"), 303)
    ctx = kcit_context()
    with ctx.factory() as db:
        company = registry.get_company(db, company_id)
        dids = registry.dids_of(db, company_id)
        history = registry.history(db, company_id)
    return render_template(
        "kcit/admin_company.html",
        actor=actor,
        company=company,
        dids=dids,
        history=history,
        levels=LEVELS,
        roles=ROLES,
        powers=ctx.powers,
        default_powers=ctx.default_powers,
        numbers=registry.numbers_of(company),
        message=told(),
    )


@pages.post("/kcit/admin/review/<company_id>/<action>")
def admin_action(company_id: str, action: str):
    check_csrf()
    actor = policy.require()
    ctx = kcit_context()
    form = request.form
    with refusal_told(f"Not done ({action})"):
        if action == "approve":
            body = {
                "levelOfAssurance": form.get("levelOfAssurance", "verified"),
                "roles": form.getlist("roles"),
                "powers": form.getlist("powers"),
                "reason": form.get("reason", ""),
            }
            service.approve(ctx, company_id, body, actor)
        else:
            service.change_status(
                ctx, company_id, action, {"reason": form.get("reason", "")}, actor
            )
        tell(f"Done: {action}.")
    return redirect(url_for(".admin_company", company_id=company_id), 303)


@pages.post("/kcit/admin/accredit")
def admin_accredit():
    check_csrf()
    actor = policy.require()
    form = request.form
    body = {
        "did": form.get("did", "").strip(),
        "credentialType": form.get("credentialType"),
        "active": form.get("active", "true") == "true",
        "reason": form.get("reason") or None,
    }
    with refusal_told("Not done"):
        row = service.accredit(kcit_context(), body, actor)
        verb = "accredited" if row.active else "no longer accredited"
        tell(f"{row.did} is {verb} for {row.credential_type}.")
    return redirect(url_for(".home"), 303)
