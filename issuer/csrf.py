"""CSRF protection of the HTML forms: a random token per browser session, sent back with every
form (synchronizer token); the session cookie is SameSite=Lax as a second line."""

from __future__ import annotations

import hmac
import secrets

from flask import request, session

from credgate.problems import Problem

FIELD = "csrf_token"


def csrf_token() -> str:
    token = session.get(FIELD)
    if token is None:
        token = session[FIELD] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    expected = session.get(FIELD)
    presented = request.form.get(FIELD, "")
    if not expected or not hmac.compare_digest(expected, presented):
        raise Problem(
            "csrf-failed", "Form expired or forged", 403,
            "reload the page and submit the form again",
        )  # fmt: skip
