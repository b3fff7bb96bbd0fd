"""What operators see of a service node: Prometheus metrics at ``/metrics`` and JSON-lines logs.

Under gunicorn every worker is a process of its own, so the metrics use prometheus-client's
multiprocess mode: ``credgate serve`` gives each service a fresh ``PROMETHEUS_MULTIPROC_DIR``,
workers write their samples there, and ``/metrics`` on any worker adds them up. This module is
also the gunicorn config module ``credgate serve`` passes (``-c python:credgate.metrics``): its
:func:`child_exit` hook drops a dead worker's live gauges, and :func:`post_worker_init` turns
the worker's logs into JSON lines (unless ``CREDGATE_LOG_FORMAT=text``).

Metrics carry route templates (``/login/<login_id>``), never paths, query strings, headers or
bodies, so neither they nor the logs carry tokens or secrets.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text

REQUESTS = Counter(
    "credgate_http_requests_total",
    "Requests answered, by route and status",
    ["service", "method", "route", "status"],
)
LATENCY = Histogram(
    "credgate_http_request_seconds",
    "Time to the response's headers, by route",
    ["service", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
AGENT_UP = Gauge(
    "credgate_agent_ready",
    "The service's agent answers (1) or not (0), as last seen",
    ["service", "agent"],
    multiprocess_mode="mostrecent",
)
AGENT_RESTARTS = Gauge(
    "credgate_agent_restarts",
    "Restarts of the service's agent by its supervisor",
    ["service", "agent"],
    multiprocess_mode="mostrecent",
)

FEED_LAG = Gauge(
    "credgate_feed_lag",
    "Status changes committed to the shared database that this service's follower has not "
    "applied yet (revocation change feed; as of the scrape)",
    ["service", "feed"],
    multiprocess_mode="mostrecent",
)
VERIFICATIONS = Counter(
    "credgate_verifications_total",
    "Verification answers of the verifier and the gateway, by route, outcome and error type",
    ["service", "route", "outcome", "error"],
)

UNMATCHED = "<unmatched>"
#: Routes whose answers are verification outcomes (VC-API verify, the gateway's token exchange).
VERIFYING = frozenset({"/credentials/verify", "/presentations/verify", "/auth/token"})
MAX_ERRORS = 8  # error types counted per answer (a crafted presentation cannot flood the labels)


def install(app: Flask) -> None:
    """Count and time every request of ``app``, and serve ``GET /metrics``."""

    @app.before_request
    def _start() -> None:
        g.credgate_started = time.perf_counter()

    @app.after_request
    def _count(response):
        started = g.pop("credgate_started", None)
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        service = app.config["SERVICE_NAME"]
        REQUESTS.labels(service, request.method, route, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(service, route).observe(time.perf_counter() - started)
        if route in VERIFYING and request.method == "POST":
            _count_verification(service, route, response)
        return response

    app.add_url_rule("/metrics", "credgate_metrics", metrics, methods=["GET"])


def error_slug(value: Any) -> str:
    """The stable slug of a problem type URI (``.../problems/revoked`` -> ``revoked``); anything
    else is ``other``, so labels stay the project's own, few, values."""
    if isinstance(value, str) and "/problems/" in value:
        slug = value.rsplit("/", 1)[-1]
        if slug and len(slug) <= 64 and slug.replace("-", "").isalnum():
            return slug
    return "other"


def _count_verification(service: str, route: str, response) -> None:
    if response.is_streamed or not response.is_json:
        return
    body = response.get_json(silent=True)
    if not isinstance(body, dict):
        return
    if response.status_code < 400 and body.get("verified", True) is not False:
        VERIFICATIONS.labels(service, route, "verified", "").inc()
        return
    errors = body.get("errors") if isinstance(body.get("errors"), list) else [body]
    slugs = {error_slug(e.get("type")) for e in errors[:MAX_ERRORS] if isinstance(e, dict)}
    for slug in slugs or {"other"}:
        VERIFICATIONS.labels(service, route, "refused", slug).inc()


def _observe_feed() -> None:
    follower = current_app.extensions.get("credgate.status_feed")
    position = getattr(follower, "last", None)
    if follower is None:
        return
    try:
        with current_app.extensions["credgate.db"]() as session:
            head = session.scalar(text("SELECT last FROM status_feed_head WHERE id = 1")) or 0
    except Exception:  # no revocation tables here, or the database is away: no sample
        return
    lag = head - position if isinstance(position, int) else head
    FEED_LAG.labels(current_app.config["SERVICE_NAME"], "revocation").set(max(0, lag))


def metrics() -> Response:
    _observe_agent()
    _observe_feed()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return Response(
        generate_latest(registry),
        mimetype=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def _observe_agent() -> None:
    readiness = current_app.extensions.get("credgate.readiness")
    if readiness is None:
        return
    service = current_app.config["SERVICE_NAME"]
    try:
        state = readiness()
    except Exception:  # a failing probe is an agent that is not ready
        state = {"name": "unknown", "ready": False}
    name = str(state.get("name") or "agent")
    AGENT_UP.labels(service, name).set(1 if state.get("ready") else 0)
    if isinstance(state.get("restarts"), int):
        AGENT_RESTARTS.labels(service, name).set(state["restarts"])


# -- gunicorn hooks (this module is ``credgate serve``'s gunicorn config) -------------------------


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(_worker: Any) -> None:
    # Here, not in the app factory: only a served node's process logs JSON lines, never a test
    # or a tool that builds a node app in its own process.
    if os.environ.get("CREDGATE_LOG_FORMAT", "json") == "json":
        json_logs()
    logging.getLogger("suite.node").info("worker %d serving", os.getpid())


# -- logs ----------------------------------------------------------------------------------------


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message (and the exception's type)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "pid": record.process,
            "msg": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            line["exc_type"] = record.exc_info[0].__name__
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


JsonLines.converter = time.gmtime


def json_logs(level: int = logging.INFO) -> None:
    """Send this process's logs to stderr as JSON lines (replacing other root handlers)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
