"""KCIT's services: register, review, change and look up companies; accredit DIDs.

Every change is one transaction that also writes its history event and, when a verifier's view of
a DID changes (company status, powers, accreditations, a new DID), one change-feed entry per DID.
Status transitions (anything else is a 409 problem naming the current status)::

    pending    --approve-->   identified   (with a level of assurance, roles, delegable powers)
    identified --suspend-->   suspended    --reinstate--> identified
    any        --remove-->    removed      (final)

What the verifier sees of a DID (:func:`trust_facts`): ``active`` while its company is
identified, ``suspended`` while it is suspended or removed (KCIT still knows it, and says it is
not active), ``unknown`` for a pending company or a DID it does not know.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.hashing import hash_token
from credgate.problem_types import ProblemType
from kcit.feed import ChangeWriter
from kcit.models import (
    DID_DECLARED,
    IDENTIFIED,
    PENDING,
    REMOVED,
    SELF_REGISTRATION,
    STATUSES,
    SUSPENDED,
    Accreditation,
    Company,
    CompanyDid,
    CompanyEvent,
)
from kcit.validation import Registration, single

ACTIVE = "active"
INACTIVE = "suspended"
UNKNOWN = "unknown"
MAX_REASON = 1000

#: action -> (states it may start from, state it leads to)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "approve": ((PENDING,), IDENTIFIED),
    "suspend": ((IDENTIFIED,), SUSPENDED),
    "reinstate": ((SUSPENDED,), IDENTIFIED),
    "remove": ((PENDING, IDENTIFIED, SUSPENDED), REMOVED),
}

NUMBER_COLUMNS = (
    ("vatId", "vat_id"),
    ("lei", "lei"),
    ("euid", "euid"),
    ("nationalId", "national_id"),
)


def trust_status(company: Company | None) -> str:
    if company is None or company.status == PENDING:
        return UNKNOWN
    return ACTIVE if company.status == IDENTIFIED else INACTIVE


# -- reading -------------------------------------------------------------------------------------


def get_company(session: Session, company_id: str, *, for_update: bool = False) -> Company:
    query = select(Company).where(Company.id == company_id)
    if for_update:
        query = query.with_for_update()
    company = session.scalar(query)
    if company is None:
        raise DomainError(ProblemType.COMPANY_NOT_FOUND, f"no company {company_id!r}")
    return company


def company_of_did(session: Session, did: str) -> Company | None:
    return session.scalar(
        select(Company)
        .join(CompanyDid, CompanyDid.company_id == Company.id)
        .where(CompanyDid.did == did)
    )


def dids_of(session: Session, company_id: str) -> list[CompanyDid]:
    return list(
        session.scalars(
            select(CompanyDid)
            .where(CompanyDid.company_id == company_id)
            .order_by(CompanyDid.created_at, CompanyDid.did)
        )
    )


def by_follow_token(session: Session, token: str) -> Company:
    company = session.scalar(select(Company).where(Company.follow_hash == hash_token(token)))
    if company is None:
        raise DomainError(ProblemType.REGISTRATION_NOT_FOUND)
    return company


def find_companies(
    session: Session, *, status: str | None = None, query: str | None = None, limit: int = 100
) -> list[Company]:
    statement = select(Company)
    if status:
        if status not in STATUSES:
            raise single("status", "invalid-field", f"must be one of {', '.join(STATUSES)}", 400)
        statement = statement.where(Company.status == status)
    if query:
        like = f"%{query.lower()}%"
        # A subquery, not a join: no duplicate rows, so no DISTINCT (PostgreSQL has no equality
        # on the JSON columns DISTINCT would compare).
        by_did = select(CompanyDid.company_id).where(func.lower(CompanyDid.did).like(like))
        statement = statement.where(
            or_(
                func.lower(Company.legal_name).like(like),
                func.lower(Company.vat_id).like(like),
                func.lower(Company.lei).like(like),
                func.lower(Company.id).like(like),
                Company.id.in_(by_did),
            )
        )
    statement = statement.order_by(Company.created_at.desc(), Company.id).limit(limit)
    return list(session.scalars(statement))


def accreditations_of(session: Session, did: str) -> list[Accreditation]:
    return list(
        session.scalars(
            select(Accreditation)
            .where(Accreditation.did == did)
            .order_by(Accreditation.credential_type)
        )
    )


def all_accreditations(session: Session, *, active_only: bool = True) -> list[Accreditation]:
    statement = select(Accreditation).order_by(Accreditation.did, Accreditation.credential_type)
    if active_only:
        statement = statement.where(Accreditation.active)
    return list(session.scalars(statement))


def history(session: Session, company_id: str) -> list[CompanyEvent]:
    return list(
        session.scalars(
            select(CompanyEvent)
            .where(CompanyEvent.company_id == company_id)
            .order_by(CompanyEvent.at, CompanyEvent.id)
        )
    )


@dataclass(frozen=True)
class TrustFacts:
    did: str
    status: str
    company_id: str | None
    accreditations: tuple[str, ...]
    powers: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "did": self.did,
            "companyStatus": self.status,
            "company": self.company_id,
            "accreditations": list(self.accreditations),
            "powers": list(self.powers),
        }


def trust_facts(session: Session, did: str) -> TrustFacts:
    """What a verifier needs to know of ``did``, in one answer (the trust-registry interface)."""
    company = company_of_did(session, did)
    status = trust_status(company)
    accredited = tuple(
        a.credential_type
        for a in accreditations_of(session, did)
        # An accreditation of a company's DID counts only while the company is active.
        if a.active and (company is None or status == ACTIVE)
    )
    powers = tuple(company.powers) if company is not None and status == ACTIVE else ()
    return TrustFacts(did, status, company.id if company else None, accredited, powers)


# -- writing -------------------------------------------------------------------------------------


def _event(
    session: Session,
    action: str,
    actor: str,
    *,
    company_id: str | None = None,
    did: str | None = None,
    reason: str = "",
    changes: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        CompanyEvent(
            company_id=company_id,
            did=did,
            action=action,
            actor=actor[:200],
            reason=reason[:MAX_REASON],
            changes=dict(changes or {}),
            at=utcnow(),
        )
    )


def _announce(log: ChangeWriter, session: Session, company: Company) -> None:
    """Every DID of the company changed for verifiers (status or powers)."""
    status = trust_status(company)
    dids = dids_of(session, company.id)
    for row in dids:
        log.record(row.did, status, company.id)
    if not dids:  # no DID yet: followers of the company (depute) still hear of it
        log.record(None, status, company.id)


def check_reason(reason: Any, *, required: bool) -> str:
    if reason is None and not required:
        return ""
    if not isinstance(reason, str) or (required and not reason.strip()) or len(reason) > MAX_REASON:
        raise single(
            "reason",
            "invalid-field" if reason else "missing-field",
            f"give a reason (1 to {MAX_REASON} characters)",
            400,
        )
    return reason.strip()


def register(
    factory: sessionmaker[Session], registration: Registration, *, key_id: str | None, actor: str
) -> tuple[Company, str]:
    """A new pending company; returns it and the capability token that follows it."""
    token = secrets.token_urlsafe(24)
    company = Company(
        id=f"kcit-{uuid4().hex[:16]}",
        legal_name=registration.legal_name,
        country=registration.country,
        subdivision=registration.subdivision,
        addresses=registration.addresses,
        representatives=registration.representatives,
        level_of_assurance=SELF_REGISTRATION,
        status=PENDING,
        follow_hash=hash_token(token),
    )
    for key, column in NUMBER_COLUMNS:
        setattr(company, column, registration.numbers.get(key))
    with transaction(factory) as session:
        session.add(company)
        session.flush()
        if registration.did is not None:
            _add_did(session, company.id, registration.did, DID_DECLARED, key_id)
        _event(
            session,
            "register",
            actor,
            company_id=company.id,
            did=registration.did,
            changes={"status": [None, PENDING]},
        )
    return company, token


def _add_did(
    session: Session, company_id: str, did: str, origin: str, key_id: str | None
) -> CompanyDid:
    taken = session.get(CompanyDid, did)
    if taken is not None:
        if taken.company_id == company_id:
            return taken
        raise single("did", "did-taken", "this DID is already registered for another company", 409)
    row = CompanyDid(did=did, company_id=company_id, origin=origin, key_id=key_id)
    session.add(row)
    session.flush()
    return row


def update_company(
    factory: sessionmaker[Session],
    company_id: str,
    changes: Mapping[str, Any],
    *,
    actor: str,
    reason: str = "",
    expected_version: int | None = None,
) -> Company:
    with transaction(factory) as session:
        log = ChangeWriter(session)
        company = get_company(session, company_id, for_update=True)
        if expected_version is not None and company.version != expected_version:
            raise DomainError(
                ProblemType.VERSION_CONFLICT,
                "the record changed since you read it; reload and try again",
                current_version=company.version,
            )
        diff = {}
        for column, value in changes.items():
            old = getattr(company, column)
            if old != value:
                diff[column] = [old, value]
                setattr(company, column, value)
        if diff:
            company.version += 1
            company.updated_at = utcnow()
            _event(session, "update", actor, company_id=company.id, reason=reason, changes=diff)
            if "powers" in diff:
                _announce(log, session, company)
        return company


def transition(
    factory: sessionmaker[Session],
    company_id: str,
    action: str,
    *,
    actor: str,
    reason: str = "",
    level: str | None = None,
    roles: Iterable[str] | None = None,
    powers: Iterable[str] | None = None,
) -> Company:
    if action not in TRANSITIONS:
        raise DomainError(
            ProblemType.UNKNOWN_ACTION,
            f"the action must be one of {', '.join(TRANSITIONS)}",
        )
    starts, target = TRANSITIONS[action]
    with transaction(factory) as session:
        log = ChangeWriter(session)  # first: the feed's lock orders this change among the others
        company = get_company(session, company_id, for_update=True)
        if company.status not in starts:
            raise DomainError(
                ProblemType.INVALID_TRANSITION,
                f"a {company.status} company cannot be {action}d",
                title=f"Cannot {action}",
                current_status=company.status,
            )
        diff: dict[str, Any] = {"status": [company.status, target]}
        company.status = target
        if level is not None and level != company.level_of_assurance:
            diff["level_of_assurance"] = [company.level_of_assurance, level]
            company.level_of_assurance = level
        for column, value in (("roles", roles), ("powers", powers)):
            if value is not None and list(value) != getattr(company, column):
                diff[column] = [getattr(company, column), list(value)]
                setattr(company, column, list(value))
        if target == REMOVED:
            company.follow_hash = None  # the registrant's link dies with the record
        company.version += 1
        company.updated_at = utcnow()
        _event(session, action, actor, company_id=company.id, reason=reason, changes=diff)
        _announce(log, session, company)
        return company


def attach_did(
    factory: sessionmaker[Session],
    company_id: str,
    did: str,
    *,
    origin: str,
    actor: str,
    key_id: str | None = None,
) -> CompanyDid:
    """Record one more public DID of the company (e.g. the one depute created for it)."""
    with transaction(factory) as session:
        log = ChangeWriter(session)
        company = get_company(session, company_id, for_update=True)
        if company.status == REMOVED:
            raise DomainError(ProblemType.COMPANY_REMOVED, "the record was removed")
        existed = session.get(CompanyDid, did) is not None
        row = _add_did(session, company_id, did, origin, key_id)
        if not existed:
            _event(
                session,
                "add-did",
                actor,
                company_id=company_id,
                did=did,
                changes={"did": [None, did], "origin": [None, origin]},
            )
            log.record(did, trust_status(company), company_id)
        return row


def set_provisioning(
    factory: sessionmaker[Session], company_id: str, provisioning: Mapping[str, Any], *, actor: str
) -> None:
    """What depute reports back (public DID, onboarding exchange, the admin's invitation)."""
    with transaction(factory) as session:
        company = get_company(session, company_id, for_update=True)
        merged = {**(company.provisioning or {}), **provisioning}
        if merged != company.provisioning:
            _event(
                session,
                "provisioning",
                actor,
                company_id=company_id,
                changes={"provisioning": [company.provisioning, merged]},
            )
            company.provisioning = merged
            company.updated_at = utcnow()


def accredit(
    factory: sessionmaker[Session],
    did: str,
    credential_type: str,
    *,
    active: bool,
    actor: str,
    reason: str = "",
) -> Accreditation:
    """Grant (``active``) or withdraw the accreditation of ``did`` for ``credential_type``."""
    now = utcnow()
    with transaction(factory) as session:
        log = ChangeWriter(session)
        row = session.scalar(
            select(Accreditation)
            .where(Accreditation.did == did, Accreditation.credential_type == credential_type)
            .with_for_update()
        )
        if row is None:
            if not active:
                raise DomainError(
                    ProblemType.ACCREDITATION_NOT_FOUND,
                    f"{did} is not accredited for {credential_type}",
                )
            row = Accreditation(
                did=did,
                credential_type=credential_type,
                granted_by=actor,
                granted_at=now,
                active=True,
            )
            session.add(row)
        elif row.active == active:
            return row  # idempotent: nothing changes, nothing is announced
        else:
            row.active = active
            if active:
                row.granted_by, row.granted_at, row.withdrawn_at = actor, now, None
            else:
                row.withdrawn_at = now
        company = company_of_did(session, did)
        _event(
            session,
            "accredit" if active else "withdraw-accreditation",
            actor,
            company_id=company.id if company else None,
            did=did,
            reason=reason,
            changes={"accreditation": [credential_type, active]},
        )
        log.record(did, trust_status(company), company.id if company else None)
        session.flush()
        return row


# -- views ---------------------------------------------------------------------------------------


def numbers_of(company: Company) -> dict[str, str]:
    return {
        key: getattr(company, column) for key, column in NUMBER_COLUMNS if getattr(company, column)
    }


def describe(company: Company, dids: list[CompanyDid], *, full: bool = False) -> dict[str, Any]:
    """The public view; ``full`` adds what only admins see (representatives, provisioning)."""
    view: dict[str, Any] = {
        "id": company.id,
        "legalName": company.legal_name,
        "legalRegistrationNumber": numbers_of(company),
        "country": company.country,
        "subdivision": company.subdivision,
        "status": company.status,
        "companyStatus": trust_status(company),
        "levelOfAssurance": company.level_of_assurance,
        "dids": [{"did": d.did, "origin": d.origin, "key": d.key_id} for d in dids],
        "roles": list(company.roles),
        "powers": list(company.powers),
        "updatedAt": company.updated_at.isoformat(),
    }
    if full:
        view.update(
            addresses=company.addresses,
            representatives=company.representatives,
            provisioning=company.provisioning,
            version=company.version,
            createdAt=company.created_at.isoformat(),
        )
    return view


def describe_event(event: CompanyEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "company": event.company_id,
        "did": event.did,
        "action": event.action,
        "actor": event.actor,
        "reason": event.reason,
        "changes": event.changes,
        "at": event.at.isoformat(),
    }


def describe_accreditation(row: Accreditation) -> dict[str, Any]:
    return {
        "did": row.did,
        "credentialType": row.credential_type,
        "active": row.active,
        "grantedBy": row.granted_by,
        "grantedAt": row.granted_at.isoformat(),
        "withdrawnAt": row.withdrawn_at.isoformat() if row.withdrawn_at else None,
    }
