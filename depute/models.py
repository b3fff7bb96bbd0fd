"""Tables of depute: the company wallets it provisioned, the authorisations (Attorney credentials)
company admins gave, signed-in admins, and the audit log.

An authorisation points at the issuer's issuance record (the credential, its exchange and its
status entry): issuance state lives there and revocation state in the status entry, so depute
never keeps a second copy that could disagree. The audit log is append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow

PROVISIONING = "provisioning"
READY = "ready"
FAILED = "failed"


class DeputeCompany(Base):
    """A KCIT company's wallet on the issuer agent (its tenant), and how provisioning went."""

    __tablename__ = "depute_companies"

    company_id: Mapped[str] = mapped_column(String(40), primary_key=True)  # the KCIT record id
    tenant: Mapped[str] = mapped_column(String(200))
    did: Mapped[str | None] = mapped_column(String(500), default=None)
    state: Mapped[str] = mapped_column(String(16), default=PROVISIONING)
    onboarding_exchange_id: Mapped[str | None] = mapped_column(String(36), default=None)
    onboarding_state: Mapped[str | None] = mapped_column(String(20), default=None)
    admin_authorisation_id: Mapped[str | None] = mapped_column(String(36), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Authorisation(Base):
    """One mandate: an employee (mandatee) may act for the company with these powers."""

    __tablename__ = "depute_authorisations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(40), index=True)
    mandatee_name: Mapped[str] = mapped_column(String(200))
    mandatee_email: Mapped[str] = mapped_column(String(254))
    powers: Mapped[list[str]] = mapped_column(JSON)  # "app:action"
    signer: Mapped[dict[str, Any]] = mapped_column(JSON)  # who authorised it
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    record_id: Mapped[str] = mapped_column(String(36), unique=True)  # issuer_credentials.id
    credential_id: Mapped[str] = mapped_column(String(500))
    exchange_id: Mapped[str] = mapped_column(String(36))
    status_entry_id: Mapped[int] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdminSession(Base):
    """A company admin signed in with an Attorney credential granting ``depute:admin``; every
    request re-checks that credential's status entry and the company's KCIT status."""

    __tablename__ = "depute_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(40))
    holder_did: Mapped[str] = mapped_column(String(500))
    name: Mapped[str] = mapped_column(String(200))
    credential_id: Mapped[str] = mapped_column(String(500))
    status_list_url: Mapped[str | None] = mapped_column(String(600), default=None)
    status_index: Mapped[int | None] = mapped_column(default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class AuditEvent(Base):
    __tablename__ = "depute_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[str] = mapped_column(String(40), index=True)
    authorisation_id: Mapped[str | None] = mapped_column(String(36), default=None)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
