"""KCIT, the company identification registry: self-registration, review, public lookup and
accreditations.

KCIT drives no agent of its own: it keeps the registry; depute follows its change feed to
provision each identified company (issuer tenant, onboarding, first admin mandate) and reports
back. Routes (see ``GET /kcit/openapi.json``):

- public: ``POST /kcit/registrations``, ``GET /kcit/registrations/<token>``,
  ``GET /kcit/dids/<did>``, ``GET /kcit/trust``, ``GET /kcit/trust/dids/<did>``,
  ``GET /kcit/trust/may-issue?did=&type=``, ``GET /kcit/changes?after=&wait=``;
- operator token: ``/kcit/admin/companies[/<id>[/approve|suspend|reinstate|remove|dids|powers|
  history]]``, ``/kcit/admin/accreditations``, ``/kcit/admin/powers``;
- pages: ``/kcit/register[/<token>]`` (self-registration, following it), ``/kcit/admin`` and
  ``/kcit/admin/review/<id>`` (list, filter, review, approve, suspend, accredit; signs in with the
  operator token until the gateway's QR login is mounted in front of it).

Tunables: ``kcit.context.DEFAULTS``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from credgate.web import create_service_app
from kcit.context import DEFAULTS, build_context
from kcit.routes.api import api
from kcit.routes.pages import pages

__all__ = ["create_app"]


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("kcit", config={**DEFAULTS, **(config or {})}, sessions=True)
    app.extensions["kcit"] = build_context(app.config, app.extensions["credgate.db"])
    app.register_blueprint(api)
    app.register_blueprint(pages)
    return app
