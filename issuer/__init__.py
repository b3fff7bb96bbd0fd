"""Issuer service: onboarding and role workflows, certifier workflow, W3C VC-API issue endpoint.

Every DIDComm workflow opens an *exchange*: an out-of-band invitation behind a short link
(``/i/<id>``, shown as a QR code, plus a ``didcomm://invite?oob=`` deep link) that delivers one
credential connectionless, or several over a DID Exchange connection. Routes:

- public: ``GET /issuer/did`` (the onboarding authority's DID), ``GET|POST /onboarding`` (person
  onboarding page), ``POST /issuer/onboarding/persons``, ``POST /issuer/role-requests``,
  ``GET /issuer/role-requests/<id>``, ``GET /issuer/exchanges/<id>[/qr.svg]``, ``GET /i/<id>``;
- operator token: ``POST /issuer/organisations``, ``POST /issuer/offers``,
  ``GET /issuer/role-requests``, ``POST /issuer/role-requests/<id>/approve|reject``,
  ``POST|GET /issuer/certifiers``,
  ``GET /issuer/credentials[/<id>]``, ``POST /credentials/issue`` (W3C VC-API);
- certifier token: ``POST|GET /issuer/certifications``, ``GET /issuer/certifications/<id>``,
  ``GET /issuer/certifications/<id>/credential`` (the signed credential),
  ``POST /issuer/certifications/<id>/revoke``; certifiers are accredited in KCIT, which the
  issuer asks before signing;
- public registry of certified software: ``GET /issuer/software[?purpose=&certifier=&status=]``,
  ``GET /issuer/software/urn:sha256:<hex>`` (signed certificates with live status);
- operator page (signs in with the operator token): ``/issuer/admin``;
- OpenID4VCI 1.0 (:mod:`issuer.oid4vci`): ``/.well-known/openid-credential-issuer``,
  ``/.well-known/oauth-authorization-server``, ``/oid4vci/offers/<id>``, ``POST /oid4vci/token``,
  ``/oid4vci/nonce`` and ``/oid4vci/credential``; SD-JWT VC type metadata at ``/vct/<type>``; the
  project's JSON-LD context at ``/contexts/credgate/v1``; the participant's role-request page
  ``/role-requests/<id>``. Every exchange's view and page carry its OpenID4VCI offer and PIN.

Issuing POSTs honour ``Idempotency-Key``. Tunables: ``issuer.context.DEFAULTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app, on_shutdown
from issuer.context import DEFAULTS, build_context
from issuer.oid4vci.grants import settings_from_config
from issuer.routes.api import api
from issuer.routes.certifier import certifier, software
from issuer.routes.links import links
from issuer.routes.oid4vci import oid4vci as oid4vci_routes  # not issuer.oid4vci, the package
from issuer.routes.pages import pages
from issuer.routes.vcapi import vc_api
from issuer.watcher import Watcher

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("issuer", config={**DEFAULTS, **(config or {})}, sessions=True)
    agent = attach_agent(app, "issuer")
    ctx = build_context(app.config, app.extensions["credgate.db"], agent)
    # Derives OpenID4VCI codes and PINs and keys their stored hashes; nodes share it by config.
    app.extensions["issuer.oid4vci"] = settings_from_config(app.config)
    app.extensions["issuer"] = ctx
    for blueprint in (api, certifier, software, vc_api, links, pages, oid4vci_routes):
        app.register_blueprint(blueprint)
    hub = app.config.get("WEBHOOK_HUB")
    # Follows DIDComm exchanges: webhooks from the suite's hub, and the sweeper. A service run on
    # its own without a hub sets ISSUER_WATCH to follow them by asking the agent.
    if app.config.get("ISSUER_WATCH", hub is not None):
        watcher = app.extensions["issuer.watcher"] = Watcher(ctx, hub).start()
        on_shutdown(app, watcher.stop)
    return app
