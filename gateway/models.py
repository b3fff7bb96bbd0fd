"""Tables of the gateway: grants (what a verified presentation allows, for a token or a browser
session), QR logins, company credentials (roles an attorney's company holds) and the audit log
of every decision.

Everything a request needs to be judged lives here, not in a worker's memory, so that several
gateway workers agree (any may take the next request); workers only cache what cannot change
(a grant's credentials).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow


class Grant(Base):
    """A verified presentation turned into access: the holder DID and the credentials it carried
    (their status entries are re-checked on every request). A browser session is a grant with a
    ``session_hash`` (sha256 of the cookie's secret); a token names its grant in the JWT."""

    __tablename__ = "gateway_grants"
    __table_args__ = (Index("ix_gateway_grants_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # token | session
    holder: Mapped[str] = mapped_column(String(500))
    credentials: Mapped[list[Any]] = mapped_column(JSON)
    credential_ids: Mapped[list[str]] = mapped_column(JSON)
    status_entries: Mapped[list[str]] = mapped_column(JSON)
    portal: Mapped[str | None] = mapped_column(String(64), default=None)
    session_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class Login(Base):
    """One QR login: the invitation the page shows, and where the holder got to."""

    __tablename__ = "gateway_logins"
    __table_args__ = (Index("ix_gateway_logins_expires_at", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    portal: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change (SSE id)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    challenge: Mapped[str] = mapped_column(String(64))
    domain: Mapped[str | None] = mapped_column(String(500), default=None)
    pres_ex_id: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    thread_id: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    invitation: Mapped[dict[str, Any]] = mapped_column(JSON)
    browser_hash: Mapped[str] = mapped_column(String(64))
    next_url: Mapped[str | None] = mapped_column(String(500), default=None)
    holder: Mapped[str | None] = mapped_column(String(500), default=None)
    grant_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    scanned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    session_opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CompanyCredential(Base):
    """A credential about a company (its RoleCredential), registered so that an attorney acting
    for the company can use the company's roles. Re-checked (status, trust, validity) on use."""

    __tablename__ = "gateway_company_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[str] = mapped_column(String(500), index=True)
    credential_id: Mapped[str] = mapped_column(String(500), unique=True)
    credential: Mapped[dict[str, Any]] = mapped_column(JSON)
    registered_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Decision(Base):
    """The audit log: one row per decision the gateway took (route access, token, login)."""

    __tablename__ = "gateway_decisions"
    __table_args__ = (
        Index("ix_gateway_decisions_at", "at"),
        Index("ix_gateway_decisions_holder", "holder"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    holder: Mapped[str | None] = mapped_column(String(500), default=None)
    acting_for: Mapped[str | None] = mapped_column(String(500), default=None)
    via: Mapped[str] = mapped_column(String(16))  # token | session | login | anonymous
    method: Mapped[str] = mapped_column(String(8))
    route: Mapped[str] = mapped_column(String(500))
    requirement: Mapped[str] = mapped_column(String(500))
    allow: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(64), default=None)
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    credentials: Mapped[list[str]] = mapped_column(JSON, default=list)


class Handoff(Base):
    """A QR login done for another service of the suite (depute, an admin page): where to send
    the browser back, and the one-time code that service redeems, server to server, for the
    login's grant."""

    __tablename__ = "gateway_handoffs"

    login_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(200))
    code_challenge: Mapped[str] = mapped_column(String(128))  # PKCE S256 (RFC 7636)
    code_hash: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    grant_id: Mapped[str | None] = mapped_column(String(32), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
