"""Provisioning: what follows when KCIT marks a company identified.

1. the company's tenant wallet on the issuer agent, with a did:key of its own;
2. that DID recorded in KCIT as the company's public DID (the one its mandates are issued from);
3. its organisation onboarding: Onboarding (and, with roles, Role) credentials from the
   onboarding authority, which the company wallet accepts itself;
4. the first admin mandate (power ``depute:admin``) offered to the representative KCIT recorded;
5. a report back to KCIT (the DID and the representative's invitation), shown on the
   registrant's follow page and the KCIT admin page.

Each step is recorded as done before the next starts, so a retry (the sweeper, a restart) picks up
where a failure stopped and never repeats a finished step. The :class:`Provisioner` thread
follows KCIT's change feed (in-process, same database) and sweeps for companies left behind.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from credgate.db import transaction, utcnow
from credgate.problems import Problem
from depute import audit
from depute.authorisations import Signer, admin_mandate_for, authorise
from depute.company_wallet import accept_exchange
from depute.context import DeputeContext
from depute.models import FAILED, PROVISIONING, READY, DeputeCompany
from issuer import credentials
from issuer.exchanges import Offer, describe_exchange, open_exchange
from kcit import feed as kcit_feed
from kcit import registry
from kcit.models import DID_DEPUTE, IDENTIFIED, Company, CompanyEvent

log = logging.getLogger(__name__)

ACTOR = "depute"


def tenant_name(company_id: str) -> str:
    return f"company-{company_id}"


def _update(ctx: DeputeContext, company_id: str, **values: Any) -> None:
    with transaction(ctx.factory) as session:
        session.execute(
            update(DeputeCompany)
            .where(DeputeCompany.company_id == company_id)
            .values(updated_at=utcnow(), **values)
        )


def _claim(ctx: DeputeContext, company_id: str) -> DeputeCompany:
    with transaction(ctx.factory) as session:
        row = session.get(DeputeCompany, company_id)
        if row is None:
            row = DeputeCompany(
                company_id=company_id,
                tenant=tenant_name(company_id),
                state=PROVISIONING,
                attempts=0,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError:  # another worker claimed it a moment ago
                session.rollback()
                return session.get(DeputeCompany, company_id)
        row.attempts += 1
        return row


def approver(ctx: DeputeContext, company_id: str) -> str:
    """Who approved the company in KCIT (the first admin mandate names them as signer)."""
    with ctx.factory() as session:
        actor = session.scalar(
            select(CompanyEvent.actor)
            .where(CompanyEvent.company_id == company_id, CompanyEvent.action == "approve")
            .order_by(CompanyEvent.at.desc(), CompanyEvent.id.desc())
            .limit(1)
        )
    return actor or "kcit"


def provision(ctx: DeputeContext, company_id: str) -> DeputeCompany | None:
    """Bring an identified company's provisioning forward; None if it is not identified."""
    with ctx.factory() as session:
        company = registry.get_company(session, company_id)
        row = session.get(DeputeCompany, company_id)
    if company.status != IDENTIFIED or (row is not None and row.state == READY):
        return row
    row = _claim(ctx, company_id)
    try:
        _steps(ctx, company, row)
    except Exception as exc:
        detail = exc.detail if isinstance(exc, Problem) and exc.detail else str(exc)
        log.warning("depute: provisioning %s failed: %s", company_id, detail)
        _update(ctx, company_id, state=FAILED, error=detail[:2000])
        raise
    with ctx.factory() as session:
        return session.get(DeputeCompany, company_id)


def _steps(ctx: DeputeContext, company: Company, row: DeputeCompany) -> None:
    company_id = company.id
    tenant = ctx.issuer.tenants.ensure(row.tenant)  # 1. creates it once, with its did:key
    if row.did != tenant.did:
        _update(ctx, company_id, did=tenant.did)
        with transaction(ctx.factory) as session:
            audit.record(
                session,
                company_id,
                "provision-wallet",
                ACTOR,
                details={"did": tenant.did, "tenant": row.tenant},
            )
    registry.attach_did(ctx.factory, company_id, tenant.did, origin=DID_DEPUTE, actor=ACTOR)  # 2.

    onboarding_id = row.onboarding_exchange_id  # 3.
    if onboarding_id is None:
        exchange = onboard(ctx, company, tenant.did)
        onboarding_id = exchange.id
        _update(ctx, company_id, onboarding_exchange_id=onboarding_id, onboarding_state="invited")

    admin_id = row.admin_authorisation_id  # 4.
    invitation = None
    if admin_id is None:
        signer = Signer(actor=f"kcit:{approver(ctx, company_id)}", name="KCIT approval")
        authorisation, exchange = authorise(
            ctx,
            company_id,
            admin_mandate_for(company, ctx),
            signer,
            issuer=ctx.bootstrap_issuer,
            action="bootstrap-admin",
        )
        admin_id = authorisation.id
        _update(ctx, company_id, admin_authorisation_id=admin_id)
        view = describe_exchange(exchange, [], ctx.issuer.public_url or "")
        invitation = {k: view[k] for k in ("invitation_url", "deep_link", "qr_code", "expires_at")}

    report: dict[str, Any] = {
        "did": tenant.did,
        "adminAuthorisation": admin_id,
        "onboardingExchange": onboarding_id,
    }
    if invitation is not None:
        report["adminInvitation"] = invitation
    registry.set_provisioning(ctx.factory, company_id, report, actor=ACTOR)  # 5.
    _update(ctx, company_id, state=READY, error=None)
    if row.onboarding_state in (None, "invited"):
        start_acceptance(ctx, company_id, tenant, onboarding_id)


