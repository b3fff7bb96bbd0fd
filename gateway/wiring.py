"""The verifier gateway: QR login, access tokens, and the apps it mounts.

It is part of the verifier service: :func:`init_gateway` adds it to the verifier's Flask app.

Configuration (all optional):

``GATEWAY_DOMAIN``         the domain presentations are signed for and the tokens' audience
                           (default ``VERIFIER_DOMAIN``, else the verifier's service URL)
``GATEWAY_APPS``           apps to mount (``GatewayApp`` objects or ``"module:attr"``); default:
                           every app registered under the entry-point group ``credgate.apps``
``GATEWAY_SESSION_TTL``    seconds a browser session lasts at most (default 8 hours)
``GATEWAY_LOGIN_TTL``      seconds a QR login stays open (default 300)
``GATEWAY_COOKIE_SECURE``  mark cookies Secure even behind a TLS-terminating proxy
``GATEWAY_AUDIT_INTERVAL`` seconds between audit-log batch writes (default 0.2)
``GATEWAY_CLIENTS``        services that sign in through the gateway's QR login
                           ({name: {title, redirect_uris, portals}}; default: depute and the
                           admin pages of KCIT, the issuer and the status lists, from
                           ``SERVICE_URLS``)
``SECRET_KEY``             derives CSRF tokens (default: the secret ``gateway-session-key``)
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from credgate.web import init_sessions, on_shutdown
from gateway.api import api
from gateway.audit import AuditLog
from gateway.company import CompanyRegistry
from gateway.enforce import enforce_mounted, page_headers
from gateway.grants import GrantStore
from gateway.handoff import HandoffService, clients_from
from gateway.logins import LoginService
from gateway.mount import discover, mount
from gateway.oid4vp import init_oid4vp
from gateway.pages import pages
from gateway.state import EXTENSION, Gateway
from gateway.tokens import TokenService, load_or_create_key
from verifier.engine import Verifier

DEFAULTS = {
    "GATEWAY_SESSION_TTL": 8 * 3600,
    "GATEWAY_LOGIN_TTL": 300,
    "GATEWAY_AUDIT_INTERVAL": 0.2,
}


def gateway_domain(app: Flask) -> str:
    config = app.config
    return (
        config.get("GATEWAY_DOMAIN")
        or config.get("VERIFIER_DOMAIN")
        or (config.get("SERVICE_URLS") or {}).get("verifier")
        or "credgate-gateway"
    )


def init_gateway(app: Flask, verifier: Verifier) -> Gateway:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    secrets_dir = app.config["CREDGATE_SETTINGS"].secrets_dir
    init_sessions(app, "gateway")  # the key of its CSRF tokens (and the service's session)
    factory = app.extensions["credgate.db"]
    domain = gateway_domain(app)
    gw = Gateway(
        factory=factory,
        verifier=verifier,
        grants=GrantStore(factory),
        tokens=TokenService(load_or_create_key(secrets_dir), issuer=domain, audience=domain),
        audit=AuditLog(factory, interval=app.config["GATEWAY_AUDIT_INTERVAL"]),
        companies=CompanyRegistry(factory, verifier),
        domain=domain,
    )
    app.extensions[EXTENSION] = gw
    on_shutdown(app, gw.audit.stop)
    gw.logins = LoginService(
        factory,
        app.extensions.get("credgate.agent"),
        verifier,
        gw.grants,
        gw.audit,
        domain=domain,
        ttl=timedelta(seconds=app.config["GATEWAY_LOGIN_TTL"]),
        session_ttl=timedelta(seconds=app.config["GATEWAY_SESSION_TTL"]),
    )
    init_oid4vp(app, gw.logins)
    gw.handoffs = HandoffService(
        factory,
        gw.grants,
        verifier,
        clients_from(app.config.get("GATEWAY_CLIENTS"), app.config.get("SERVICE_URLS") or {}),
    )
    hub = app.config.get("WEBHOOK_HUB")
    if hub is not None:
        gw.logins.follow(hub)
    on_shutdown(app, gw.logins.stop)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    gw.apps = mount(app, discover(app.config.get("GATEWAY_APPS")))
    gw.mounted_blueprints = frozenset(a.blueprint.name for a in gw.apps.values())
    app.before_request(enforce_mounted)
    app.after_request(page_headers)
    return gw
