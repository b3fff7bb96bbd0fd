"""Operator authentication for admin APIs: ``Authorization: Bearer <operator API token>``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from credgate.openapi import Guard
from credgate.problems import Problem
from credgate.tokens import find_token
from credgate.web import db_sessions

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="credgate"'}


def presented_bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def required_bearer_token(detail: str) -> str:
    """The request's bearer token; without one, a 401 problem whose ``detail`` says what to send."""
    presented = presented_bearer_token()
    if presented is None:
        raise Problem("unauthorized", "Authentication required", 401, detail, headers=CHALLENGE)
    return presented


def bearer_required(
    authenticate: Callable[[str], Any | None], *, what: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator: the request must carry a bearer token that ``authenticate`` accepts
    (it returns the principal, or None, and may note it in ``flask.g``); otherwise a 401 problem.
    ``what`` names the expected token in the message."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            presented = required_bearer_token(f"send {what} as 'Authorization: Bearer <token>'")
            if authenticate(presented) is None:
                raise Problem(
                    "invalid-token",
                    "Invalid API token",
                    401,
                    "the token is unknown or revoked",
                    headers=CHALLENGE,
                )
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _operator(presented: str):
    with db_sessions()() as session:
        token = find_token(session, presented)
    if token is not None:
        g.actor = f"token:{token.name}"
    return token


#: Refuse the request with a 401 problem unless it carries a live operator API token.
operator_required = bearer_required(_operator, what="an operator API token")

#: An admin route's ``auth`` (:func:`credgate.openapi.operation`): its document names the
#: operator's API token, and a request without a live one is refused before any other check.
OPERATOR = Guard("operatorToken", operator_required)
