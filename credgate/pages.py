"""What every HTML page of the suite shares: CSRF tokens, security headers, operator sign-in.

Forms use a synchronizer token kept in the (signed, per-service) session cookie; the cookie is
SameSite as a second line. Operators sign in to admin pages with their API token: the session
keeps only the token's id and every request checks it is still live, so revoking the token
signs the pages out.
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
OPERATOR_TOKEN_ID = "operator_token_id"

#: Pages are plain server-rendered HTML: no scripts, inline styles, images from us or data: URLs.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


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


def page_headers(response: Response, csp: str = DEFAULT_CSP) -> Response:
    """No caching of personal pages, a strict CSP, no MIME sniffing, no referrer leaks (a view
    that set one of these itself, e.g. a static file's caching, keeps its own)."""
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("Content-Security-Policy", csp)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


def operator_sign_in(presented: str) -> bool:
    """Sign the browser in with an operator API token; False if the token is not live."""
    presented = presented.strip()
    with db_sessions()() as db:
        token = find_token(db, presented) if presented else None
    if token is None:
        return False
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[OPERATOR_TOKEN_ID] = token.id
    return True


def signed_in_operator() -> str | None:
    """``token:<name>`` of the signed-in operator, if the token is still live."""
    token_id = session.get(OPERATOR_TOKEN_ID)
    if not isinstance(token_id, int):
        return None
    with db_sessions()() as db:
        token = db.scalar(select(ApiToken).where(ApiToken.id == token_id))
    if token is None or token.revoked_at is not None:
        session.pop(OPERATOR_TOKEN_ID, None)
        return None
    return f"token:{token.name}"
