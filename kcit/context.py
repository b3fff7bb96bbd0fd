"""What KCIT's services need, gathered once per app, and its tunables."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from agents.tenants import tenant_did
from kcit.dids import resolver_from_config
from verifier.dids import DidResolver

#: Powers a company gets on approval when the admin names none (``app:action``). The catalogue an
#: admin grants powers from is what the registered apps declare, which the suite hands every
#: service as ``APP_POWERS`` (KCIT sits below the gateway and cannot ask it); ``KCIT_POWERS``
#: overrides it, and a KCIT run on its own grants from these.
DEFAULT_POWERS = (
    "catalogue:read",
    "catalogue:publish",
    "marketplace:read",
    "marketplace:purchase",
    "compute:run",
    "depute:admin",
)

DEFAULTS: dict[str, Any] = {
    "KCIT_POWERS": None,  # None: APP_POWERS, else DEFAULT_POWERS
    # Powers a company gets on approval when the admin names none.
    "KCIT_DEFAULT_POWERS": DEFAULT_POWERS,
    # The onboarding authority's DID; by default the issuer agent's authority tenant.
    "KCIT_ONBOARDING_AUTHORITY": None,
    "KCIT_AUTHORITY_TENANT": "onboarding-authority",
    "KCIT_MAX_WAIT": 25.0,  # seconds a change-feed long poll may wait
    # The pages' cookie: its own name, as every service of the suite shares the host.
}


@dataclass
class KcitContext:
    factory: sessionmaker[Session]
    resolver: DidResolver
    powers: tuple[str, ...]
    default_powers: tuple[str, ...]
    authority_did: str | None
    authority_tenant: str
    max_wait: float
    service_urls: Mapping[str, str]

    def onboarding_authority(self) -> str | None:
        """The configured DID, else the issuer agent's authority tenant (once it exists)."""
        if self.authority_did:
            return self.authority_did
        did = tenant_did(self.factory, "issuer", self.authority_tenant)
        if did:
            self.authority_did = did  # a tenant's DID never changes
        return did


def power_catalogue(config: Mapping[str, Any]) -> tuple[str, ...]:
    """The powers companies may be granted: ``KCIT_POWERS``, else the suite's ``APP_POWERS``."""
    return tuple(config.get("KCIT_POWERS") or config.get("APP_POWERS") or DEFAULT_POWERS)


def build_context(config: Mapping[str, Any], factory: sessionmaker[Session]) -> KcitContext:
    return KcitContext(
        factory=factory,
        resolver=resolver_from_config(config),
        powers=power_catalogue(config),
        default_powers=tuple(config["KCIT_DEFAULT_POWERS"]),
        authority_did=config.get("KCIT_ONBOARDING_AUTHORITY"),
        authority_tenant=config["KCIT_AUTHORITY_TENANT"],
        max_wait=float(config["KCIT_MAX_WAIT"]),
        service_urls=dict(config.get("SERVICE_URLS") or {}),
    )


def kcit_context() -> KcitContext:
    return current_app.extensions["kcit"]
