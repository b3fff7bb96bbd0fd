"""Operator authentication for admin APIs: ``Authorization: Bearer <operator API token>``."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

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


def operator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the request with a 401 problem unless it carries a live operator API token."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        presented = presented_bearer_token()
        if presented is None:
            raise Problem(
                "unauthorized", "Authentication required", 401,
                "send an operator API token as 'Authorization: Bearer <token>'",
                headers=CHALLENGE,
            )  # fmt: skip
        with db_sessions()() as session:
            token = find_token(session, presented)
        if token is None:
            raise Problem(
                "invalid-token", "Invalid API token", 401, "the token is unknown or revoked",
                headers=CHALLENGE,
            )  # fmt: skip
        g.actor = f"token:{token.name}"
        return view(*args, **kwargs)

    return wrapped
