"""What the wallet's services work with, built once per app from its config.

Configuration (all optional):

``WALLET_TRUST``            a ready :class:`~verifier.trust.TrustRegistry` (tests, KCIT)
``WALLET_TRUST_FILE``       trust registry file (default: the verifier's,
                            ``<var>/verifier/trust.json``); the suite's own onboarding
                            authority (asked of its issuer service) is trusted besides
``STATUS_URL_OVERRIDE``     status-list URL prefix -> replacement prefix (loopback deployments)
``FETCH_ALLOW``             hosts whose links and status lists the wallet fetches, besides the
                            suite's own services (``FETCH_PUBLIC``: public hosts too)
``WALLET_SCAN_TIMEOUT``     seconds a scan waits for the attached offer/request (default 10)
``WALLET_EXCHANGE_TIMEOUT`` seconds an accept / present waits for the other side (default 20)
``WALLET_CLOCK``            the status-list cache's monotonic clock (tests advance one)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from flask import Flask, current_app
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from agents.hub import WebhookHub
from credgate.config import Settings
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from verifier.fetch import Fetcher, fetch_policy
from verifier.trust import CompanyStatus, FileTrustRegistry, TrustRegistry
from wallet.invitations import link_fetcher
from wallet.status import StatusChecker

EXTENSION = "wallet"


@dataclass
class WalletContext:
    settings: Settings
    factory: sessionmaker[Session]
    agent_client: AdminClient | None
    hub: WebhookHub | None
    trust: TrustRegistry
    status: StatusChecker
    scan_timeout: float = 10.0
    exchange_timeout: float = 20.0
    links: Fetcher | None = None  # opens scanned invitation links (None: opens none)

    @property
    def agent(self) -> AdminClient:
        if self.agent_client is None:
            raise DomainError(
                ProblemType.AGENT_UNAVAILABLE,
                "the holder agent is not running; start the suite with `credgate up`",
                title="Wallet agent unavailable",
            )
        return self.agent_client


class SuiteTrust:
    """The configured trust registry, plus the onboarding authority of the suite this wallet runs
    in (``GET <issuer>/issuer/did``), so that a fresh ``credgate up`` knows its own operator.
    The answer is cached; a failed lookup is retried after ``RETRY`` seconds, bounded by
    ``TIMEOUT`` each time."""

    RETRY = 30.0
    TIMEOUT = (1.0, 2.0)

    def __init__(self, base: TrustRegistry, issuer_url: str) -> None:
        self.base = base
        self.issuer_url = issuer_url.rstrip("/")
        self._authority: str | None = None
        self._next_try = 0.0
        self._lock = threading.Lock()

    def authority(self) -> str | None:
        with self._lock:
            if self._authority is None and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self.RETRY
                try:
                    response = requests.get(f"{self.issuer_url}/issuer/did", timeout=self.TIMEOUT)
                    did = response.json().get("did") if response.status_code == 200 else None
                    self._authority = did if isinstance(did, str) else None
                except (requests.RequestException, ValueError, AttributeError):
                    pass
            return self._authority

    def is_onboarding_authority(self, did: str) -> bool:
        return self.base.is_onboarding_authority(did) or (
            did is not None and did == self.authority()
        )

    def company_status(self, did: str) -> CompanyStatus:
        return self.base.company_status(did)

    def may_issue(self, did: str, credential_type: str) -> bool:
        return self.base.may_issue(did, credential_type)

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return self.base.status_list_signers(issuer)


def build_context(app: Flask) -> WalletContext:
    config: dict[str, Any] = app.config
    settings: Settings = config["CREDGATE_SETTINGS"]
    trust = config.get("WALLET_TRUST")
    if trust is None:
        path = config.get("WALLET_TRUST_FILE") or settings.var_dir / "verifier" / "trust.json"
        trust = FileTrustRegistry(path)
        issuer_url = (config.get("SERVICE_URLS") or {}).get("issuer")
        if issuer_url:
            trust = SuiteTrust(trust, issuer_url)
    return WalletContext(
        settings=settings,
        factory=app.extensions["credgate.db"],
        agent_client=app.extensions.get("credgate.agent"),
        hub=config.get("WEBHOOK_HUB"),
        trust=trust,
        status=StatusChecker(
            trust,
            url_override=config.get("STATUS_URL_OVERRIDE"),
            policy=fetch_policy(app),
            clock=config.get("WALLET_CLOCK", time.monotonic),
        ),
        links=link_fetcher(fetch_policy(app)),
        scan_timeout=float(config.get("WALLET_SCAN_TIMEOUT", 10.0)),
        exchange_timeout=float(config.get("WALLET_EXCHANGE_TIMEOUT", 20.0)),
    )


def wallet_context() -> WalletContext:
    return current_app.extensions[EXTENSION]
