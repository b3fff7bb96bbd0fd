"""Tables of the agents package: the tenant wallets we created on each multitenant agent, and
the agents' webhooks as service nodes share them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import AgentRecordId, Base, Did, Name, Str32, Str64, Str100, WrittenAt


class Tenant(Base):
    """A sub-wallet on a multitenant agent (an issuer, a company, a certifier, a wallet user)."""

    __tablename__ = "agent_tenants"
    __table_args__ = (UniqueConstraint("agent", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[Str32]
    name: Mapped[Name]
    wallet_id: Mapped[AgentRecordId] = mapped_column(unique=True)
    did: Mapped[Did | None]
    created_at: Mapped[WrittenAt]


class StoredWebhook(Base):
    """An agent's webhook, kept for a while so that a waiter on any node sees it, whichever node
    the agent posted it to (service nodes; the embedded suite keeps them in memory)."""

    __tablename__ = "agent_webhook_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    agent: Mapped[Str64]
    topic: Mapped[Str100]
    wallet_id: Mapped[AgentRecordId | None]
    payload: Mapped[dict[str, Any]]
    received_at: Mapped[WrittenAt] = mapped_column(index=True)
