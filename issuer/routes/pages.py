"""HTML pages: person onboarding (form, then the QR code), and the operator's role-request page.

Templates autoescape everything; the only markup inserted raw is the QR code's SVG, which
``qrcode`` draws from our own short URL. The admin page signs in by the gateway's QR login with a
Governance role credential from this onboarding authority (:mod:`signin.governance`), or with the
operator's API token; the admin-pages kit (:mod:`signin.pages`) gives the sign-in, the CSRF token
on every form and the pages' look.
"""

from __future__ import annotations

from flask import g, redirect, render_template, request, url_for
from markupsafe import Markup

from credgate.errors import DomainError
from credgate.pages import check_csrf
from credgate.problems import Problem, problem_of
from credgate.qr import qr_svg
from issuer import lifecycle, onboarding, records, roles
from issuer.context import issuer_context
from issuer.exchanges import deep_link, get_exchange, short_url
from issuer.models import EXCHANGE_OPEN
from issuer.oid4vci.grants import offer_qr
from issuer.routes.common import oid4vci_offer, public_url
from revocation.store import status_reader
from signin.governance import GovernanceAdmins, authority_admins, governance_policy
from signin.pages import admin_pages, refusal_told, tell, told


def governance_admins() -> GovernanceAdmins:
    """Governance admins of this onboarding authority: their Role credential must be its own."""
    ctx = issuer_context()
    return authority_admins(
        lambda: ctx.tenants.authority().did, status_reader(ctx.factory), "issuer_governance"
    )


policy = governance_policy("issuer", governance_admins, authority="this onboarding authority")


def role_requests_page(operator: str):
    """The admin's home: pending and decided role requests, and the latest issuance."""
    ctx = issuer_context()
    pending = roles.list_requests(ctx, roles.PENDING)
    decided = [r for r in roles.list_requests(ctx) if r.state != roles.PENDING][-50:]
    with ctx.factory() as db_session:
        issued = [(r, lifecycle.delivery(r)) for r in records.find(db_session, limit=50)]
    return render_template(
        "admin_role_requests.html",
        pending=pending,
        decided=list(reversed(decided)),
        issued=issued,
        operator=operator,
        message=told(),
    )


pages = admin_pages(
    "issuer_pages",
    __name__,
    prefix="/issuer/admin",
    policy=policy,
    title="credgate issuer",
    home=role_requests_page,
)


# -- person onboarding -----------------------------------------------------------------------------


@pages.get("/onboarding")
def onboarding_form():
    return render_template("onboarding.html", values={}, problem=None)


@pages.post("/onboarding")
def onboarding_submit():
    check_csrf()
    values = onboarding.person_attributes(request.form)
    try:
        exchange = onboarding.onboard_person(issuer_context(), values)
    except DomainError as error:
        problem = problem_of(error)
        if problem.status >= 500:
            raise
        page = render_template("onboarding.html", values=values, problem=problem.to_dict())
        return page, problem.status
    return redirect(url_for("issuer_pages.onboarding_invitation", exchange_id=exchange.id), 303)


@pages.get("/onboarding/<exchange_id>")
def onboarding_invitation(exchange_id: str):
    return _invitation_page(exchange_id)


@pages.get("/role-requests/<request_id>")
def role_request_invitation(request_id: str):
    """The participant's page for an approved role request: the offer's QR codes and PIN (the
    request id is the capability, as in the API)."""
    row = roles.get_request(issuer_context(), request_id)
    if row.exchange_id is None:
        return render_template("role_request.html", row=row)
    return _invitation_page(row.exchange_id)


def _invitation_page(exchange_id: str):
    exchange, issued = get_exchange(issuer_context(), exchange_id)
    link = short_url(public_url(), exchange)
    offer = oid4vci_offer(exchange)
    offer_svg = offer_qr(offer)
    return render_template(
        "invitation.html",
        exchange=exchange,
        issued=issued,
        link=link,
        deep_link=deep_link(exchange),
        qr=Markup(qr_svg(link)),  # noqa: S704 - SVG drawn by qrcode from our own URL
        oid4vci=offer,
        oid4vci_qr=Markup(offer_svg) if offer_svg else None,  # noqa: S704 - our own link
        open=exchange.state in EXCHANGE_OPEN,
        delivery=lifecycle.delivery,  # "issued" alone is not delivered
    )


# -- operator: role requests -----------------------------------------------------------------------


class _LoginRequired(Exception):
    """Raised by a form post without a signed-in admin: back to the sign-in page."""


def _operator() -> str:
    actor = policy.signed_in()
    if actor is None:
        raise _LoginRequired
    g.actor = actor
    return actor


@pages.errorhandler(_LoginRequired)
def to_login(_exc):
    return redirect(url_for(".home"), 303)


@pages.post("/issuer/admin/role-requests/<request_id>/<decision>")
def admin_decide(request_id: str, decision: str):
    check_csrf()
    actor = _operator()
    ctx = issuer_context()
    if decision not in ("approve", "reject"):
        raise Problem("not-found", "Not Found", 404)
    with refusal_told("Not done", propagate={404}):
        if decision == "approve":
            row = roles.approve(ctx, request_id, actor)
            tell(f"Approved: Role credential offered to {row.subject_did}.")
        else:
            row = roles.reject(ctx, request_id, actor, {"reason": request.form.get("reason")})
            tell(f"Rejected the request of {row.subject_did}.")
    return redirect(url_for(".home"), 303)
