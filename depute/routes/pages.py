"""Depute's pages for company admins: the company's mandates (pending, issued, suspended,
revoked, expired), the authorise form (powers from what the company may delegate), the invitation
as a QR code and a link, suspend / reinstate / revoke with a reason, and the audit export.

Sign-in: company admins with their wallet through the gateway's QR login (an Attorney credential
granting ``depute:admin``; :mod:`signin.handoff`), or with the session token they got from
``POST /depute/api/login``; the operator with the API token. The admin-pages kit
(:mod:`signin.pages`) gives the sign-in, the CSRF token on every form and the pages' look;
templates autoescape everything they show.
"""

from __future__ import annotations

from flask import Response, json, redirect, render_template, request, session, url_for
from sqlalchemy import select

from credgate.errors import DomainError
from credgate.pages import check_csrf
from credgate.problems import Problem, problem_of
from credgate.qr import qr_svg
from depute import audit, authorisations
from depute.context import depute_context
from depute.models import DeputeCompany
from depute.sessions import Admin, admin_for_bearer, login_signed_in
from issuer.oid4vci.grants import offer_qr
from kcit import registry
from signin.pages import SignInPolicy, admin_pages, refusal_told, tell, told

SESSION_TOKEN = "depute_token"


def signed_in() -> Admin | None:
    token = session.get(SESSION_TOKEN)
    if not isinstance(token, str):
        return None
    admin = admin_for_bearer(depute_context(), token)
    if admin is None:
        session.pop(SESSION_TOKEN, None)  # revoked token, ended or no longer valid mandate
    return admin


def start_session(token: str) -> None:
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[SESSION_TOKEN] = token


def token_sign_in(token: str) -> bool:
    """A company admin's session token, or the operator's API token."""
    if not token or admin_for_bearer(depute_context(), token) is None:
        return False
    start_session(token)
    return True


policy = SignInPolicy(
    client="depute",
    portal="company-access",
    signed_in=signed_in,
    token_sign_in=token_sign_in,
    wallet_sign_in=lambda signed: start_session(login_signed_in(depute_context(), signed)[0]),
    wallet_text="Company admins sign in with their wallet: the gateway shows a QR code, the "
    "wallet presents an Attorney credential granting depute:admin.",
    token_label="Session token or operator API token",
    token_hint=None,
    token_refused="That token is unknown, expired, or its mandate is no longer active.",
    token_note="The operator uses the API token; wallets and scripts that posted a presentation "
    "to /depute/api/login use the session token they got.",
)


def home(admin: Admin):
    """An admin of one company goes to its page; the operator sees every company."""
    if admin.company_id is not None:
        return redirect(url_for(".company", company_id=admin.company_id), 303)
    ctx = depute_context()
    with ctx.factory() as db:
        rows = list(db.scalars(select(DeputeCompany).order_by(DeputeCompany.created_at)))
        names = {r.company_id: registry.get_company(db, r.company_id).legal_name for r in rows}
    return render_template("depute/companies.html", admin=admin, rows=rows, names=names)


pages = admin_pages(
    "depute_pages",
    __name__,
    prefix="/depute",
    home_path="/depute/",
    policy=policy,
    title="Depute · company mandates",
    home=home,
    template_folder="../templates",
)


def admin_of(company_id: str) -> Admin:
    admin = policy.require()
    if not admin.may_act_for(company_id):
        raise Problem("forbidden", "Not your company", 403)
    return admin


@pages.get("/depute/companies/<company_id>")
def company(company_id: str):
    admin = signed_in()
    if admin is None:
        return redirect(url_for(".home"), 303)
    if not admin.may_act_for(company_id):
        raise Problem("forbidden", "Not your company", 403)
    return _company_page(admin, company_id)


def _company_page(
    admin: Admin, company_id: str, *, status: int = 200, problem=None, form=None, created=None
):
    ctx = depute_context()
    state = request.args.get("state") or None
    with ctx.factory() as db:
        company = registry.get_company(db, company_id)
        wallet = db.get(DeputeCompany, company_id)
    rows = authorisations.list_authorisations(
        ctx, company_id, state if state in authorisations.STATES else None
    )
    qr = oid4vci_qr = None
    if created is not None and created.get("exchange"):
        qr = qr_svg(created["exchange"]["invitation_url"])
        oid4vci_qr = offer_qr(created["exchange"].get("oid4vci"))
    page = render_template(
        "depute/company.html",
        admin=admin,
        company=company,
        wallet=wallet,
        rows=rows,
        state=state,
        states=authorisations.STATES,
        actions=authorisations.ACTIONS,
        powers=authorisations.delegable_powers(ctx, company),
        message=told(),
        problem=problem,
        form=form or {},
        created=created,
        qr=qr,
        oid4vci_qr=oid4vci_qr,
    )
    return page, status


@pages.post("/depute/companies/<company_id>/authorise")
def authorise_employee(company_id: str):
    check_csrf()
    admin = admin_of(company_id)
    ctx = depute_context()
    form = request.form
    body = {
        "name": form.get("name", ""),
        "email": form.get("email", ""),
        "powers": form.getlist("powers"),
    }
    if form.get("validUntil"):
        body["validUntil"] = form["validUntil"] + "T23:59:59Z"
    try:
        row, _exchange = authorisations.authorise(ctx, company_id, body, admin.signer())
    except DomainError as error:
        problem = problem_of(error)
        if problem.status >= 500:
            raise
        return _company_page(admin, company_id, status=problem.status, problem=problem, form=form)
    created = authorisations.view_of(ctx, company_id, row.id)
    return _company_page(admin, company_id, status=201, created=created)


@pages.post("/depute/companies/<company_id>/authorisations/<authorisation_id>/<action>")
def change(company_id: str, authorisation_id: str, action: str):
    check_csrf()
    admin = admin_of(company_id)
    with refusal_told(f"Not done ({action})"):
        view = authorisations.set_status(
            depute_context(),
            company_id,
            authorisation_id,
            action,
            request.form.get("reason", ""),
            admin.actor,
        )
        tell(f"{view['mandatee']['name']}: now {view['state']}.")
    return redirect(url_for(".company", company_id=company_id), 303)


@pages.get("/depute/companies/<company_id>/audit.<fmt>")
def audit_export(company_id: str, fmt: str):
    admin_of(company_id)
    with depute_context().factory() as db:
        rows = [audit.describe(e) for e in audit.events(db, company_id)]
    disposition = f'attachment; filename="depute-audit-{company_id}.{fmt}"'
    if fmt == "csv":
        return Response(
            audit.to_csv(rows), mimetype="text/csv", headers={"Content-Disposition": disposition}
        )
    if fmt == "json":
        return Response(
            json.dumps({"company": company_id, "events": rows}),
            mimetype="application/json",
            headers={"Content-Disposition": disposition},
        )
    raise Problem("not-found", "Not found", 404, "audit.csv or audit.json")
