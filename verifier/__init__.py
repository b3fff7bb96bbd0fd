"""Verifier: in-process verification library, policy decision point, VC-API verify endpoints
and the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("verifier", config=config)
    attach_agent(app, "verifier")
    return app
