"""Revocation service: status lists, revoke / suspend / reinstate, signed status-list credentials
and their change feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app, on_shutdown
from revocation.admin import admin as admin_pages  # not revocation.admin, the module
from revocation.publication import stop_signing
from revocation.routes import revocation

#: Tunables a deployment (or a test) may override in the app config.
DEFAULTS = {
    "STATUS_LIST_TTL": 300,  # seconds a signed status list is valid
    "STATUS_STREAM_HEARTBEAT": 15.0,  # seconds between SSE keep-alives
    "STATUS_STREAM_MAX_SECONDS": 300.0,  # an SSE stream ends after this; clients reconnect
    # The onboarding authority (a tenant of the issuer agent) whose Governance role credentials
    # sign admins in to the admin page.
    "REVOCATION_AUTHORITY_TENANT": "onboarding-authority",
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("revocation", config={**DEFAULTS, **(config or {})}, sessions=True)
    attach_agent(app, "issuer")
    app.register_blueprint(revocation)
    app.register_blueprint(admin_pages)
    factory = app.extensions["credgate.db"]
    on_shutdown(app, lambda: stop_signing(factory))
    return app
