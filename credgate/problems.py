"""RFC 9457 problem documents: every error a service returns, with a stable ``type`` per failure.

Services raise :class:`~credgate.errors.DomainError` (no HTTP in it); routes may raise
:class:`Problem`, a domain error that knows its status. The handlers registered by
:func:`register_problem_handlers` turn both, and every HTTP error Flask raises itself, into an
``application/problem+json`` response: a domain error's status is its type's in the registry
(:mod:`credgate.problem_types`), mapped in one place, :func:`problem_of`. Unexpected exceptions
become a generic 500 problem that reveals nothing of the internals (the traceback goes to the log).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from credgate.bodies import MAX_BYTES, MAX_DEPTH, MAX_STRING, BodyRefused, Limits, parse_json
from credgate.errors import DomainError
from credgate.problem_types import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, ProblemType

# Werkzeug's HTTP errors, named for clients that switch on ``type``; any other code is
# ``http-error``.
_HTTP_TYPES = {
    kind.status: kind
    for kind in (
        ProblemType.BAD_REQUEST,
        ProblemType.UNAUTHORIZED,
        ProblemType.FORBIDDEN,
        ProblemType.NOT_FOUND,
        ProblemType.METHOD_NOT_ALLOWED,
        ProblemType.NOT_ACCEPTABLE,
        ProblemType.CONFLICT,
        ProblemType.PAYLOAD_TOO_LARGE,
        ProblemType.UNSUPPORTED_MEDIA_TYPE,
        ProblemType.TOO_MANY_REQUESTS,
    )
}


class Problem(DomainError):
    """An error to report to the client as a problem document, with its HTTP status: what routes
    raise. ``title`` and ``status`` default to the registry's for the type."""

    def __init__(
        self,
        slug: ProblemType | str,
        title: str | None = None,
        status: int | None = None,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(slug, detail, title=title, **extra)
        self.status = self.problem_type.status if status is None else status
        self.headers = headers or {}

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        body.update(self.extra)
        return body


def problem_of(error: DomainError) -> Problem:
    """The problem document a domain error answers with: its type's status from the registry.
    The one place where a service's refusal becomes HTTP."""
    if isinstance(error, Problem):
        return error
    kind = error.problem_type
    retry = {} if error.retry_after is None else {"Retry-After": str(error.retry_after)}
    return Problem(kind, error.title, kind.status, error.detail, headers=retry, **error.extra)


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
    kind = _HTTP_TYPES.get(code, ProblemType.HTTP_ERROR)
    return Problem(kind, exc.name, code, exc.description)


def register_problem_handlers(app: Flask) -> None:
    app.register_error_handler(Problem, problem_response)

    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        return problem_response(problem_of(error))

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


def body_limits() -> Limits:
    """The current service's JSON limits: ``JSON_MAX_BYTES`` (and the request's own body limit),
    ``JSON_MAX_DEPTH``, ``JSON_MAX_STRING``."""
    config = current_app.config
    max_bytes = int(config.get("JSON_MAX_BYTES", MAX_BYTES))
    if request.max_content_length is not None:
        max_bytes = min(max_bytes, request.max_content_length)
    return Limits(
        max_bytes=max_bytes,
        max_depth=int(config.get("JSON_MAX_DEPTH", MAX_DEPTH)),
        max_string=int(config.get("JSON_MAX_STRING", MAX_STRING)),
    )


def json_body(*, optional: bool = False) -> Any:
    """The request's JSON body, parsed within the service's limits, or a problem: 415 if it is not
    JSON, 413 if it is too large (chunked or not), 400 if it does not parse or is refused
    (too deep, too long a string, a NUL or a lone surrogate, a number out of range).

    ``optional``: an empty body (any media type) is ``None``, for routes whose body may be left out.
    """
    limits = body_limits()
    raw = _read_body(limits.max_bytes)
    if optional and not raw:
        return None
    if not request.is_json:
        raise Problem(
            "unsupported-media-type",
            "Unsupported media type",
            415,
            "send the body as application/json",
        )
    try:
        return parse_json(raw, limits)
    except BodyRefused as exc:
        raise Problem(exc.slug, exc.title, exc.status, exc.detail, **exc.extra) from None


def _read_body(max_bytes: int) -> bytes:
    """The body, read at most to the limit: werkzeug's stream stops at ``Content-Length`` and, for
    a chunked body, at ``max_content_length``; the length is checked again here, where the JSON
    limit is lower."""
    too_large = Problem(*_TOO_LARGE, detail=f"the body is larger than {max_bytes} bytes")
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(raw) > max_bytes:
        raise too_large
    # A chunked body is cut off silently at max_content_length: one that reaches it is too large,
    # not the truncated JSON it would otherwise be parsed as.
    cap = request.max_content_length
    if request.content_length is None and cap is not None and len(raw) >= cap:
        raise too_large
    return raw


_TOO_LARGE = (ProblemType.PAYLOAD_TOO_LARGE, "Payload too large", 413)
