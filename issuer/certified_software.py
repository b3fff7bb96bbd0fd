"""The public registry of certified software: every signed SoftwareCertification credential, found
by the digest of the software's bytes (``urn:sha256:<hex>``), with its live status.

Read-only and public: a certificate is a public statement about software, not about a person.
The status shown is the status entry's as it stands now (the list the verifier reads), and an
expired certificate says so. The registry is a place to *find* certificates: whoever relies on
one (the catalogue, compute) verifies the credential itself — signature, the certifier's KCIT
accreditation, the published status list — and never this listing's word for it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from credgate.db import utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer.context import IssuerContext
from issuer.models import ISSUED, Certification, Certifier, IssuedCredential
from revocation.models import StatusEntry

DIGEST = re.compile(r"^urn:sha256:[0-9a-f]{64}$")
STATUSES = ("active", "suspended", "revoked", "expired")
PURPOSES = ("de-identification", "anonymisation", "harmonisation", "model-training")
MAX_LIMIT = 500

Row = tuple[Certification, IssuedCredential, Certifier, StatusEntry]


def check_digest(digest: str) -> str:
    if not DIGEST.match(digest):
        raise DomainError(
            ProblemType.INVALID_DIGEST,
            "a software digest is urn:sha256: followed by 64 lowercase hex digits",
        )
    return digest


def _published() -> Select:
    return (
        select(Certification, IssuedCredential, Certifier, StatusEntry)
        .join(IssuedCredential, IssuedCredential.id == Certification.record_id)
        .join(Certifier, Certifier.id == Certification.certifier_id)
        .join(StatusEntry, StatusEntry.id == IssuedCredential.status_entry_id)
        .where(IssuedCredential.state == ISSUED)
    )


def by_digest(ctx: IssuerContext, digest: str) -> dict[str, Any]:
    """Every certificate of ``digest``, newest first; a 404 problem if there is none."""
    digest = check_digest(digest)
    with ctx.factory() as session:
        rows = session.execute(
            _published()
            .where(Certification.sha256 == digest.removeprefix("urn:sha256:"))
            .order_by(IssuedCredential.issued_at.desc(), Certification.id)
            .limit(MAX_LIMIT)
        ).all()
    if not rows:
        raise DomainError(
            ProblemType.SOFTWARE_NOT_FOUND,
            f"no certifier has certified {digest}",
            digest=digest,
        )
    now = utcnow()
    return {
        "digest": digest,
        "certificates": [entry(ctx, *row, now=now, with_credential=True) for row in rows],
    }


def search(ctx: IssuerContext, args: Mapping[str, str]) -> dict[str, Any]:
    """Certified software, newest first: ``?purpose=&certifier=<did>&status=&limit=&offset=``."""
    limit, offset = (
        _integer(args, "limit", 100, 1, MAX_LIMIT),
        _integer(args, "offset", 0, 0, 100_000),
    )
    status = args.get("status") or None
    if status is not None and status not in STATUSES:
        raise _invalid("status", f"status must be one of {', '.join(STATUSES)}")
    purpose = args.get("purpose") or None
    if purpose is not None and purpose not in PURPOSES:
        raise _invalid("purpose", f"purpose must be one of {', '.join(PURPOSES)}")
    query = _published()
    if args.get("certifier"):
        query = query.where(Certifier.did == args["certifier"][:500])
    with ctx.factory() as session:
        rows = session.execute(
            query.order_by(IssuedCredential.issued_at.desc(), Certification.id)
        ).all()
    now = utcnow()
    found = [entry(ctx, *row, now=now) for row in rows]
    # Purposes and expiry live in JSON and in the credential: filtered here, after the query.
    if purpose is not None:
        found = [e for e in found if purpose in e["purposes"]]
    if status is not None:
        found = [e for e in found if e["status"] == status]
    return {
        "software": found[offset : offset + limit],
        "total": len(found),
        "limit": limit,
        "offset": offset,
    }


def entry(
    ctx: IssuerContext,
    cert: Certification,
    record: IssuedCredential,
    certifier: Certifier,
    status_entry: StatusEntry,
    *,
    now: datetime,
    with_credential: bool = False,
) -> dict[str, Any]:
    credential = record.credential
    valid_until = credential.get("expirationDate") or credential.get("validUntil")
    status = status_entry.status
    if status == "active" and _expired(valid_until, now):
        status = "expired"
    digest = f"urn:sha256:{cert.sha256}"
    body: dict[str, Any] = {
        "digest": digest,
        "digestSRI": cert.digest_sri,
        "md5": cert.md5,
        "size": cert.size,
        "name": cert.name,
        "version": cert.version,
        "flistUrl": cert.flist_url,
        "purposes": cert.purposes,
        "statement": cert.statement,
        "certifier": {"name": certifier.name, "did": certifier.did},
        "credentialId": record.credential_id,
        "status": status,
        "issued": record.issued_at.isoformat() if record.issued_at else None,
        "validUntil": valid_until,
        "url": registry_url(ctx, digest),
    }
    if with_credential:
        body["credential"] = credential
    return body


def registry_url(ctx: IssuerContext, digest: str) -> str:
    return f"{(ctx.public_url or '').rstrip('/')}/issuer/software/{digest}"


def _expired(valid_until: Any, now: datetime) -> bool:
    if not isinstance(valid_until, str):
        return False
    try:
        return datetime.fromisoformat(valid_until.replace("Z", "+00:00")) <= now
    except ValueError:
        return False


def _integer(args: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise _invalid(name, f"{name} must be an integer from {low} to {high}")
    return int(raw)


def _invalid(field: str, detail: str) -> DomainError:
    return DomainError(ProblemType.INVALID_REQUEST, detail, field=field)
