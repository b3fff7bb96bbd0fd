"""The operator's admin page: find status entries, revoke / suspend / reinstate them.

Signed in with an operator API token (until QR login with a Governance credential exists at the
gateway); the session cookie carries only the token's row id, which is checked again on every
request, so revoking the token signs the page out. Every form carries a synchronizer CSRF token;
the cookie has its own name (services on one host share cookies across ports) and is
SameSite=Strict. Templates autoescape everything they show.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, redirect, render_template, request, session, url_for
from sqlalchemy import select

from credgate.problems import Problem
from credgate.tokens import ApiToken, find_token
from credgate.web import db_sessions
from revocation.entries import admin_entries, entry_record
from revocation.status import ACTIONS, change_status

CSRF_FIELD = "csrf_token"
TOKEN_ID = "token_id"

admin = Blueprint("revocation_admin", __name__, template_folder="templates")


@admin.after_request
def page_headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@admin.app_context_processor
def template_helpers():
    return {"csrf_token": csrf_token, "actions": ACTIONS}


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if token is None:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    expected = session.get(CSRF_FIELD)
    presented = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected, presented):
        raise Problem(
            "csrf-failed", "Form expired or forged", 403,
            "reload the page and submit the form again",
        )  # fmt: skip


def signed_in_actor() -> str | None:
    """``token:<name>`` of the signed-in operator, if the token is still live."""
    token_id = session.get(TOKEN_ID)
    if not isinstance(token_id, int):
        return None
    with db_sessions()() as db:
        token = db.scalar(select(ApiToken).where(ApiToken.id == token_id))
    if token is None or token.revoked_at is not None:
        session.pop(TOKEN_ID, None)
        return None
    return f"token:{token.name}"


@admin.get("/status/admin")
def page():
    actor = signed_in_actor()
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
    actor = signed_in_actor()
    if actor is None:
        return redirect(url_for(".page"), 303)
    return render_template(
        "revocation/entry.html", actor=actor, entry=entry_record(db_sessions(), entry_id)
    )


@admin.post("/status/admin/login")
def login():
    check_csrf()
    presented = request.form.get("token", "").strip()
    with db_sessions()() as db:
        token = find_token(db, presented) if presented else None
    if token is None:
        return render_template("revocation/login.html", failed=True), 401
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[TOKEN_ID] = token.id
    return redirect(url_for(".page"), 303)


@admin.post("/status/admin/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for(".page"), 303)


@admin.post("/status/admin/entries/<int:entry_id>/<action>")
def change(entry_id: int, action: str):
    check_csrf()
    actor = signed_in_actor()
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
