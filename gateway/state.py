"""The gateway's parts, one set per Flask app (``app.extensions["credgate.gateway"]``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy.orm import Session, sessionmaker

from gateway.audit import AuditLog
from gateway.company import CompanyRegistry
from gateway.grants import GrantStore
from gateway.tokens import TokenService
from verifier.engine import Verifier

if TYPE_CHECKING:
    from gateway.handoff import HandoffService
    from gateway.logins import LoginService
    from gateway.plugin import GatewayApp

EXTENSION = "credgate.gateway"


@dataclass
class Gateway:
    factory: sessionmaker[Session]
    verifier: Verifier
    grants: GrantStore
    tokens: TokenService
    audit: AuditLog
    companies: CompanyRegistry
    domain: str
    logins: LoginService | None = None
    handoffs: HandoffService | None = None
    apps: dict[str, GatewayApp] = field(default_factory=dict)
    mounted_blueprints: frozenset[str] = frozenset()


def gateway() -> Gateway:
    return current_app.extensions[EXTENSION]
