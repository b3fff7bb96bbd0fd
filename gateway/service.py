"""The verifier service's app factory: the VC-API verify endpoints (:mod:`gateway.vcapi`) and the
gateway (:mod:`gateway.wiring`, configured by its ``GATEWAY_*`` keys), over one in-process
:class:`verifier.Verifier` built from the config.

Configuration (all optional):

``VERIFIER_MAX_CONTENT_LENGTH``  request-size limit (bytes, default 256 KiB)
``VERIFIER_DOMAIN``              the domain presentations are signed for (challenges carry it)
``VERIFIER_TRUST_FILE``          trust registry file (default ``<var>/verifier/trust.json``)
``VERIFIER_KCIT_TRUST``          ask the suite's KCIT too (default True when ``SERVICE_URLS``
                                 names KCIT), following its change feed
``VERIFIER_TRUST``               a ready :class:`~verifier.trust.TrustRegistry` (tests, KCIT)
``DID_WEB_OVERRIDE``             did:web host -> base URL (loopback deployments, tests)
``STATUS_URL_OVERRIDE``          status-list URL prefix -> replacement prefix
``FETCH_ALLOW``                  hosts (``host[:port]`` or base URLs) fetched besides the suite's
                                 own services (``SERVICE_URLS``) and the overrides' targets:
                                 status lists, did:web, wallet links and flist URLs
``FETCH_PUBLIC``                 fetch other public hosts too (default False; private, loopback
                                 and link-local addresses stay refused unless allow-listed)
``VERIFIER_STATUS_FEED``         follow the revocation service's change feed (default True when
                                 ``SERVICE_URLS`` names the revocation service)
``VERIFIER_INSTANCE``            a ready :class:`~verifier.engine.Verifier` (tests)
``VERIFIER_CLOCK``               the status-list cache's monotonic clock (tests advance one
                                 past the cache's lifetime instead of sleeping through it)
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.endpoints import attach_agent
from credgate.web import create_service_app, on_shutdown
from gateway.vcapi import bp as vc_api
from gateway.wiring import init_gateway
from verifier.challenges import VC_API, ChallengeStore
from verifier.dids import DidResolver
from verifier.engine import ProofCache, Verifier
from verifier.fetch import fetch_policy
from verifier.status import ChangeFeed, StatusListCache
from verifier.trust import CombinedTrustRegistry, FileTrustRegistry
from verifier.trust_kcit import kcit_trust

DEFAULT_MAX_CONTENT_LENGTH = 256 * 1024


def build_verifier(app: Flask) -> Verifier:
    """The service's verifier, from the app config."""
    config = app.config
    trust = config.get("VERIFIER_TRUST")
    if trust is None:
        path = config.get("VERIFIER_TRUST_FILE") or (
            config["CREDGATE_SETTINGS"].var_dir / "verifier" / "trust.json"
        )
        trust = FileTrustRegistry(path)
        kcit_url = (config.get("SERVICE_URLS") or {}).get("kcit")
        if kcit_url and config.get("VERIFIER_KCIT_TRUST", True):
            # The suite's KCIT is the trust registry; the file adds the operator's own entries.
            kcit, feed = kcit_trust(kcit_url, follow=config.get("VERIFIER_STATUS_FEED", True))
            on_shutdown(app, feed.stop)
            trust = CombinedTrustRegistry(trust, kcit)
    verifier = Verifier(
        DidResolver(web_override=config.get("DID_WEB_OVERRIDE"), policy=fetch_policy(app)),
        trust=trust,
        # The VC-API's own challenges (POST /challenges); the gateway binds stores of its own.
        challenges=ChallengeStore(app.extensions["credgate.db"], VC_API),
        proof_cache=ProofCache(),
    )
    verifier.status = StatusListCache(
        verifier.verify_status_list,
        url_override=config.get("STATUS_URL_OVERRIDE"),
        policy=fetch_policy(app),
        clock=config.get("VERIFIER_CLOCK", time.monotonic),
    )
    revocation_url = (config.get("SERVICE_URLS") or {}).get("revocation")
    if revocation_url and config.get("VERIFIER_STATUS_FEED", True):
        feed = app.extensions["credgate.status_feed"] = ChangeFeed(revocation_url, verifier.status)
        on_shutdown(app, feed.start().stop)
    return verifier


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    app = create_service_app("verifier", config=config)
    app.config["MAX_CONTENT_LENGTH"] = app.config.get(
        "VERIFIER_MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH
    )
    attach_agent(app, "verifier")
    verifier = app.config.get("VERIFIER_INSTANCE") or build_verifier(app)
    app.extensions["credgate.verifier"] = verifier
    app.register_blueprint(vc_api)
    init_gateway(app, verifier)
    return app
