"""Certifiers: each has its own tenant (DID) on the issuer agent and an API token to call us with.

Until KCIT keeps accreditations, the operator keeps the list here: a certifier may certify only
while ``accredited``. Only a SHA-256 of the token is stored; the token is shown once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Any

from flask import g
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from credgate.auth import bearer_required
from credgate.db import transaction, utcnow
from credgate.problems import Problem
from issuer import inputs
from issuer.context import IssuerContext, issuer_context
from issuer.models import Certifier

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register(ctx: IssuerContext, body: Any) -> tuple[Certifier, str]:
    """A new certifier with its tenant and DID; returns it and its API token (shown once)."""
    body = inputs.json_object(body, ("name", "accredited"))
    name = inputs.text(body, "name", max_length=63)
    if not NAME.match(name):
        raise inputs.invalid("name must be 2-63 lowercase letters, digits or dashes", "name")
    accredited = inputs.boolean(body, "accredited") if "accredited" in body else False
    with ctx.factory() as session:
        if session.scalar(select(Certifier.id).where(Certifier.name == name)) is not None:
            raise _exists(name)
    tenant = ctx.tenants.ensure(f"certifier-{name}")
    token = secrets.token_urlsafe(32)
    row = Certifier(
        name=name,
        tenant=tenant.name,
        did=tenant.did,
        token_hash=_hash(token),
        accredited=accredited,
    )
    try:
        with transaction(ctx.factory) as session:
            session.add(row)
    except IntegrityError:
        raise _exists(name) from None
    return row, token


def _exists(name: str) -> Problem:
    return Problem("certifier-exists", "Certifier exists", 409, f"a certifier {name!r} exists")


def set_accreditation(ctx: IssuerContext, name: str, body: Any) -> Certifier:
    body = inputs.json_object(body, ("accredited",))
    accredited = inputs.boolean(body, "accredited")
    with transaction(ctx.factory) as session:
        done = session.execute(
            update(Certifier)
            .where(Certifier.name == name)
            .values(accredited=accredited, updated_at=utcnow())
        ).rowcount
    if not done:
        raise Problem("certifier-not-found", "Certifier not found", 404)
    return find(ctx, name)


def find(ctx: IssuerContext, name: str) -> Certifier:
    with ctx.factory() as session:
        row = session.scalar(select(Certifier).where(Certifier.name == name))
    if row is None:
        raise Problem("certifier-not-found", "Certifier not found", 404)
    return row


def all_certifiers(ctx: IssuerContext) -> list[Certifier]:
    with ctx.factory() as session:
        return list(session.scalars(select(Certifier).order_by(Certifier.name)))


def is_accredited_did(ctx: IssuerContext, did: str) -> bool:
    with ctx.factory() as session:
        return bool(session.scalar(select(Certifier.accredited).where(Certifier.did == did)))


def require_accredited(certifier: Certifier) -> None:
    if not certifier.accredited:
        raise Problem(
            "certifier-not-accredited", "Certifier not accredited", 403,
            f"{certifier.did} is not accredited to issue SoftwareCertificationCredential",
        )  # fmt: skip


def authenticate(ctx: IssuerContext, token: str) -> Certifier | None:
    digest = _hash(token)
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


def describe(row: Certifier) -> dict[str, Any]:
    return {
        "name": row.name,
        "did": row.did,
        "accredited": row.accredited,
        "created_at": row.created_at.isoformat(),
    }
