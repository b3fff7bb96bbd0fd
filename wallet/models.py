"""Tables of the wallet service: wallet users, their interactions, the issuers they trust.

Credentials themselves live in the holder agent (each wallet user is a tenant there); the wallet
keeps what the agent does not: who the user is (name, PIN hash), what was asked of them and what
they decided (history), and which issuers they chose to trust.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import (
    AgentRecordId,
    Base,
    Did,
    Id32,
    Name,
    Str16,
    Str32,
    Str64,
    Str200,
    Timestamps,
    WrittenAt,
)

# Interaction kinds
OFFER = "credential-offer"
REQUEST = "proof-request"
CONNECTION = "connection"
PRESENTATION = "presentation"  # signed over an API's challenge (wallet/presentations.py)

# Interaction states: pending until the user decides; working while the agent exchange runs
# (claimed, so two clicks cannot accept one offer twice); then one of the final states.
PENDING = "pending"
WORKING = "working"
DONE = "done"
DECLINED = "declined"
FAILED = "failed"
FINAL_STATES = frozenset({DONE, DECLINED, FAILED})


class WalletUser(Base):
    """One wallet: a tenant on the holder agent with its own did:key."""

    __tablename__ = "wallet_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Str64] = mapped_column(unique=True)
    tenant: Mapped[Name]  # agent_tenants.name on the holder agent
    wallet_id: Mapped[AgentRecordId]  # the agent's tenant wallet id
    did: Mapped[Did]
    pin_hash: Mapped[Str200 | None]
    # Wrong PINs in a row, and until when the web screen refuses to try another (a 4-digit PIN
    # is guessed in minutes otherwise).
    failed_pins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    created_at: Mapped[WrittenAt]


class Interaction(Timestamps, Base):
    """Something a counterparty asked of the wallet: an offer, a proof request, a connection."""

    __tablename__ = "wallet_interactions"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "record_id"),
        Index("ix_wallet_interactions_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[Id32] = mapped_column(primary_key=True)  # public, in URLs
    user_id: Mapped[int] = mapped_column(ForeignKey("wallet_users.id", ondelete="CASCADE"))
    kind: Mapped[Str32]
    record_id: Mapped[AgentRecordId]  # cred_ex_id / pres_ex_id / connection_id
    thread_id: Mapped[Str200 | None]
    state: Mapped[Str16] = mapped_column(default=PENDING)
    counterparty: Mapped[Name | None]  # their label
    counterparty_did: Mapped[Did | None]
    # What was asked (offered credential, presentation definition) and what came of it.
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outcome: Mapped[dict[str, Any]] = mapped_column(default=dict)
    detail: Mapped[str | None]


class TrustedIssuer(Base):
    """An issuer DID this wallet's user chose to trust (accepted an offer from it)."""

    __tablename__ = "wallet_trusted_issuers"
    __table_args__ = (UniqueConstraint("user_id", "did"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wallet_users.id", ondelete="CASCADE"))
    did: Mapped[Did]
    label: Mapped[Name | None]
    created_at: Mapped[WrittenAt]
