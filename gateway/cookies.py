"""The gateway's cookies; its CSRF tokens are the suite's one scheme (:mod:`credgate.pages`).

Several services of the suite share 127.0.0.1, and browsers share cookies across ports, so each
cookie has a gateway-specific name. All are HttpOnly and SameSite; Secure when the request came
over https, or when configured (``GATEWAY_COOKIE_SECURE``, or ``SESSION_COOKIE_SECURE`` as for
every service).

* the session cookie holds a random secret; the database keeps only its sha256;
* the login cookie binds a QR login to the browser that opened the page, so that only that
  browser can turn the verified login into a session (whoever else watches the login's state,
  or scanned the code, cannot).

A session's CSRF token is bound to the session cookie's secret (``csrf_for(secret)``, checked
by ``check_csrf(secret)``): forms and ``X-CSRF-Token`` headers carry it, and nothing needs
storing.
"""

from __future__ import annotations

from flask import Response, current_app, request

from credgate.pages import CSRF_FIELD, CSRF_HEADER, check_csrf, csrf_for

__all__ = [
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "check_csrf",
    "clear_session_cookie",
    "csrf_for",
    "secure",
    "set_login_cookie",
    "set_session_cookie",
]

SESSION_COOKIE = "credgate_gateway_session"
LOGIN_COOKIE = "credgate_gateway_login"


def secure() -> bool:
    config = current_app.config
    configured = config.get("GATEWAY_COOKIE_SECURE") or config.get("SESSION_COOKIE_SECURE")
    return bool(configured) or request.is_secure


def set_session_cookie(response: Response, secret: str, max_age: int) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=max_age,
        httponly=True,
        samesite="Lax",
        secure=secure(),
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="Lax", secure=secure())


def set_login_cookie(
    response: Response, secret: str, max_age: int, name: str = LOGIN_COOKIE, path: str = "/login"
) -> None:
    # Strict: the cookie only ever goes back to the gateway's own login endpoints.
    response.set_cookie(
        name,
        secret,
        max_age=max_age,
        httponly=True,
        samesite="Strict",
        secure=secure(),
        path=path,
    )
