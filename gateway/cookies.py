"""The gateway's cookies and the CSRF token of a browser session.

Several services of the suite share 127.0.0.1, and browsers share cookies across ports, so each
cookie has a gateway-specific name. All are HttpOnly and SameSite; Secure when the request came
over https (or ``GATEWAY_COOKIE_SECURE``).

* the session cookie holds a random secret; the database keeps only its sha256;
* the login cookie binds a QR login to the browser that opened the page, so that only that
  browser can turn the verified login into a session (whoever else watches the login's state,
  or scanned the code, cannot).

The CSRF token of a session is an HMAC of the session secret under the service's secret key:
forms and ``X-CSRF-Token`` headers carry it, and nothing needs storing.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import Response, current_app, request

from credgate.problems import Problem

SESSION_COOKIE = "credgate_gateway_session"
LOGIN_COOKIE = "credgate_gateway_login"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def secure() -> bool:
    return bool(current_app.config.get("GATEWAY_COOKIE_SECURE")) or request.is_secure


def set_session_cookie(response: Response, secret: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE, secret, max_age=max_age, httponly=True, samesite="Lax", secure=secure(),
        path="/",
    )  # fmt: skip


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax",
                           secure=secure())  # fmt: skip


def set_login_cookie(
    response: Response, secret: str, max_age: int, name: str = LOGIN_COOKIE, path: str = "/login"
) -> None:
    # Strict: the cookie only ever goes back to the gateway's own login endpoints.
    response.set_cookie(
        name, secret, max_age=max_age, httponly=True, samesite="Strict", secure=secure(),
        path=path,
    )  # fmt: skip


def csrf_for(session_secret: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"csrf:" + session_secret.encode(), hashlib.sha256).hexdigest()


def check_csrf(session_secret: str) -> None:
    presented = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    if not presented or not hmac.compare_digest(presented, csrf_for(session_secret)):
        raise Problem(
            "csrf-failed", "Form expired or forged", 403,
            f"send the session's CSRF token as the {CSRF_FIELD} field or the {CSRF_HEADER} header",
        )  # fmt: skip
