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
    # Its own cookie name: every service of the suite runs on one host, and browsers share
    # cookies across ports.
    "SESSION_COOKIE_NAME": "credgate_wallet_session",
    "SESSION_COOKIE_SAMESITE": "Strict",
    "SESSION_COOKIE_HTTPONLY": True,
}


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    # Imported here: `credgate wallet` imports this package and needs none of the service.
    from agents.endpoints import attach_agent
    from credgate.secrets import get_or_create_secret
    from credgate.web import create_service_app
    from wallet.context import EXTENSION, build_context
    from wallet.routes.api import api
    from wallet.routes.pages import pages

    app = create_service_app("wallet", config={**DEFAULTS, **(config or {})})
    attach_agent(app, "holder")
    if not app.config.get("SECRET_KEY"):  # signs the phone screen's session cookie
        secrets_dir = app.config["CREDGATE_SETTINGS"].secrets_dir
        app.config["SECRET_KEY"] = get_or_create_secret(secrets_dir, "wallet-session-key")
    app.extensions[EXTENSION] = build_context(app)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app
