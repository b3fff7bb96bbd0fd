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

from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import (
    Actor,
    AgentRecordId,
    Base,
    Did,
    Id32,
    Sha256Hex,
    Str8,
    Str16,
    Str64,
    Str128,
    Str200,
    Str500,
    Uri,
    WrittenAt,
)


class Grant(Base):
    """A verified presentation turned into access: the holder DID and the credentials it carried
    (their status entries are re-checked on every request). A browser session is a grant with a
    ``session_hash`` (sha256 of the cookie's secret); a token names its grant in the JWT."""

    __tablename__ = "gateway_grants"

    id: Mapped[Id32] = mapped_column(primary_key=True)
    kind: Mapped[Str16]  # token | session
    holder: Mapped[Did]
    credentials: Mapped[list[Any]]
    credential_ids: Mapped[list[str]]
    status_entries: Mapped[list[str]]
    portal: Mapped[Str64 | None]
    session_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    created_at: Mapped[WrittenAt]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    ended_at: Mapped[datetime | None]


class Login(Base):
    """One QR login: the invitation the page shows, and where the holder got to."""

    __tablename__ = "gateway_logins"

    id: Mapped[Id32] = mapped_column(primary_key=True)
    portal: Mapped[Str64]
    state: Mapped[Str16] = mapped_column(default="pending")
    version: Mapped[int] = mapped_column(default=1)  # bumped on every change (SSE id)
    reason: Mapped[str | None]
    challenge: Mapped[Str64]
    domain: Mapped[Uri | None]
    pres_ex_id: Mapped[AgentRecordId | None] = mapped_column(unique=True)
    thread_id: Mapped[AgentRecordId | None] = mapped_column(index=True)
    invitation: Mapped[dict[str, Any]]
    browser_hash: Mapped[Sha256Hex]
    next_url: Mapped[Uri | None]
    holder: Mapped[Did | None]
    grant_id: Mapped[Id32 | None]
    created_at: Mapped[WrittenAt]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    scanned_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    session_opened_at: Mapped[datetime | None]


class CompanyCredential(Base):
    """A credential about a company (its RoleCredential), registered so that an attorney acting
    for the company can use the company's roles. Re-checked (status, trust, validity) on use."""

    __tablename__ = "gateway_company_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    company: Mapped[Did] = mapped_column(index=True)
    credential_id: Mapped[Uri] = mapped_column(unique=True)
    credential: Mapped[dict[str, Any]]
    registered_by: Mapped[Actor]
    created_at: Mapped[WrittenAt]


class Decision(Base):
    """The audit log: one row per decision the gateway took (route access, token, login)."""

    __tablename__ = "gateway_decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[WrittenAt] = mapped_column(index=True)
    holder: Mapped[Did | None] = mapped_column(index=True)
    acting_for: Mapped[Did | None]
    via: Mapped[Str16]  # token | session | login | anonymous
    method: Mapped[Str8]
    route: Mapped[Str500]
    requirement: Mapped[Str500]
    allow: Mapped[bool]
    reason: Mapped[Str64 | None]
    detail: Mapped[str | None]
    credentials: Mapped[list[str]] = mapped_column(default=list)


class Handoff(Base):
    """A QR login done for another service of the suite (depute, an admin page): where to send
    the browser back, and the one-time code that service redeems, server to server, for the
    login's grant."""

    __tablename__ = "gateway_handoffs"

    login_id: Mapped[Id32] = mapped_column(primary_key=True)
    client: Mapped[Str64]
    redirect_uri: Mapped[Uri]
    state: Mapped[Str200]
    code_challenge: Mapped[Str128]  # PKCE S256 (RFC 7636)
    code_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    grant_id: Mapped[Id32 | None]
    created_at: Mapped[WrittenAt]
    code_expires_at: Mapped[datetime | None]
    redeemed_at: Mapped[datetime | None]
