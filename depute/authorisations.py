"""Authorisations: a company admin mandates an employee with powers for a while, as an Attorney
credential issued from the company's own DID (its tenant on the issuer agent) through a
single-use, expiring out-of-band invitation; later suspends, reinstates or revokes it.

The credential, its exchange and its status index are the issuer's (``issuer.exchanges``), opened
in one transaction with the authorisation row and its audit event, so none exists without the
others. Revocation state lives in the revocation service's status entry; a change there is in the
change feed at commit, which is what makes it effective at every verifier within a second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import uuid4

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from depute import audit
from depute.context import DeputeContext
from depute.models import Authorisation, DeputeCompany
from issuer.context import IssuerContext
from issuer.credentials import CONTEXTS_V1, new_credential_id, xsd_datetime
from issuer.exchanges import (
    DEFAULT_PROOF_TYPE,
    PROOF_TYPES,
    Offer,
    abandon_exchange,
    describe_exchange,
    open_exchange,
)
from issuer.inputs import DID
from issuer.models import ABANDONED, EXCHANGE_OPEN, ISSUED, Exchange, IssuedCredential
from issuer.oid4vci.grants import offer_view
from issuer.records import delivery
from kcit import registry
from kcit.models import IDENTIFIED, Company
from kcit.validation import EMAIL, single
from revocation.models import StatusEntry
from revocation.status import change_status

FIELDS = ("name", "email", "powers", "validFrom", "validUntil", "did", "proofType")
ACTIONS = ("suspend", "reinstate", "revoke")
STATES = ("pending", "issued", "suspended", "revoked", "expired", "abandoned")


@dataclass(frozen=True)
class Signer:
    """Who authorises: a signed-in company admin (name, DID) or the operator."""

    actor: str
    name: str
    did: str | None = None
    email: str | None = None

    def claims(self) -> dict[str, str]:
        claims = {"name": self.name}
        if self.did:
            claims["id"] = self.did
        if self.email:
            claims["email"] = self.email
        return claims


# -- input -----------------------------------------------------------------------------------------


def _parse_time(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise single(name, "invalid-field", "must be a date-time, e.g. 2026-12-31T23:59:59Z", 400)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise single(name, "invalid-field", "must be a date-time with a time zone", 400)
    return moment


def group_powers(powers: list[str]) -> list[dict[str, Any]]:
    """``["marketplace:read", "marketplace:purchase"]`` -> ``[{app, actions}]`` (the schema's).

    Sorted, so the same mandate gives the same credential whatever order the form sent.
    """
    grouped: dict[str, list[str]] = {}
    for power in sorted(set(powers)):
        app, _, action = power.partition(":")
        grouped.setdefault(app, []).append(action)
    return [{"app": app, "actions": actions} for app, actions in grouped.items()]


@dataclass(frozen=True)
class Mandate:
    name: str
    email: str
    powers: list[str]
    valid_from: datetime
    valid_until: datetime
    did: str | None = None  # the employee's DID when known: the subject is bound up front
    proof_type: str = DEFAULT_PROOF_TYPE


def check_mandate(ctx: DeputeContext, company: Company, body: Any, now: datetime) -> Mandate:
    if not isinstance(body, Mapping):
        raise single("", "invalid-field", "the body must be a JSON object", 400)
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise single(unknown[0], "unknown-field", "is not a field of an authorisation", 400)
    name, email = body.get("name"), body.get("email")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        raise single(
            "name",
            "missing-field" if not name else "invalid-field",
            "the employee's name (1 to 200 characters)",
            400,
        )
    if not isinstance(email, str) or not EMAIL.fullmatch(email.strip()) or len(email) > 254:
        raise single("email", "invalid-field", "the employee's email address", 400)
    powers = body.get("powers")
    if not isinstance(powers, list) or not powers or not all(isinstance(p, str) for p in powers):
        raise single("powers", "missing-field", "choose at least one power", 400)
    powers = list(dict.fromkeys(powers))
    offered = delegable_powers(ctx, company)
    refused = [p for p in powers if p not in offered]
    if refused:
        raise single(
            "powers",
            "power-not-granted",
            f"{company.legal_name} may not delegate {', '.join(refused)[:200]}; "
            f"it may delegate: {', '.join(offered) or 'nothing'}",
            403,
        )
    valid_from = _parse_time(body.get("validFrom"), "validFrom") or now
    valid_until = _parse_time(body.get("validUntil"), "validUntil") or valid_from + ctx.validity
    if valid_until <= valid_from or valid_until <= now:
        detail = "must be after validFrom and in the future"
        raise single("validUntil", "invalid-field", detail, 400)
    if valid_until - valid_from > ctx.max_validity:
        raise single(
            "validUntil",
            "invalid-field",
            f"a mandate lasts at most {ctx.max_validity.days} days",
            400,
        )
    did = body.get("did")
    if did is not None and (not isinstance(did, str) or len(did) > 500 or not DID.match(did)):
        raise single("did", "invalid-field", "the employee's DID (did:<method>:<id>)", 400)
    proof_type = body.get("proofType", DEFAULT_PROOF_TYPE)
    if proof_type not in PROOF_TYPES:
        raise single("proofType", "invalid-field", f"one of {', '.join(PROOF_TYPES)}", 400)
    return Mandate(
        " ".join(name.split()), email.strip(), powers, valid_from, valid_until, did, proof_type
    )


def delegable_powers(ctx: DeputeContext, company: Company) -> list[str]:
    """What the mounted apps declare and KCIT gave the company."""
    return [p for p in ctx.powers if p in company.powers]


# -- the credential --------------------------------------------------------------------------------


def registration_number(company: Company) -> str:
    for value in (company.vat_id, company.lei, company.euid, company.national_id):
        if value:
            return value
    return company.id


def attorney_credential(
    company: Company, did: str, mandate: Mandate, signer: Signer, now: datetime
) -> dict[str, Any]:
    """Unsigned; its subject is the employee's DID if the mandate names one, else the DID the
    employee's wallet names when it accepts."""
    subject: dict[str, Any] = {"id": mandate.did} if mandate.did else {}
    return {
        "@context": list(CONTEXTS_V1),
        "id": new_credential_id(),
        "type": ["VerifiableCredential", "AttorneyCredential"],
        "issuer": did,
        "issuanceDate": xsd_datetime(now),
        "validFrom": xsd_datetime(mandate.valid_from),
        "validUntil": xsd_datetime(mandate.valid_until),
        "credentialSubject": {
            **subject,
            "mandator": {
                "id": did,
                "legalName": company.legal_name,
                "registrationNumber": registration_number(company),
            },
            "mandatee": {"name": mandate.name, "email": mandate.email},
            "powers": group_powers(mandate.powers),
            "signer": signer.claims(),
        },
    }


# -- operations ------------------------------------------------------------------------------------


def ready_company(ctx: DeputeContext, company_id: str) -> tuple[Company, DeputeCompany]:
    """The KCIT company, identified, and its provisioned wallet; else a problem saying why."""
    with ctx.factory() as session:
        company = registry.get_company(session, company_id)
        wallet = session.get(DeputeCompany, company_id)
    if company.status != IDENTIFIED:
        raise DomainError(
            ProblemType.COMPANY_NOT_IDENTIFIED,
            f"KCIT marks {company.legal_name} {company.status}; it cannot mandate anyone",
            current_status=company.status,
        )
    if wallet is None or wallet.did is None:
        raise DomainError(
            ProblemType.COMPANY_NOT_PROVISIONED,
            "the company's wallet is still being set up; try again shortly",
            retry_after=2,
        )
    return company, wallet


def authorise(
    ctx: DeputeContext,
    company_id: str,
    body: Any,
    signer: Signer,
    *,
    issuer: IssuerContext | None = None,
    action: str = "authorise",
) -> tuple[Authorisation, Exchange]:
    now = utcnow()
    company, wallet = ready_company(ctx, company_id)
    mandate = check_mandate(ctx, company, body, now)
    issuer = issuer or ctx.issuer
    tenant = issuer.tenants.by_name(wallet.tenant)
    if tenant is None or tenant.did != wallet.did:
        raise DomainError(
            ProblemType.COMPANY_NOT_PROVISIONED,
            "the company's wallet is not on the issuer agent",
            title="Company wallet missing",
        )
    credential = attorney_credential(company, wallet.did, mandate, signer, now)
    authorisation_id = str(uuid4())
    made: list[Authorisation] = []

    def also(session: Session, reserved: list[IssuedCredential]) -> None:
        record = reserved[0]
        row = Authorisation(
            id=authorisation_id,
            company_id=company_id,
            mandatee_name=mandate.name,
            mandatee_email=mandate.email,
            powers=mandate.powers,
            signer=signer.claims(),
            valid_from=mandate.valid_from,
            valid_until=mandate.valid_until,
            record_id=record.id,
            credential_id=record.credential_id,
            exchange_id=record.exchange_id or "",
            status_entry_id=record.status_entry_id,
            created_by=signer.actor,
            created_at=now,
        )
        session.add(row)
        audit.record(
            session,
            company_id,
            action,
            signer.actor,
            authorisation_id=authorisation_id,
            details={
                "mandatee": {"name": mandate.name, "email": mandate.email},
                "powers": mandate.powers,
                "validFrom": mandate.valid_from.isoformat(),
                "validUntil": mandate.valid_until.isoformat(),
                "credential": record.credential_id,
            },
        )
        made.append(row)

    exchange = open_exchange(
        issuer,
        workflow="attorney",
        tenant=tenant,
        offers=[Offer(credential, late_subject=mandate.did is None, proof_type=mandate.proof_type)],
        actor=signer.actor,
        also=also,
    )
    return made[0], exchange


def get_authorisation(session: Session, company_id: str, authorisation_id: str) -> Authorisation:
    row = session.get(Authorisation, authorisation_id)
    if row is None or row.company_id != company_id:
        raise DomainError(ProblemType.AUTHORISATION_NOT_FOUND)
    return row


def set_status(
    ctx: DeputeContext,
    company_id: str,
    authorisation_id: str,
    action: str,
    reason: Any,
    actor: str,
) -> dict[str, Any]:
    """Suspend, reinstate or revoke; committed (and in the change feed) before it returns."""
    if action not in ACTIONS:
        raise DomainError(
            ProblemType.UNKNOWN_ACTION,
            f"the action must be one of {', '.join(ACTIONS)}",
        )
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 1000:
        raise single("reason", "missing-field", "give a reason (1 to 1000 characters)", 400)
    reason = reason.strip()
    with ctx.factory() as session:
        row = get_authorisation(session, company_id, authorisation_id)
        view = describe(session, row, ctx)
    if view["state"] == "pending" and action == "revoke":
        # Not delivered yet: withdraw the offer. The index is marked abandoned (its bit set),
        # so even a credential that escaped half-way never verifies.
        abandon_exchange(ctx.issuer, row.exchange_id, f"revoked before delivery: {reason}")
    else:
        change_status(ctx.factory, row.status_entry_id, action, reason=reason, actor=actor)
    with transaction(ctx.factory) as session:
        audit.record(
            session,
            company_id,
            action,
            actor,
            authorisation_id=authorisation_id,
            reason=reason,
            details={"before": view["state"]},
        )
    return view_of(ctx, company_id, authorisation_id)


# -- views -----------------------------------------------------------------------------------------


def view_of(ctx: DeputeContext, company_id: str, authorisation_id: str) -> dict[str, Any]:
    """The company's authorisation as its admins see it (a 404 problem when it is not theirs)."""
    with ctx.factory() as session:
        return describe(session, get_authorisation(session, company_id, authorisation_id), ctx)


def state_of(
    record: IssuedCredential | None,
    exchange: Exchange | None,
    entry: StatusEntry | None,
    valid_until: datetime,
    now: datetime,
) -> str:
    if entry is not None and entry.status == "revoked":
        return "revoked"
    if record is None or record.state == ABANDONED or (entry and entry.state == "abandoned"):
        return "abandoned"
    if record.state != ISSUED:
        if exchange is not None and exchange.state in EXCHANGE_OPEN and exchange.expires_at > now:
            return "pending"
        return "abandoned"
    if entry is not None and entry.status == "suspended":
        return "suspended"
    return "expired" if valid_until <= now else "issued"


def describe(session: Session, row: Authorisation, ctx: DeputeContext) -> dict[str, Any]:
    now = utcnow()
    record = session.get(IssuedCredential, row.record_id)
    exchange = session.get(Exchange, row.exchange_id) if row.exchange_id else None
    entry = session.get(StatusEntry, row.status_entry_id)
    state = state_of(record, exchange, entry, row.valid_until, now)
    view: dict[str, Any] = {
        "id": row.id,
        "company": row.company_id,
        "mandatee": {"name": row.mandatee_name, "email": row.mandatee_email},
        "powers": row.powers,
        "signer": row.signer,
        "validFrom": row.valid_from.isoformat(),
        "validUntil": row.valid_until.isoformat(),
        "state": state,
        "credentialId": row.credential_id,
        "subject": record.subject_id if record else None,
        # "issued" says the credential exists; only "delivered" says a wallet acknowledged it.
        "delivery": delivery(record) if record else None,
        "credentialStatus": record.credential.get("credentialStatus") if record else None,
        "createdBy": row.created_by,
        "createdAt": row.created_at.isoformat(),
        "exchange": None,
    }
    if exchange is not None and state == "pending" and ctx.issuer.public_url:
        issued = [record] if record is not None else []
        view["exchange"] = describe_exchange(exchange, issued, ctx.issuer.public_url)
        settings = current_app.extensions.get("issuer.oid4vci") if has_app_context() else None
        if settings is not None:  # the same mandate over OpenID4VCI (link and PIN)
            view["exchange"]["oid4vci"] = offer_view(
                ctx.issuer, settings, exchange, ctx.issuer.public_url
            )
    return view


def list_authorisations(
    ctx: DeputeContext, company_id: str, state: str | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    if state is not None and state not in STATES:
        raise single("state", "invalid-field", f"must be one of {', '.join(STATES)}", 400)
    with ctx.factory() as session:
        rows = session.scalars(
            select(Authorisation)
            .where(Authorisation.company_id == company_id)
            .order_by(Authorisation.created_at.desc(), Authorisation.id)
            .limit(limit)
        )
        views = [describe(session, row, ctx) for row in rows]
    return [v for v in views if state is None or v["state"] == state]


def admin_mandate_for(company: Company, ctx: DeputeContext) -> dict[str, Any]:
    """The first admin mandate, for the representative KCIT recorded."""
    representative = company.representatives[0]
    return {
        "name": representative["name"],
        "email": representative["email"],
        "powers": ["depute:admin"],
        "validUntil": xsd_datetime(utcnow() + min(ctx.validity, ctx.max_validity)),
    }
