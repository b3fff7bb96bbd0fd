"""The operator's admin page: find status entries, revoke / suspend / reinstate them.

Signed in with an operator API token (until QR login with a Governance credential exists at the
gateway); the session cookie carries only the token's row id, which is checked again on every
request, so revoking the token signs the page out. Every form carries a synchronizer CSRF token;
the cookie has its own name (services on one host share cookies across ports) and is
SameSite=Strict. Templates autoescape everything they show.
"""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for

from credgate.pages import (
    check_csrf,
    csrf_token,
    operator_sign_in,
    page_headers,
    signed_in_operator,
)
from credgate.problems import Problem
from credgate.web import db_sessions
from revocation.entries import admin_entries, entry_record
from revocation.status import ACTIONS, change_status

admin = Blueprint("revocation_admin", __name__, template_folder="templates")


@admin.after_request
def headers(response):
    return page_headers(response)


@admin.app_context_processor
def template_helpers():
    return {"csrf_token": csrf_token, "actions": ACTIONS}





@admin.get("/status/admin")
def page():
    actor = signed_in_operator()
    if actor is None:
        return render_template("revocation/login.html", failed=False)
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
    actor = signed_in_operator()
    if actor is None:
        return redirect(url_for(".page"), 303)
    return render_template(
        "revocation/entry.html", actor=actor, entry=entry_record(db_sessions(), entry_id)
    )


@admin.post("/status/admin/login")
def login():
    check_csrf()
    if not operator_sign_in(request.form.get("token", "")):
        return render_template("revocation/login.html", failed=True), 401
    return redirect(url_for(".page"), 303)


@admin.post("/status/admin/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for(".page"), 303)


@admin.post("/status/admin/entries/<int:entry_id>/<action>")
def change(entry_id: int, action: str):
    check_csrf()
    actor = signed_in_operator()
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
