"""What the issuer's services depend on, gathered once per app: database, agent, tenants, knobs.

Services take an :class:`IssuerContext` instead of reaching for Flask globals, so that the
webhook worker, the sweeper, benchmarks and tests call them the same way the routes do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer.tenants import TenantDirectory
from verifier.fetch import FetchPolicy, policy_from_config
from verifier.trust_kcit import KcitTrustRegistry

#: App-config keys the issuer reads, with their defaults (a deployment or a test may override).
DEFAULTS: dict[str, Any] = {
    "ISSUER_AUTHORITY_TENANT": "onboarding-authority",
    "ISSUER_INVITATION_TTL": 600,  # seconds an invitation (and its exchange) stays open
    "ISSUER_HANDSHAKE": False,  # single-credential offers travel connectionless unless set
    "ISSUER_FLIST_MAX_BYTES": 16 * 1024 * 1024,
    "ISSUER_FLIST_TIMEOUT": 30.0,  # seconds for a whole flist download
    "ISSUER_ONBOARDING_VALIDITY_DAYS": 730,
    "ISSUER_ROLE_VALIDITY_DAYS": 365,
    "ISSUER_CERTIFICATION_VALIDITY_DAYS": 365,
    "ISSUER_SWEEP_INTERVAL": 2.0,  # seconds between sweeps of overdue and stuck exchanges
    "ISSUER_RECONCILE_AFTER": 10.0,  # seconds without a webhook before we ask the agent
    "ISSUER_WORKERS": 4,  # threads that act on webhooks
    "OID4VCI_ISSUER_NAME": "credgate onboarding authority",  # display name in the metadata
}


@dataclass(frozen=True)
class IssuerSettings:
    invitation_ttl: timedelta
    handshake: bool
    flist_max_bytes: int
    flist_timeout: float
    onboarding_validity: timedelta
    role_validity: timedelta
    certification_validity: timedelta
    sweep_interval: float
    reconcile_after: timedelta
    workers: int

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> IssuerSettings:
        def days(key: str) -> timedelta:
            return timedelta(days=float(config[key]))

        return cls(
            invitation_ttl=timedelta(seconds=float(config["ISSUER_INVITATION_TTL"])),
            handshake=bool(config["ISSUER_HANDSHAKE"]),
            flist_max_bytes=int(config["ISSUER_FLIST_MAX_BYTES"]),
            flist_timeout=float(config["ISSUER_FLIST_TIMEOUT"]),
            onboarding_validity=days("ISSUER_ONBOARDING_VALIDITY_DAYS"),
            role_validity=days("ISSUER_ROLE_VALIDITY_DAYS"),
            certification_validity=days("ISSUER_CERTIFICATION_VALIDITY_DAYS"),
            sweep_interval=float(config["ISSUER_SWEEP_INTERVAL"]),
            reconcile_after=timedelta(seconds=float(config["ISSUER_RECONCILE_AFTER"])),
            workers=max(1, int(config["ISSUER_WORKERS"])),
        )


@dataclass
class IssuerContext:
    factory: sessionmaker[Session]
    agent: AdminClient | None
    tenants: TenantDirectory
    settings: IssuerSettings
    service_urls: Mapping[str, str]
    public_url: str | None  # where holders reach this service (short links)
    # Which hosts flist URLs may name (the suite's services and FETCH_ALLOW; FETCH_PUBLIC).
    fetch_policy: FetchPolicy = field(default_factory=FetchPolicy)
    # KCIT's trust API: who is accredited to certify. No cache: asked afresh before each signing.
    kcit: KcitTrustRegistry | None = None

    @property
    def status_base_url(self) -> str:
        url = self.service_urls.get("revocation")
        if not url:
            raise DomainError(
                ProblemType.STATUS_SERVICE_UNKNOWN,
                "the issuer does not know the revocation service's URL (SERVICE_URLS)",
            )
        return url


def build_context(
    config: Mapping[str, Any], factory: sessionmaker[Session], agent: AdminClient | None
) -> IssuerContext:
    settings = IssuerSettings.from_config(config)
    service_urls = dict(config.get("SERVICE_URLS") or {})
    return IssuerContext(
        factory=factory,
        agent=agent,
        tenants=TenantDirectory(factory, agent, config["ISSUER_AUTHORITY_TENANT"]),
        settings=settings,
        service_urls=service_urls,
        public_url=config.get("PUBLIC_URL") or service_urls.get("issuer"),
        fetch_policy=policy_from_config(config),
        kcit=KcitTrustRegistry(service_urls["kcit"], short_ttl=0.0)
        if "kcit" in service_urls
        else None,
    )


def issuer_context() -> IssuerContext:
    return current_app.extensions["issuer"]
