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

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow

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


class Company(Base):
    __tablename__ = "kcit_companies"
    __table_args__ = (
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint(_one_of("level_of_assurance", LEVELS), name="level_of_assurance"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # "kcit-<hex>"
    legal_name: Mapped[str] = mapped_column(String(300))
    vat_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    lei: Mapped[str | None] = mapped_column(String(20), default=None, index=True)
    euid: Mapped[str | None] = mapped_column(String(80), default=None)
    national_id: Mapped[str | None] = mapped_column(String(80), default=None)
    country: Mapped[str] = mapped_column(String(2))
    subdivision: Mapped[str | None] = mapped_column(String(6), default=None)
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # [{"name", "email", "title"?}]; the first is the one depute offers the first admin mandate.
    representatives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    level_of_assurance: Mapped[str] = mapped_column(String(20), default=SELF_REGISTRATION)
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)  # data-space roles
    powers: Mapped[list[str]] = mapped_column(JSON, default=list)  # "app:action" it may delegate
    # SHA-256 of the capability the registrant got to follow its registration (never the value).
    follow_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    # What depute reports back after provisioning (the admin mandate's invitation and so on).
    provisioning: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CompanyDid(Base):
    __tablename__ = "kcit_dids"
    __table_args__ = (CheckConstraint(_one_of("origin", DID_ORIGINS), name="origin"),)

    did: Mapped[str] = mapped_column(String(500), primary_key=True)
    company_id: Mapped[str] = mapped_column(ForeignKey("kcit_companies.id"), index=True)
    origin: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[str | None] = mapped_column(String(600), default=None)  # the declared key
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Accreditation(Base):
    """A DID may issue a credential type (e.g. a certifier's SoftwareCertificationCredential)."""

    __tablename__ = "kcit_accreditations"
    __table_args__ = (UniqueConstraint("did", "credential_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    did: Mapped[str] = mapped_column(String(500), index=True)
    credential_type: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(default=True)
    granted_by: Mapped[str] = mapped_column(String(200))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class CompanyEvent(Base):
    """One entry of the change history: who did what, when, why, and which fields changed."""

    __tablename__ = "kcit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[str | None] = mapped_column(String(40), default=None, index=True)
    did: Mapped[str | None] = mapped_column(String(500), default=None, index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> [old, new]
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class KcitFeedHead(Base):
    """One row; writers increment ``last`` first thing in their transaction, so the row lock
    orders commits and readers never see a smaller sequence number arrive late."""

    __tablename__ = "kcit_feed_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class KcitChange(Base):
    """What a verifier's cache must drop: the trust facts of ``did`` changed (now ``status``)."""

    __tablename__ = "kcit_changes"

    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    did: Mapped[str | None] = mapped_column(String(500), default=None)
    company_id: Mapped[str | None] = mapped_column(String(40), default=None)
    status: Mapped[str] = mapped_column(String(16))  # active | suspended | unknown
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
