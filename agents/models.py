"""Tables of the agents package: the tenant wallets we created on each multitenant agent, and
the agents' webhooks as service nodes share them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow


class Tenant(Base):
    """A sub-wallet on a multitenant agent (an issuer, a company, a certifier, a wallet user)."""

    __tablename__ = "agent_tenants"
    __table_args__ = (UniqueConstraint("agent", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    wallet_id: Mapped[str] = mapped_column(String(64), unique=True)
    did: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StoredWebhook(Base):
    """An agent's webhook, kept for a while so that a waiter on any node sees it, whichever node
    the agent posted it to (service nodes; the embedded suite keeps them in memory)."""

    __tablename__ = "agent_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(100))
    wallet_id: Mapped[str | None] = mapped_column(String(64), default=None)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