def onboard(ctx: DeputeContext, company: Company, did: str):
    """The company's Onboarding credential (and Role credential, if KCIT gave it roles) from the
    onboarding authority, in one invitation for the company wallet."""
    authority = ctx.issuer.tenants.authority()
    now = utcnow()
    claims = {
        "id": did,
        "legalName": company.legal_name,
        "kcitRecordId": company.id,
        "legalRegistrationNumber": registry.numbers_of(company),
        "country": company.country,
    }
    onboarding = credentials.organisation_onboarding(
        authority.did, claims, now, ctx.issuer.settings.onboarding_validity
    )
    onboarding["credentialSubject"]["levelOfAssurance"] = company.level_of_assurance
    offers = [Offer(onboarding)]
    if company.roles:
        role = credentials.role(
            authority.did, did, company.roles, now, ctx.issuer.settings.role_validity
        )
        offers.append(Offer(role))
    return open_exchange(
        ctx.bootstrap_issuer,
        workflow="organisation-onboarding",
        tenant=authority,
        offers=offers,
        actor=f"{ACTOR}:kcit",
    )


def start_acceptance(ctx: DeputeContext, company_id: str, tenant, exchange_id: str) -> None:
    """The company wallet takes its onboarding credentials (needs the webhook hub)."""
    if ctx.hub is None:
        return  # no hub: the invitation stays open; a later run with one accepts it

    def run() -> None:
        try:
            state = accept_exchange(ctx, tenant, exchange_id)
        except Exception as exc:  # recorded; the sweeper tries again
            log.warning(
                "depute: company wallet %s did not take its onboarding: %s", company_id, exc
            )
            _update(ctx, company_id, onboarding_state="failed", error=str(exc)[:2000])
            return
        _update(ctx, company_id, onboarding_state=state)
        with transaction(ctx.factory) as session:
            audit.record(
                session, company_id, "onboarding-" + state, ACTOR, details={"exchange": exchange_id}
            )

    _update(ctx, company_id, onboarding_state="accepting")
    threading.Thread(target=run, name=f"depute-accept-{company_id}", daemon=True).start()


class Provisioner:
    """Follows KCIT's change feed and provisions every company that becomes identified."""

    def __init__(self, ctx: DeputeContext) -> None:
        self.ctx = ctx
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Provisioner:
        self._thread = threading.Thread(target=self._run, name="depute-provisioner", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def pending(self) -> list[str]:
        """Identified companies whose provisioning has not finished."""
        with self.ctx.factory() as session:
            ready = select(DeputeCompany.company_id).where(DeputeCompany.state == READY)
            return list(
                session.scalars(
                    select(Company.id).where(Company.status == IDENTIFIED, Company.id.not_in(ready))
                )
            )

    def _provision(self, company_id: str) -> None:
        # Failures are logged and recorded by provision(); the sweep retries them.
        with contextlib.suppress(Exception):
            provision(self.ctx, company_id)

    def _run(self) -> None:
        with self.ctx.factory() as session:
            after = kcit_feed.head(session)
        next_sweep = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() >= next_sweep:
                    for company_id in self.pending():
                        self._provision(company_id)
                    next_sweep = time.monotonic() + self.ctx.sweep_interval
                changes, after = kcit_feed.wait_for_changes(self.ctx.factory, after, 1.0)
                for company_id in dict.fromkeys(c.company for c in changes if c.company):
                    if self._stop.is_set():
                        return
                    self._provision(company_id)
            except Exception:  # e.g. the database is briefly away
                log.exception("depute: provisioner")
                self._stop.wait(1.0)
