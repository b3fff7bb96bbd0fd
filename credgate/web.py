"""What every credgate service app shares: configuration, problem documents, ``/health`` and the
browser session.

Each service's ``create_app`` (Flask's app-factory convention) calls :func:`create_service_app`
and then registers its own blueprints. A service with pages asks for ``sessions``: its session
cookie is set up here, once for all (:func:`init_sessions`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify, request
from sqlalchemy import exc as db_errors
from sqlalchemy.orm import Session, sessionmaker

from credgate import __version__
from credgate.config import load_settings
from credgate.db import make_engine, session_factory, storage_unavailable
from credgate.openapi import openapi, operation
from credgate.problems import Problem, problem_response, register_problem_handlers
from credgate.secrets import get_or_create_secret

#: Bodies above this size are refused with a 413 problem before they are read.
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024

#: Reports an agent's readiness: {"name": ..., "url": ..., "ready": bool}.
Readiness = Callable[[], dict[str, Any]]

health = Blueprint("health", __name__)
HEALTH = {
    "type": "object",
    "required": ["service", "version", "status"],
    "properties": {"status": {"enum": ["ok", "degraded"]}, "checks": {"type": "array"}},
}
HEALTH_CHECKS = "credgate.health_checks"


def add_health_check(app: Flask, check: Callable[[], dict[str, Any]]) -> None:
    """Report ``check()`` (``{"name", "ok", "detail"}``) in ``/health`` and ``credgate status``."""
    app.extensions.setdefault(HEALTH_CHECKS, []).append(check)


@health.get("/health")
@operation("Liveness and the agent's readiness", responses={200: HEALTH, 503: HEALTH})
def health_check():
    readiness: Readiness | None = current_app.extensions.get("credgate.readiness")
    agent = readiness() if readiness else None
    ok = agent is None or agent["ready"]
    body = {
        "service": current_app.config["SERVICE_NAME"],
        "version": __version__,
        "status": "ok" if ok else "degraded",
        "agent": agent,
        # parts that can be off while the service serves the rest (e.g. compute's sandbox)
        "checks": [check() for check in current_app.extensions.get(HEALTH_CHECKS, [])],
    }
    return jsonify(body), 200 if ok else 503


def create_service_app(
    name: str,
    *,
    config: Mapping[str, Any] | None = None,
    sessions: bool = False,
) -> Flask:
    """The service ``name``'s app: ``config`` over the defaults; with ``sessions``, a signed
    session cookie for its pages (:func:`init_sessions`)."""
    app = Flask(name)
    app.config.from_mapping(
        SERVICE_NAME=name,
        MAX_CONTENT_LENGTH=DEFAULT_MAX_CONTENT_LENGTH,
        CREDGATE_SETTINGS=load_settings(),
        # Every service runs on 127.0.0.1, and browsers share cookies across ports of one host:
        # a cookie name per service keeps their sessions apart.
        SESSION_COOKIE_NAME=f"credgate_{name}_session",
        SESSION_COOKIE_HTTPONLY=True,
        # Strict: no other site's link or form carries the session along (the sign-in callback
        # answers with a page of the service, so the cookie is sent on the next step).
        SESSION_COOKIE_SAMESITE="Strict",
    )
    if config:
        app.config.from_mapping(config)
    if sessions:
        init_sessions(app, name)
    factory = app.config.get("DB_SESSION_FACTORY")
    if factory is None:  # a service run on its own opens its own pool
        factory = session_factory(make_engine(app.config["CREDGATE_SETTINGS"].database_url))
    app.extensions["credgate.db"] = factory
    register_problem_handlers(app)
    app.before_request(refuse_nul_parameters)
    app.register_error_handler(db_errors.SQLAlchemyError, storage_error)
    app.register_blueprint(health)
    app.register_blueprint(openapi)  # /openapi.json, built from the routes' declarations
    return app


def refuse_nul_parameters() -> None:
    """A NUL in a query, path segment or form field is refused before any view: PostgreSQL text
    cannot hold one, so a lookup or a write with it would fail there (JSON: credgate.bodies)."""
    values = [*request.args.keys(), *request.args.values(), *(request.view_args or {}).values()]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [*request.form.keys(), *request.form.values()]
    if any(isinstance(value, str) and "\x00" in value for value in values):
        raise Problem(
            "invalid-parameter", "Invalid parameter", 400, "a parameter holds a NUL character"
        )


def init_sessions(app: Flask, owner: str) -> None:
    """The key that signs the session cookie (and derives CSRF tokens): ``SECRET_KEY`` when
    configured, else the secret ``<owner>-session-key`` (:mod:`credgate.secrets`: from the
    environment when nodes share it, else created once in the secrets directory). Secure is
    ``SESSION_COOKIE_SECURE`` (set it behind a TLS-terminating proxy)."""
    if not app.config.get("SECRET_KEY"):
        secrets_dir = app.config["CREDGATE_SETTINGS"].secrets_dir
        app.config["SECRET_KEY"] = get_or_create_secret(secrets_dir, f"{owner}-session-key")


def storage_error(error: db_errors.SQLAlchemyError):
    """A 503 the client may retry while the database is out of reach; the pool reconnects by
    itself (pre-ping on database servers), so the service recovers without a restart. Any other
    database error stays the generic 500."""
    if not storage_unavailable(error):
        current_app.logger.exception("unhandled error on %s %s", request.method, request.path)
        return problem_response(Problem("internal-error", "Internal server error", 500))
    cause = getattr(error, "orig", None) or error
    current_app.logger.warning("database unavailable: %s", type(cause).__name__)
    problem = Problem(
        "storage-unavailable",
        "Storage temporarily unavailable",
        503,
        "the database did not answer; retry shortly",
        headers={"Retry-After": "1"},
    )
    return problem_response(problem)


def db_sessions() -> sessionmaker[Session]:
    """The current service's session factory (use with ``credgate.db.transaction``)."""
    return current_app.extensions["credgate.db"]


def service_url(name: str) -> str:
    """The base URL of another service of the suite (``SERVICE_URLS`` in the app config)."""
    return current_app.config["SERVICE_URLS"][name]


def on_shutdown(app: Flask, stop: Callable[[], None]) -> None:
    """Run ``stop`` when the app is shut down (background threads the app started)."""
    app.extensions.setdefault("credgate.shutdown", []).append(stop)


def shutdown(app: Flask) -> None:
    for stop in reversed(app.extensions.get("credgate.shutdown", [])):
        try:
            stop()
        except Exception:  # one failing hook must not keep the others from running
            app.logger.exception("shutdown hook failed")
