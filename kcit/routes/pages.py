"""KCIT's pages: self-registration (and following it), and the admin's review pages (list and
filter, review, approve, suspend, reinstate, remove, accredit).

Admins sign in with their wallet through the gateway's QR login (a Governance role credential;
:mod:`kcit.admins`), or with the operator API token (:mod:`credgate.pages`). Every form carries
the CSRF token; templates autoescape everything they show.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

import signin
from credgate.pages import check_csrf, csrf_token, operator_sign_in, page_headers
from credgate.problems import Problem
from credgate.qr import qr_svg
from kcit import registry, service
from kcit.admins import governance_admins
from kcit.context import kcit_context
from kcit.models import LEVELS, STATUSES
from kcit.validation import ROLES
from schemas.registry import credential_types

pages = Blueprint("kcit_pages", __name__, template_folder="../templates")

SIGNIN_CLIENT = "kcit"  # this service's name at the gateway (gateway.handoff)
SIGNIN_PORTAL = "governance"

FORM_FIELDS = ("legalName", "vatId", "lei", "euid", "nationalId", "country", "subdivision",
               "street", "locality", "postalCode", "repName", "repEmail", "repTitle", "did",
               "didKey")  # fmt: skip


@pages.after_request
def headers(response):
    return page_headers(response)


@pages.app_context_processor
def helpers():
    return {"csrf_token": csrf_token}


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
            {
                k: v
                for k, v in (
                    ("name", value["repName"]),
                    ("email", value["repEmail"]),
                    ("title", value["repTitle"]),
                )
                if v
            }
        ],  # fmt: skip
    }
    if value["street"] or value["locality"]:
        body["addresses"] = [{k: v for k, v in (("street", value["street"]),
                              ("locality", value["locality"]),
                              ("postalCode", value["postalCode"])) if v}]  # fmt: skip
    for key in ("subdivision", "did", "didKey"):
        if value[key]:
            body[key] = value[key]
    return body


# Form inputs an error's field belongs to (the API's dotted paths).
FIELD_INPUTS = {
    "legalRegistrationNumber.vatId": "vatId", "legalRegistrationNumber.lei": "lei",
    "legalRegistrationNumber.euid": "euid", "legalRegistrationNumber.nationalId": "nationalId",
    "legalRegistrationNumber": "vatId", "addresses[0].street": "street",
    "addresses[0].locality": "locality", "addresses[0].postalCode": "postalCode",
    "representatives[0].name": "repName", "representatives[0].email": "repEmail",
    "representatives[0].title": "repTitle", "representatives": "repName",
}  # fmt: skip


@pages.get("/kcit/register")
def register_form():
    return render_template("kcit/register.html", form={}, errors={}, problem=None)


@pages.post("/kcit/register")
def register():
    check_csrf()
    try:
        _company, token = service.self_register(kcit_context(), registration_body(request.form))
    except Problem as problem:
        if problem.status >= 500 or "errors" not in problem.extra:
            raise
        errors: dict[str, list[str]] = {}
        for error in problem.extra["errors"]:
            name = FIELD_INPUTS.get(error["field"], error["field"])
            errors.setdefault(name, []).append(error["detail"])
        return render_template("kcit/register.html", form=request.form, errors=errors,
                               problem=problem), problem.status  # fmt: skip
    return redirect(url_for(".follow", token=token), 303)


@pages.get("/kcit/register/<token>")
def follow(token: str):
    with kcit_context().factory() as session:
        company = registry.by_follow_token(session, token)
        dids = registry.dids_of(session, company.id)
    invitation = (company.provisioning or {}).get("adminInvitation")
    qr = qr_svg(invitation["invitation_url"]) if invitation else None
    return render_template("kcit/follow.html", company=company, dids=dids,
                           invitation=invitation, qr=qr)  # fmt: skip


# -- admin -----------------------------------------------------------------------------------------


@pages.get("/kcit/admin")
def admin_list():
    actor = governance_admins(kcit_context()).signed_in()
    if actor is None:
        return login_page()
    status = request.args.get("status", "")
    query = request.args.get("q", "").strip()[:200]
    with kcit_context().factory() as db:
        companies = registry.find_companies(
            db, status=status if status in STATUSES else None, query=query or None, limit=200
        )
        accreditations = registry.all_accreditations(db)
    return render_template(
        "kcit/admin_list.html", actor=actor, companies=companies, status=status, query=query,
        statuses=STATUSES, accreditations=accreditations, types=list(credential_types()),
        message=session.pop("message", None),
    )  # fmt: skip


@pages.get("/kcit/admin/review/<company_id>")
def admin_company(company_id: str):
    actor = governance_admins(kcit_context()).signed_in()
    if actor is None:
        return redirect(url_for(".admin_list"), 303)
    ctx = kcit_context()
    with ctx.factory() as db:
        company = registry.get_company(db, company_id)
        dids = registry.dids_of(db, company_id)
        history = registry.history(db, company_id)
    return render_template(
        "kcit/admin_company.html", actor=actor, company=company, dids=dids, history=history,
        levels=LEVELS, roles=ROLES, powers=ctx.powers, default_powers=ctx.default_powers,
        numbers=registry.numbers_of(company), message=session.pop("message", None),
    )  # fmt: skip


def login_page(*, failed: bool = False, problem: Problem | None = None, status: int = 200):
    return render_template("kcit/admin_login.html", failed=failed, problem=problem,
                           wallet=signin.wallet_available()), status  # fmt: skip


@pages.post("/kcit/admin/login")
def admin_login():
    check_csrf()
    if not operator_sign_in(request.form.get("token", "")):
        return login_page(failed=True, status=401)
    return redirect(url_for(".admin_list"), 303)


signin.add_wallet_routes(
    pages, "/kcit/admin/login", client=SIGNIN_CLIENT, portal=SIGNIN_PORTAL,
    sign_in=lambda signed_in: governance_admins(kcit_context()).sign_in(signed_in),
    login_page=login_page,
    signed_in_page=lambda: render_template("kcit/signed_in.html",
                                           next_url=url_for(".admin_list")),
)  # fmt: skip


@pages.post("/kcit/admin/logout")
def admin_logout():
    check_csrf()
    session.clear()
    return redirect(url_for(".admin_list"), 303)


def _require_admin() -> str:
    actor = governance_admins(kcit_context()).signed_in()
    if actor is None:
        raise Problem("unauthorized", "Authentication required", 401, "sign in again")
    return actor


@pages.post("/kcit/admin/review/<company_id>/<action>")
def admin_action(company_id: str, action: str):
    check_csrf()
    actor = _require_admin()
    ctx = kcit_context()
    form = request.form
    try:
        if action == "approve":
            body = {"levelOfAssurance": form.get("levelOfAssurance", "verified"),
                    "roles": form.getlist("roles"), "powers": form.getlist("powers"),
                    "reason": form.get("reason", "")}  # fmt: skip
            service.approve(ctx, company_id, body, actor)
        else:
            service.change_status(ctx, company_id, action, {"reason": form.get("reason", "")},
                                  actor)  # fmt: skip
        session["message"] = f"Done: {action}."
    except Problem as problem:
        if problem.status >= 500:
            raise
        session["message"] = f"Not done ({action}): {problem.title}. {problem.detail or ''}"
    return redirect(url_for(".admin_company", company_id=company_id), 303)


@pages.post("/kcit/admin/accredit")
def admin_accredit():
    check_csrf()
    actor = _require_admin()
    form = request.form
    body = {
        "did": form.get("did", "").strip(),
        "credentialType": form.get("credentialType"),
        "active": form.get("active", "true") == "true",
        "reason": form.get("reason") or None,
    }
    try:
        row = service.accredit(kcit_context(), body, actor)
        verb = "accredited" if row.active else "no longer accredited"
        session["message"] = f"{row.did} is {verb} for {row.credential_type}."
    except Problem as problem:
        if problem.status >= 500:
            raise
        session["message"] = f"Not done: {problem.title}. {problem.detail or ''}"
    return redirect(url_for(".admin_list"), 303)
