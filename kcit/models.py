"""Tables of KCIT: companies, their DIDs, accreditations, the change history and the change feed.

A company is the registry record (legal name, registration numbers, where it is, who represents
it, how sure we are of it, and whether it is identified). Its DIDs are rows of their own so that a
DID names exactly one company (unique) and a company may have several: the DID its representative
declared at self-registration and the one its depute tenant signs with. Every change to a company
or an accreditation writes a :class:`CompanyEvent` (the full history) in the same transaction;
every change a verifier must act on also writes a :class:`KcitChange` (the change feed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.changelog import ChangeRow, HeadRow
from credgate.db import (
    Actor,
    Base,
    CompanyId,
    CountryCode,
    Did,
    LongUri,
    Sha256Hex,
    Str16,
    Str20,
    Str40,
    Str80,
    Str100,
    Str300,
    SubdivisionCode,
    Timestamps,
    WrittenAt,
)

PENDING = "pending"
IDENTIFIED = "identified"
SUSPENDED = "suspended"
REMOVED = "removed"
STATUSES = (PENDING, IDENTIFIED, SUSPENDED, REMOVED)

SELF_REGISTRATION = "self-registration"
VERIFIED = "verified"
LEVELS = (SELF_REGISTRATION, VERIFIED)

DID_DECLARED = "declared"  # given by the representative at registration (or by an admin)
DID_DEPUTE = "depute"  # created for the company on the issuer agent by depute
DID_ORIGINS = (DID_DECLARED, DID_DEPUTE)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Company(Timestamps, Base):
    __tablename__ = "kcit_companies"
    __table_args__ = (
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("level_of_assurance", LEVELS), name="level_of_assurance"),
    )

    id: Mapped[CompanyId] = mapped_column(primary_key=True)
    legal_name: Mapped[Str300]
    vat_id: Mapped[Str40 | None] = mapped_column(index=True)
    lei: Mapped[Str20 | None] = mapped_column(index=True)
    euid: Mapped[Str80 | None]
    national_id: Mapped[Str80 | None]
    country: Mapped[CountryCode]
    subdivision: Mapped[SubdivisionCode | None]
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    # [{"name", "email", "title"?}]; the first is the one depute offers the first admin mandate.
    representatives: Mapped[list[dict[str, Any]]] = mapped_column(default=list)
    level_of_assurance: Mapped[Str20] = mapped_column(default=SELF_REGISTRATION)
    status: Mapped[Str16] = mapped_column(default=PENDING)
    roles: Mapped[list[str]] = mapped_column(default=list)  # data-space roles
    powers: Mapped[list[str]] = mapped_column(default=list)  # "app:action" it may delegate
    # SHA-256 of the capability the registrant got to follow its registration (never the value).
    follow_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    # What depute reports back after provisioning (the admin mandate's invitation and so on).
    provisioning: Mapped[dict[str, Any] | None]
    version: Mapped[int] = mapped_column(default=1)


class CompanyDid(Base):
    __tablename__ = "kcit_dids"
    __table_args__ = (CheckConstraint(_one_of("origin", DID_ORIGINS), name="origin"),)

    did: Mapped[Did] = mapped_column(primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("kcit_companies.id"), index=True)
    origin: Mapped[Str16]
    key_id: Mapped[LongUri | None]  # the declared key
    created_at: Mapped[WrittenAt]


class Accreditation(Base):
    """A DID may issue a credential type (e.g. a certifier's SoftwareCertificationCredential)."""

    __tablename__ = "kcit_accreditations"
    __table_args__ = (UniqueConstraint("did", "credential_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    did: Mapped[Did] = mapped_column(index=True)
    credential_type: Mapped[Str100]
    active: Mapped[bool] = mapped_column(default=True)
    granted_by: Mapped[Actor]
    granted_at: Mapped[WrittenAt]
    withdrawn_at: Mapped[datetime | None]


class CompanyEvent(Base):
    """One entry of the change history: who did what, when, why, and which fields changed."""

    __tablename__ = "kcit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[CompanyId | None] = mapped_column(index=True)
    did: Mapped[Did | None] = mapped_column(index=True)
    action: Mapped[Str40]
    actor: Mapped[Actor]
    reason: Mapped[str] = mapped_column(default="")
    changes: Mapped[dict[str, Any]] = mapped_column(default=dict)  # field -> [old, new]
    at: Mapped[WrittenAt]


class KcitFeedHead(HeadRow, Base):
    """The change feed's head row (see :mod:`credgate.changelog`)."""

    __tablename__ = "kcit_feed_head"


class KcitChange(ChangeRow, Base):
    """What a verifier's cache must drop: the trust facts of ``did`` changed (now ``status``)."""

    __tablename__ = "kcit_changes"

    did: Mapped[Did | None]
    company_id: Mapped[CompanyId | None]
    status: Mapped[Str16]  # active | suspended | unknown
