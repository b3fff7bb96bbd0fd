"""The operator's admin page: find status entries, revoke / suspend / reinstate them.

Signed in by the gateway's QR login with a Governance role credential from the onboarding
authority (:mod:`signin.governance`), or with an operator API token; either is checked again on
every request (the credential's status entry, the token's row), so revoking it signs the page
out. Every form carries a synchronizer CSRF token;
the cookie has its own name (services on one host share cookies across ports) and is
SameSite=Strict. Templates autoescape everything they show.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

import signin
from agents.tenants import tenant_did
from credgate.pages import check_csrf, csrf_token, operator_sign_in, page_headers
from credgate.problems import Problem
from credgate.web import db_sessions
from revocation.entries import admin_entries, entry_record
from revocation.status import ACTIONS, change_status
from revocation.store import status_reader
from signin.governance import GovernanceAdmins, authority_admins

admin = Blueprint("revocation_admin", __name__, template_folder="templates")

SIGNIN_CLIENT = "revocation"  # this service's name at the gateway (gateway.handoff)
SIGNIN_PORTAL = "governance"


@admin.after_request
def headers(response):
    return page_headers(response)


@admin.app_context_processor
def template_helpers():
    return {"csrf_token": csrf_token, "actions": ACTIONS}


def governance_admins() -> GovernanceAdmins:
    """Governance admins: a Role credential from the onboarding authority (the issuer agent's
    tenant named by ``REVOCATION_AUTHORITY_TENANT``)."""
    factory = db_sessions()
    name = current_app.config["REVOCATION_AUTHORITY_TENANT"]
    return authority_admins(lambda: tenant_did(factory, "issuer", name), status_reader(factory),
                            "revocation_governance")  # fmt: skip


def login_page(*, failed: bool = False, problem: Problem | None = None, status: int = 200):
    return render_template("revocation/login.html", failed=failed, problem=problem,
                           wallet=signin.wallet_available()), status  # fmt: skip


@admin.get("/status/admin")
def page():
    actor = governance_admins().signed_in()
    if actor is None:
        return login_page()
    query = request.args.get("q", "").strip()[:500]
    return render_template(
        "revocation/entries.html",
        actor=actor,
        query=query,
        entries=admin_entries(db_sessions(), query or None),
        message=session.pop("message", None),
    )


@admin.get("/status/admin/entries/<int:entry_id>")
def entry_page(entry_id: int):
    actor = governance_admins().signed_in()
    if actor is None:
        return redirect(url_for(".page"), 303)
    return render_template(
        "revocation/entry.html", actor=actor, entry=entry_record(db_sessions(), entry_id)
    )


@admin.post("/status/admin/login")
def login():
    check_csrf()
    if not operator_sign_in(request.form.get("token", "")):
        return login_page(failed=True, status=401)
    return redirect(url_for(".page"), 303)


signin.add_wallet_routes(
    admin, "/status/admin/login", client=SIGNIN_CLIENT, portal=SIGNIN_PORTAL,
    sign_in=lambda signed_in: governance_admins().sign_in(signed_in),
    login_page=login_page,
    signed_in_page=lambda: render_template("revocation/signed_in.html",
                                           next_url=url_for("revocation_admin.page")),
)  # fmt: skip


@admin.post("/status/admin/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for(".page"), 303)


@admin.post("/status/admin/entries/<int:entry_id>/<action>")
def change(entry_id: int, action: str):
    check_csrf()
    actor = governance_admins().signed_in()
    if actor is None:
        raise Problem("unauthorized", "Authentication required", 401, "sign in again")
    reason = request.form.get("reason", "")
    try:
        changed = change_status(db_sessions(), entry_id, action, reason=reason, actor=actor)
        session["message"] = f"Entry {changed.entry_id} is now {changed.status}."
    except Problem as problem:
        if problem.status >= 500:
            raise
        session["message"] = f"Entry {entry_id} unchanged: {problem.title}. {problem.detail or ''}"
    return redirect(url_for(".page", q=request.form.get("q", "")), 303)
