"""Certifiers: each has its own tenant (DID) on the issuer agent and an API token to call us with.

Whether a certifier may certify is KCIT's accreditation of its DID for
SoftwareCertificationCredential: the same trust API the gateway reads, asked before each signing
(no copy here that could disagree). Only a SHA-256 of the token is stored; the token is shown once.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from flask import g
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credgate.auth import bearer_required
from credgate.db import transaction
from credgate.errors import DomainError
from credgate.hashing import hash_token
from credgate.problem_types import ProblemType
from issuer import inputs
from issuer.context import IssuerContext, issuer_context
from issuer.models import Certifier
from verifier.errors import VerificationError

CERTIFICATION = "SoftwareCertificationCredential"

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def register(ctx: IssuerContext, body: Any) -> tuple[Certifier, str]:
    """A new certifier with its tenant and DID; returns it and its API token (shown once)."""
    if isinstance(body, dict) and "accredited" in body:
        raise _accredited_in_kcit()
    body = inputs.json_object(body, ("name",))
    name = inputs.text(body, "name", max_length=63)
    if not NAME.match(name):
        raise inputs.invalid("name must be 2-63 lowercase letters, digits or dashes", "name")
    with ctx.factory() as session:
        if session.scalar(select(Certifier.id).where(Certifier.name == name)) is not None:
            raise _exists(name)
    tenant = ctx.tenants.ensure(f"certifier-{name}")
    token = secrets.token_urlsafe(32)
    row = Certifier(
        name=name,
        tenant=tenant.name,
        did=tenant.did,
        token_hash=hash_token(token),
    )
    try:
        with transaction(ctx.factory) as session:
            session.add(row)
    except IntegrityError:
        raise _exists(name) from None
    return row, token


def _exists(name: str) -> DomainError:
    return DomainError(ProblemType.CERTIFIER_EXISTS, f"a certifier {name!r} exists")


def _accredited_in_kcit() -> DomainError:
    return DomainError(
        ProblemType.ACCREDITED_IN_KCIT,
        "accredit the certifier's DID for SoftwareCertificationCredential in KCIT "
        "(POST /kcit/admin/accreditations); the issuer keeps no accreditation list of its own",
    )


def find(ctx: IssuerContext, name: str) -> Certifier:
    with ctx.factory() as session:
        row = session.scalar(select(Certifier).where(Certifier.name == name))
    if row is None:
        raise DomainError(ProblemType.CERTIFIER_NOT_FOUND)
    return row


def all_certifiers(ctx: IssuerContext) -> list[Certifier]:
    with ctx.factory() as session:
        return list(session.scalars(select(Certifier).order_by(Certifier.name)))


def is_certifier_did(ctx: IssuerContext, did: str) -> bool:
    """Whether ``did`` is one of our certifiers' tenants (accredited or not)."""
    with ctx.factory() as session:
        return session.scalar(select(Certifier.id).where(Certifier.did == did)) is not None


def is_accredited(ctx: IssuerContext, did: str, type_name: str = CERTIFICATION) -> bool:
    """KCIT's answer, now: may ``did`` issue ``type_name``? A 503 problem if KCIT cannot say."""
    if ctx.kcit is None:
        raise DomainError(
            ProblemType.ACCREDITATION_SOURCE_UNKNOWN,
            "the issuer does not know KCIT's URL (SERVICE_URLS), where certifiers are accredited",
        )
    try:
        return ctx.kcit.may_issue(did, type_name)
    except VerificationError as exc:
        raise DomainError(
            ProblemType.ACCREDITATION_UNAVAILABLE,
            f"KCIT could not say whether {did} is accredited: {exc.detail}",
        ) from None


def require_accredited(ctx: IssuerContext, certifier: Certifier) -> None:
    if not is_accredited(ctx, certifier.did):
        raise DomainError(
            ProblemType.CERTIFIER_NOT_ACCREDITED,
            f"{certifier.did} is not accredited in KCIT to issue {CERTIFICATION}",
        )


def accreditation(ctx: IssuerContext, did: str) -> bool | None:
    """For listings: KCIT's answer, or None when it cannot be had right now."""
    try:
        return is_accredited(ctx, did)
    except DomainError:
        return None


def authenticate(ctx: IssuerContext, token: str) -> Certifier | None:
    digest = hash_token(token)
    with ctx.factory() as session:
        row = session.scalar(select(Certifier).where(Certifier.token_hash == digest))
    return row if row is not None and hmac.compare_digest(row.token_hash, digest) else None


def _certifier(presented: str) -> Certifier | None:
    certifier = authenticate(issuer_context(), presented)
    if certifier is not None:
        g.certifier = certifier
        g.actor = f"certifier:{certifier.name}"
    return certifier


#: Only a certifier's own token passes; ``g.certifier`` is its row.
certifier_required = bearer_required(_certifier, what="the certifier's API token")


def describe(ctx: IssuerContext, row: Certifier) -> dict[str, Any]:
    return {
        "name": row.name,
        "did": row.did,
        "accredited": accreditation(ctx, row.did),  # KCIT's, live; null if it cannot say
        "created_at": row.created_at.isoformat(),
    }
