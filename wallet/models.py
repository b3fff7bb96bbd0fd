"""Tables of the wallet service: wallet users, their interactions, the issuers they trust.

Credentials themselves live in the holder agent (each wallet user is a tenant there); the wallet
keeps what the agent does not: who the user is (name, PIN hash), what was asked of them and what
they decided (history), and which issuers they chose to trust.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow

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
    name: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(200))  # agent_tenants.name on the holder agent
    wallet_id: Mapped[str] = mapped_column(String(64))  # the agent's tenant wallet id
    did: Mapped[str] = mapped_column(String(500))
    pin_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # Wrong PINs in a row, and until when the web screen refuses to try another (a 4-digit PIN
    # is guessed in minutes otherwise).
    failed_pins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Interaction(Base):
    """Something a counterparty asked of the wallet: an offer, a proof request, a connection."""

    __tablename__ = "wallet_interactions"
    __table_args__ = (
        UniqueConstraint("user_id", "kind", "record_id"),
        Index("ix_wallet_interactions_user_id_created_at", "user_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public, in URLs
    user_id: Mapped[int] = mapped_column(ForeignKey("wallet_users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[str] = mapped_column(String(64))  # cred_ex_id / pres_ex_id / connection_id
    thread_id: Mapped[str | None] = mapped_column(String(200), default=None)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    counterparty: Mapped[str | None] = mapped_column(String(200), default=None)  # their label
    counterparty_did: Mapped[str | None] = mapped_column(String(500), default=None)
    # What was asked (offered credential, presentation definition) and what came of it.
    request: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrustedIssuer(Base):
    """An issuer DID this wallet's user chose to trust (accepted an offer from it)."""

    __tablename__ = "wallet_trusted_issuers"
    __table_args__ = (UniqueConstraint("user_id", "did"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("wallet_users.id", ondelete="CASCADE"))
    did: Mapped[str] = mapped_column(String(500))
    label: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
