"""What depute's services need, gathered once per app, and its tunables.

Depute issues through the issuer's services in-process (:mod:`issuer.exchanges`): the exchange
rows, status indices and the lifecycle that lets the agent sign are the issuer's, followed by the
issuer service's watcher like any other exchange. Depute's own invitations get their own lifetime.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from agents.hub import WebhookHub
from issuer.context import DEFAULTS as ISSUER_DEFAULTS
from issuer.context import IssuerContext
from issuer.context import build_context as build_issuer_context
from kcit.context import power_catalogue

DEFAULTS: dict[str, Any] = {
    # Powers admins delegate from; None: KCIT's catalogue (the suite's APP_POWERS, what the
    # registered apps declare).
    "DEPUTE_POWERS": None,
    "DEPUTE_INVITATION_TTL": 24 * 3600,  # seconds an employee's invitation stays open
    "DEPUTE_BOOTSTRAP_TTL": 3 * 24 * 3600,  # ... and the representative's first admin mandate
    "DEPUTE_VALIDITY_DAYS": 365,  # a mandate's default life span
    "DEPUTE_MAX_VALIDITY_DAYS": 3 * 365,
    "DEPUTE_SESSION_TTL": 8 * 3600,  # seconds a company admin stays signed in (at most)
    "DEPUTE_PROVISION": True,  # follow KCIT and provision every identified company
    "DEPUTE_WALLET_TIMEOUT": 20.0,  # seconds the company wallet waits for each DIDComm step
    "DEPUTE_SWEEP_INTERVAL": 30.0,  # seconds between retries of failed provisioning
}

ADMIN_POWER = "depute:admin"


@dataclass
class DeputeContext:
    factory: sessionmaker[Session]
    issuer: IssuerContext  # for employees' invitations
    bootstrap_issuer: IssuerContext  # the same, with the first admin mandate's longer lifetime
    hub: WebhookHub | None
    powers: tuple[str, ...]
    validity: timedelta
    max_validity: timedelta
    session_ttl: timedelta
    wallet_timeout: float
    sweep_interval: float
    did_web_override: Mapping[str, str] | None = None

    @property
    def agent(self) -> AdminClient | None:
        return self.issuer.agent


def build_context(
    config: Mapping[str, Any], factory: sessionmaker[Session], agent: AdminClient | None
) -> DeputeContext:
    issuer_config = {**ISSUER_DEFAULTS, **{k: v for k, v in config.items() if k != "PUBLIC_URL"}}
    issuer_config["ISSUER_INVITATION_TTL"] = config["DEPUTE_INVITATION_TTL"]
    issuer = build_issuer_context(issuer_config, factory, agent)
    # Holders fetch invitations from the issuer service's short links (/i/<id>).
    issuer.public_url = config.get("ISSUER_PUBLIC_URL") or issuer.service_urls.get("issuer")
    bootstrap_settings = dataclasses.replace(
        issuer.settings, invitation_ttl=timedelta(seconds=float(config["DEPUTE_BOOTSTRAP_TTL"]))
    )
    return DeputeContext(
        factory=factory,
        issuer=issuer,
        bootstrap_issuer=dataclasses.replace(issuer, settings=bootstrap_settings),
        hub=config.get("WEBHOOK_HUB"),
        powers=tuple(config.get("DEPUTE_POWERS") or power_catalogue(config)),
        validity=timedelta(days=float(config["DEPUTE_VALIDITY_DAYS"])),
        max_validity=timedelta(days=float(config["DEPUTE_MAX_VALIDITY_DAYS"])),
        session_ttl=timedelta(seconds=float(config["DEPUTE_SESSION_TTL"])),
        wallet_timeout=float(config["DEPUTE_WALLET_TIMEOUT"]),
        sweep_interval=float(config["DEPUTE_SWEEP_INTERVAL"]),
        did_web_override=config.get("DID_WEB_OVERRIDE"),
    )


def depute_context() -> DeputeContext:
    return current_app.extensions["depute"]
