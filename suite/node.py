"""One service node: a service's app against an existing database and existing agents, for a
production server (``credgate serve``, or ``gunicorn 'suite.node:create_app("verifier")'``).

Any number of nodes share one PostgreSQL; they share no files. Everything a node needs comes
from its configuration:

``DATABASE_URL``                 the shared database (migrated by ``credgate migrate``)
``CREDGATE_CONFIG``              a JSON file of Flask config keys for every service (optional),
                                 e.g. ``SERVICE_URLS``, ``GATEWAY_DOMAIN``, ``VERIFIER_TRUST_FILE``,
                                 and ``AGENTS``: {agent name: {"url", "api_key"}}
``CREDGATE_SERVICE_URLS``        JSON {service: public URL}, overrides the file's ``SERVICE_URLS``
``AGENT_URL``/``AGENT_API_KEY``  the service's agent, overriding ``AGENTS``
``CREDGATE_PROXY_HOPS``          trusted reverse proxies in front (``X-Forwarded-*``; default 0)
``CREDGATE_SECRET_KEY``          master secret every shared secret derives from
                                 (:mod:`credgate.secrets`); ``CREDGATE_TOKEN_KEY`` and
                                 ``CREDGATE_OPERATOR_TOKEN_HASH`` as those modules say

Each node takes the agents' webhooks at ``/webhooks/<agent>/topic/<topic>/`` (the agents'
``--webhook-url`` points at the node pool); ``/ready`` answers 200 while the node can reach the
database, for a load balancer (``/health`` also reports the agent); ``/metrics`` is for
Prometheus (:mod:`credgate.metrics`), and under ``credgate serve`` logs are JSON lines unless
``CREDGATE_LOG_FORMAT`` is ``text``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import text
from werkzeug.middleware.proxy_fix import ProxyFix

from agents.hub import WebhookHub
from credgate import metrics
from credgate.config import load_settings
from credgate.db import make_engine, session_factory
from credgate.secrets import get_or_create_secret
from credgate.tokens import register_configured_operator
from suite.services import SERVICES, app_factory
from suite.start import install as install_start_page

WEBHOOK_PREFIX = "/webhooks"

ready = Blueprint("node_ready", __name__)


@ready.get("/ready")
def readiness():
    """200 while this node can serve: its database answers. A load balancer takes the node out
    of the pool on 503 (an agent that is down degrades ``/health``, not readiness: the node still
    serves everything that needs no agent)."""
    try:
        with current_app.extensions["credgate.db"]() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database: not ready
        body = {"ready": False, "reason": type(exc).__name__}
        return jsonify(body), 503, {"Retry-After": "1"}
    return jsonify({"ready": True, "service": current_app.config["SERVICE_NAME"]})


def node_config(service: str, environ: os._Environ[str] | None = None) -> dict[str, Any]:
    """The service's Flask config from the environment (see the module docstring)."""
    env = os.environ if environ is None else environ
    config: dict[str, Any] = {}
    path = env.get("CREDGATE_CONFIG")
    if path:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(loaded, dict):
            raise ValueError("CREDGATE_CONFIG must hold a JSON object")
        config.update(loaded)
    if env.get("CREDGATE_SERVICE_URLS"):
        config["SERVICE_URLS"] = json.loads(env["CREDGATE_SERVICE_URLS"])
    agent_name = SERVICES[service][1]
    agent = (config.pop("AGENTS", None) or {}).get(agent_name or "") or {}
    if agent:
        config.setdefault("AGENT_URL", agent.get("url"))
        config.setdefault("AGENT_API_KEY", agent.get("api_key"))
    for key in ("AGENT_URL", "AGENT_API_KEY"):
        if env.get(key):
            config[key] = env[key]
    return config


def create_app(service: str) -> Flask:
    """The node's app for ``service`` (one of :data:`suite.services.SERVICES`)."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    settings = load_settings()
    factory = session_factory(make_engine(settings.database_url))
    register_configured_operator(factory)
    # Webhooks reach whichever node the pool picks; each node's hub hands them to its services.
    # Stored in the database, so a waiter on this node sees a webhook another node received.
    hub = WebhookHub(get_or_create_secret(settings.secrets_dir, "webhook-key"), store=factory)
    config = {
        "CREDGATE_SETTINGS": settings,
        "DB_SESSION_FACTORY": factory,
        "WEBHOOK_HUB": hub,
        **node_config(service),
    }
    app = app_factory(service)(config)
    hops = int(os.environ.get("CREDGATE_PROXY_HOPS") or 0)
    if hops:  # only behind that many trusted proxies: the client could set the headers itself
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.register_blueprint(hub.blueprint(), url_prefix=WEBHOOK_PREFIX)
    app.register_blueprint(ready)
    install_start_page(app)
    metrics.install(app)
    return app
