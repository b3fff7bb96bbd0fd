"""Who may use depute: the operator (API token), or a company admin signed in with an Attorney
credential that grants ``depute:admin``.

A company admin signs in by presenting that credential in a verifiable presentation signed by
its subject, over a single-use challenge (verified in-process by the verifier library under KCIT
trust), either through the gateway's QR login (the page's "Sign in with your
wallet": :mod:`signin.handoff`, and depute checks each handed-over credential again) or, for
wallets and scripts, by posting it to ``/depute/api/login``.

A session does not outlive its credential: every request re-reads the credential's status entry
and the company's KCIT status and powers from the database, so a suspended or revoked mandate, a
company KCIT deactivates, or one KCIT no longer lets delegate ``depute:admin``, signs its admins
out at once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update

from agents.tenants import tenant_did
from credgate.db import transaction, utcnow
from credgate.hashing import hash_token
from credgate.problems import Problem
from credgate.tokens import find_token
from depute import audit
from depute.authorisations import Signer
from depute.context import ADMIN_POWER, DeputeContext
from depute.models import AdminSession
from kcit import registry
from kcit.trust import KcitDatabaseTrust
from revocation.store import entry_status
from signin.handoff import SignedIn, admit, refusal
from verifier.challenges import DEPUTE, ChallengeStore
from verifier.credentials import check_credential
from verifier.dids import DidResolver
from verifier.engine import CredentialResult, Verifier
from verifier.pdp import AttorneyPower, Decision, decide

OPERATOR = "operator"


@dataclass(frozen=True)
class Admin:
    actor: str
    name: str
    company_id: str | None  # None: the operator, for every company
    did: str | None = None

    def may_act_for(self, company_id: str) -> bool:
        return self.company_id is None or self.company_id == company_id

    def signer(self) -> Signer:
        """This admin as the signer of the authorisations they make."""
        return Signer(actor=self.actor, name=self.name, did=self.did)


def login_verifier(ctx: DeputeContext) -> Verifier:
    # Status is checked against the revocation service's own entries (same database, no cache):
    # the verifier library only reports the entries it did not check.
    return Verifier(
        DidResolver(web_override=ctx.did_web_override),
        trust=KcitDatabaseTrust(
            ctx.factory,
            lambda: tenant_did(ctx.factory, "issuer", ctx.issuer.tenants.authority_name),
        ),
        challenges=login_challenges(ctx),
        require_status=False,
    )


def login_challenges(ctx: DeputeContext) -> ChallengeStore:
    # Depute's own namespace, and the holder signs for depute's domain (no relayed proofs).
    return ChallengeStore(ctx.factory, DEPUTE, require_domain=True)


def challenge(ctx: DeputeContext, domain: str) -> dict[str, Any]:
    issued = login_challenges(ctx).issue(domain)
    return {
        "challenge": issued.challenge,
        "domain": domain,
        "expiresAt": issued.expires_at.isoformat(),
    }


ADMIN = AttorneyPower(*ADMIN_POWER.split(":"))


def login(ctx: DeputeContext, presentation: Any, domain: str) -> tuple[str, AdminSession]:
    """Sign in with a presentation over depute's own challenge (``/depute/api/login``)."""
    result = login_verifier(ctx).verify_presentation(presentation, domain=domain)
    if not result.verified:
        first = next(iter(result.errors), None) or next(
            (e for c in result.credentials for e in c.errors), None
        )
        slug = first.slug if first else "not-verified"
        raise Problem(
            slug,
            "Sign-in refused",
            401,
            first.detail if first else None,
            errors=result.error_types(),
        )
    return _open_session(ctx, result.holder or "", decide(result, ADMIN), result.credentials)


def login_signed_in(ctx: DeputeContext, signed_in: SignedIn) -> tuple[str, AdminSession]:
    """Sign in with what the gateway's QR login verified (:mod:`signin.handoff`)."""
    decision, results = admit(login_verifier(ctx), signed_in, ADMIN)
    if not decision.allow and (refused := refusal(results)) is not None:
        raise refused
    return _open_session(ctx, signed_in.holder, decision, results)


def _open_session(
    ctx: DeputeContext, holder: str, decision: Decision, results: list[CredentialResult]
) -> tuple[str, AdminSession]:
    if not decision.allow:
        raise Problem(
            "power-missing",
            "Not a company admin",
            403,
            f"sign in with an Attorney credential that grants {ADMIN_POWER}",
        )
    credential = decision.granted_by[0]
    facts = check_credential(credential)
    status = credential.get("credentialStatus")
    with ctx.factory() as session:
        state = entry_status(session, status, credential.get("id"), facts.issuer)
        if state is None:  # a mandate depute could never see revoked: fail closed
            raise Problem(
                "status-unknown",
                "Mandate status unknown",
                401,
                "the Attorney credential has no status entry here",
            )
        if state != "active":
            raise Problem(
                "suspended",
                "Mandate not active",
                401,
                "the Attorney credential is suspended or revoked",
            )
        company = registry.company_of_did(session, facts.issuer)
    if company is None:
        raise Problem("issuer-not-kcit-company", "Unknown company", 401)
    mandatee = credential["credentialSubject"].get("mandatee") or {}
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires = now + ctx.session_ttl
    valid_until = facts.valid_until
    if isinstance(valid_until, datetime) and valid_until < expires:
        expires = valid_until
    row = AdminSession(
        token_hash=hash_token(token),
        company_id=company.id,
        holder_did=holder,
        name=str(mandatee.get("name") or holder)[:200],
        credential_id=str(credential.get("id"))[:500],
        status_list_url=status.get("statusListCredential") if isinstance(status, dict) else None,
        status_index=int(status["statusListIndex"])
        if isinstance(status, dict) and str(status.get("statusListIndex", "")).isdigit()
        else None,
        expires_at=expires,
        created_at=now,
    )
    with transaction(ctx.factory) as session:
        session.add(row)
        audit.record(
            session,
            company.id,
            "sign-in",
            f"attorney:{row.holder_did}",
            details={"credential": row.credential_id, "name": row.name},
        )
    return token, row


def admin_for_session(ctx: DeputeContext, token: str) -> Admin | None:
    """The company admin of a live session whose mandate still holds, else None."""
    now = utcnow()
    with ctx.factory() as session:
        row = session.get(AdminSession, hash_token(token))
        if row is None or row.ended_at is not None or row.expires_at <= now:
            return None
        if row.status_list_url is not None and row.status_index is not None:
            status = {
                "statusListCredential": row.status_list_url,
                "statusListIndex": str(row.status_index),
            }
            if entry_status(session, status, row.credential_id) != "active":
                return None
        company = registry.get_company(session, row.company_id)
        if registry.trust_status(company) != registry.ACTIVE:
            return None
        # The mandate holds only while KCIT still lets the company delegate depute:admin.
        if company is None or ADMIN_POWER not in (company.powers or ()):
            return None
    return Admin(f"attorney:{row.holder_did}", row.name, row.company_id, row.holder_did)


def logout(ctx: DeputeContext, token: str) -> None:
    with transaction(ctx.factory) as session:
        session.execute(
            update(AdminSession)
            .where(AdminSession.token_hash == hash_token(token), AdminSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def admin_for_bearer(ctx: DeputeContext, token: str) -> Admin | None:
    """An operator API token or a company admin's session token."""
    with ctx.factory() as session:
        operator = find_token(session, token)
    if operator is not None:
        return Admin(f"token:{operator.name}", OPERATOR, None)
    return admin_for_session(ctx, token)
