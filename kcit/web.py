"""What the HTML pages of KCIT (and depute) share: the synchronizer CSRF token, strict page
headers, and signing in with an operator API token (the seam where the gateway's QR login with a
Governance credential plugs in once it is mounted in front of the admin pages).

The session cookie carries only the token's row id, checked again on every request, so revoking
the token signs the page out; each service names its cookie (they share 127.0.0.1).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Response, request, session
from sqlalchemy import select

from credgate.problems import Problem
from credgate.tokens import ApiToken, find_token
from credgate.web import db_sessions

CSRF_FIELD = "csrf_token"
TOKEN_ID = "operator_token_id"


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if token is None:
        token = session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    expected = session.get(CSRF_FIELD)
    presented = request.form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(expected, presented):
        raise Problem("csrf-failed", "Form expired or forged", 403,
                      "reload the page and submit the form again")  # fmt: skip


def page_headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def operator_sign_in(presented: str) -> bool:
    with db_sessions()() as db:
        token = find_token(db, presented.strip()) if presented.strip() else None
    if token is None:
        return False
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[TOKEN_ID] = token.id
    return True


def signed_in_operator() -> str | None:
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
