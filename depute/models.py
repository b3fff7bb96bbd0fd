"""Tables of depute: the company wallets it provisioned, the authorisations (Attorney credentials)
company admins gave, signed-in admins, and the audit log.

An authorisation points at the issuer's issuance record (the credential, its exchange and its
status entry): issuance state lives there and revocation state in the status entry, so depute
never keeps a second copy that could disagree. The audit log is append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import (
    Actor,
    Base,
    CompanyId,
    Did,
    Email,
    Id36,
    LongUri,
    Name,
    Sha256Hex,
    Str16,
    Str20,
    Str40,
    Timestamps,
    Uri,
    WrittenAt,
)

PROVISIONING = "provisioning"
READY = "ready"
FAILED = "failed"


class DeputeCompany(Timestamps, Base):
    """A KCIT company's wallet on the issuer agent (its tenant), and how provisioning went."""

    __tablename__ = "depute_companies"

    company_id: Mapped[CompanyId] = mapped_column(primary_key=True)  # the KCIT record id
    tenant: Mapped[Name]
    did: Mapped[Did | None]
    state: Mapped[Str16] = mapped_column(default=PROVISIONING)
    onboarding_exchange_id: Mapped[Id36 | None]
    onboarding_state: Mapped[Str20 | None]
    admin_authorisation_id: Mapped[Id36 | None]
    error: Mapped[str | None]
    attempts: Mapped[int] = mapped_column(default=0)


class Authorisation(Base):
    """One mandate: an employee (mandatee) may act for the company with these powers."""

    __tablename__ = "depute_authorisations"

    id: Mapped[Id36] = mapped_column(primary_key=True)
    company_id: Mapped[CompanyId] = mapped_column(index=True)
    mandatee_name: Mapped[Name]
    mandatee_email: Mapped[Email]
    powers: Mapped[list[str]]  # "app:action"
    signer: Mapped[dict[str, Any]]  # who authorised it
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    record_id: Mapped[Id36] = mapped_column(unique=True)  # issuer_credentials.id
    credential_id: Mapped[Uri]
    exchange_id: Mapped[Id36]
    status_entry_id: Mapped[int]
    created_by: Mapped[Actor]
    created_at: Mapped[WrittenAt]


class AdminSession(Base):
    """A company admin signed in with an Attorney credential granting ``depute:admin``; every
    request re-checks that credential's status entry and the company's KCIT status."""

    __tablename__ = "depute_sessions"

    token_hash: Mapped[Sha256Hex] = mapped_column(primary_key=True)
    company_id: Mapped[CompanyId]
    holder_did: Mapped[Did]
    name: Mapped[Name]
    credential_id: Mapped[Uri]
    status_list_url: Mapped[LongUri | None]
    status_index: Mapped[int | None]
    expires_at: Mapped[datetime]
    created_at: Mapped[WrittenAt]
    ended_at: Mapped[datetime | None]


class AuditEvent(Base):
    __tablename__ = "depute_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[CompanyId] = mapped_column(index=True)
    authorisation_id: Mapped[Id36 | None]
    action: Mapped[Str40]
    actor: Mapped[Actor]
    reason: Mapped[str] = mapped_column(default="")
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    at: Mapped[WrittenAt]
