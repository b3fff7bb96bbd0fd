"""Depute tool: company admins authorise employees with Attorney credentials; list, suspend,
reinstate and revoke them; every step audited.

Each company KCIT identifies gets a tenant wallet on the issuer agent whose did:key is recorded in
KCIT as the company's public DID; mandates are issued from it through the issuer's single-use,
expiring out-of-band invitations (QR code + link). Routes:

- JSON API ``/depute/api/...`` (operator token, or a company admin's session from
  ``POST /depute/api/login`` with an Attorney credential granting ``depute:admin``);
- pages ``/depute/`` (company admins' list, authorise form, suspend / reinstate / revoke,
  audit export).

Tunables: ``depute.context.DEFAULTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app, on_shutdown
from depute.context import DEFAULTS, build_context
from depute.provisioning import Provisioner
from depute.routes.api import api
from depute.routes.pages import pages
from issuer.oid4vci.grants import settings_from_config

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("depute", config={**DEFAULTS, **(config or {})}, sessions=True)
    agent = attach_agent(app, "issuer")
    ctx = app.extensions["depute"] = build_context(app.config, app.extensions["credgate.db"], agent)
    # Mandates are also offered over OpenID4VCI, with the issuer service's offer key.
    app.extensions["issuer.oid4vci"] = settings_from_config(app.config)
    app.register_blueprint(api)
    app.register_blueprint(pages)
    if agent is not None and app.config["DEPUTE_PROVISION"]:
        provisioner = app.extensions["depute.provisioner"] = Provisioner(ctx).start()
        on_shutdown(app, provisioner.stop)
    return app
