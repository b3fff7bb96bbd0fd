"""RFC 9457 problem documents: every error a service returns, with a stable ``type`` per failure.

Raise :class:`Problem` anywhere below a route; the handlers registered by
:func:`register_problem_handlers` turn it, and every HTTP error Flask raises itself, into an
``application/problem+json`` response. Unexpected exceptions become a generic 500 problem that
reveals nothing of the internals (the traceback goes to the log).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_BASE = "https://w3id.org/credgate/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"

# Werkzeug's HTTP errors, named for clients that switch on ``type``.
_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    413: "payload-too-large",
    415: "unsupported-media-type",
    429: "too-many-requests",
}


class Problem(Exception):
    """An error to report to the client as a problem document."""

    def __init__(
        self,
        slug: str,
        title: str,
        status: int = 400,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or title)
        self.headers = headers or {}
        self.slug = slug
        self.title = title
        self.status = status
        self.detail = detail
        self.extra = extra

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        return body


def problem_response(problem: Problem) -> Response:
    body = problem.to_dict()
    body.setdefault("instance", request.path)
    return Response(
        json.dumps(body),
        status=problem.status,
        mimetype=PROBLEM_MEDIA_TYPE,
        headers=problem.headers,
    )


def from_http_exception(exc: HTTPException) -> Problem:
    code = exc.code or 500
    slug = _HTTP_SLUGS.get(code, "http-error")
    return Problem(slug, exc.name, code, exc.description)


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        response = problem_response(from_http_exception(exc))
        if exc.code == 405 and getattr(exc, "valid_methods", None):
            response.headers["Allow"] = ", ".join(exc.valid_methods)
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem("internal-error", "Internal server error", 500))


def json_body() -> Any:
    """The request's JSON body, or a problem: 415 if it is not JSON, 400 if it does not parse."""
    if not request.is_json:
        raise Problem(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            "send the body as application/json",
        )
    data = request.get_json(silent=True)
    if data is None:
        raise Problem("malformed-json", "Malformed JSON", 400, "the body is not valid JSON")
    return data
