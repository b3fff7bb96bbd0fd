"""What every HTML page of the suite shares: the CSRF scheme, security headers, operator sign-in.

One CSRF scheme for every page, whatever keeps the browser's session: the token is an HMAC, under
the service's secret key, of a secret bound to that session. Pages on Flask's signed session
cookie bind it to a random seed kept in the session (:func:`csrf_token`, :func:`check_csrf`);
the gateway binds it to its own session cookie's secret (``binding=``). Forms send it as the
``csrf_token`` field, scripts as the ``X-CSRF-Token`` header; the cookies are SameSite as a
second line. A fresh session (sign-in clears it) gets a fresh seed, so tokens do not outlive it.

Operators sign in to admin pages with their API token: the session keeps only the token's id
and every request checks it is still live, so revoking the token signs the pages out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Response, current_app, request, session
from sqlalchemy import select

from credgate.problems import Problem
from credgate.tokens import ApiToken, find_token
from credgate.web import db_sessions

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
CSRF_SEED = "csrf_seed"  # the session's key for the secret its CSRF token is bound to
OPERATOR_TOKEN_ID = "operator_token_id"

#: Pages are plain server-rendered HTML: no scripts, styles only from the shared stylesheet,
#: images from us or data: URLs.
DEFAULT_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def csrf_for(binding: str) -> str:
    """The CSRF token of the session whose secret is ``binding``."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def _session_seed() -> str:
    seed = session.get(CSRF_SEED)
    if not isinstance(seed, str):
        seed = session[CSRF_SEED] = secrets.token_urlsafe(32)
    return seed


def csrf_token() -> str:
    """The token for forms on a page kept in Flask's session (templates call it)."""
    return csrf_for(_session_seed())


def check_csrf(binding: str | None = None) -> None:
    """Refuse (403 ``csrf-failed``) a request without the token of its session: of Flask's
    session by default, else of the session whose secret is ``binding``."""
    if binding is None:
        seed = session.get(CSRF_SEED)
        binding = seed if isinstance(seed, str) else ""
    presented = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not binding or not presented or not hmac.compare_digest(presented, csrf_for(binding)):
        raise Problem(
            "csrf-failed",
            "Form expired or forged",
            403,
            f"reload the page and submit the form again (scripts: send the session's token as "
            f"the {CSRF_FIELD} field or the {CSRF_HEADER} header)",
        )


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
