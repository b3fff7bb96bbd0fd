"""Revocation service: status lists, revoke / suspend / reinstate, signed status-list credentials
and their change feed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("revocation", config=config)
    attach_agent(app, "issuer")
    return app
