"""Wallet service: the holder stand-in for the mobile wallet (one holder-agent tenant per user).

Two faces over one service layer: a JSON API under ``/wallet/api`` for the ``credgate wallet``
CLI (operator token), and the phone screen under ``/wallet/`` (a wallet's name and PIN).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

DEFAULTS = {
    # A QR-code picture is uploaded as it is (pages) or base64 in JSON (API): room for 4 MiB.
    "MAX_CONTENT_LENGTH": 6 * 1024 * 1024,
    "JSON_MAX_BYTES": 6 * 1024 * 1024,
    "JSON_MAX_STRING": 6 * 1024 * 1024,  # the picture is one base64 string
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # Imported here, not at the top: every `credgate` command imports wallet.cli (the HTTP client
    # of `credgate wallet`), hence this package, and needs none of the service; its imports
    # (Flask app, agents, routes) would make each command start in 3.4 s instead of 1.3 s.
    from agents.endpoints import attach_agent
    from credgate.web import create_service_app
    from wallet.context import EXTENSION, build_context
    from wallet.routes.api import api
    from wallet.routes.pages import pages

    app = create_service_app("wallet", config={**DEFAULTS, **(config or {})}, sessions=True)
    attach_agent(app, "holder")
    app.extensions[EXTENSION] = build_context(app)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app
