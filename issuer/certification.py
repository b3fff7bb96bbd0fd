"""Software certification: an accredited certifier's SoftwareCertification credential over the
digest of an flist, issued from the certifier's own DID; listing and revoking them.

Everything that can be checked without the flist is checked before it is downloaded (the
certifier's accreditation, the claims against the schema), so a bad request costs no download.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from credgate.db import utcnow
from credgate.problems import Problem
from issuer import certifiers, credentials, flist, inputs
from issuer.context import IssuerContext
from issuer.exchanges import Offer, open_exchange
from issuer.models import ISSUED, Certification, Certifier, Exchange, IssuedCredential
from revocation.entries import entry_record
from revocation.status import change_status

FIELDS = ("flistUrl", "name", "version", "purposes", "statement", "validUntil")
# Same shape as real digests, so the claims can be checked against the schema before download.
_PLACEHOLDER = flist.Digests(size=1, sha256="0" * 64, md5="0" * 32)


def certify(
    ctx: IssuerContext,
    certifier: Certifier,
    body: Mapping[str, Any],
    upload: FileStorage | None = None,
) -> tuple[Certification, Exchange]:
    certifiers.require_accredited(certifier)
    body = inputs.json_object(body, FIELDS)
    url = body.get("flistUrl")
    if upload is None or url is not None:
        url = flist.check_url(url)
    tenant = ctx.tenants.by_name(certifier.tenant)
    if tenant is None:
        raise Problem("certifier-not-found", "Certifier tenant not found", 404)

    draft = _credential(ctx, tenant.did, body, url, _PLACEHOLDER)
    credentials.check_vcdm(draft)
    credentials.check_schema(draft, placeholders=True)

    max_bytes = ctx.settings.flist_max_bytes
    if upload is not None:
        digests = flist.digest_upload(upload.stream, max_bytes)
    else:
        digests = flist.fetch_flist(url, max_bytes=max_bytes, timeout=ctx.settings.flist_timeout)
    credential = _credential(ctx, tenant.did, body, url, digests)

    certification = Certification(
        id=str(uuid4()),
        certifier_id=certifier.id,
        name=body["name"],
        version=body["version"],
        flist_url=url,
        filename=(upload.filename or None) if upload is not None else None,
        size=digests.size,
        sha256=digests.sha256,
        digest_sri=digests.digest_sri,
        md5=digests.md5,
        purposes=list(body["purposes"]),
        statement=body["statement"],
        record_id="",
    )

    def record_certification(session: Session, reserved: list[IssuedCredential]) -> None:
        certification.record_id = reserved[0].id
        session.add(certification)

    exchange = open_exchange(
        ctx, workflow="software-certification", tenant=tenant,
        offers=[Offer(credential)], actor=f"certifier:{certifier.name}",
        also=record_certification,
    )  # fmt: skip
    return certification, exchange


def _credential(
    ctx: IssuerContext,
    issuer_did: str,
    body: Mapping[str, Any],
    url: str | None,
    digests: flist.Digests,
) -> dict[str, Any]:
    claims = {
        "id": digests.subject_id,
        "name": body.get("name"),
        "version": body.get("version"),
        "flistUrl": url,
        "digestSRI": digests.digest_sri,
        "md5": digests.md5,
        "purposes": body.get("purposes"),
        "statement": body.get("statement"),
    }
    credential = credentials.software_certification(
        issuer_did, claims, utcnow(), ctx.settings.certification_validity
    )
    if body.get("validUntil") is not None:
        credential["expirationDate"] = body["validUntil"]  # VCDM 1.1's name for it
    return credential


def form_fields(form: Mapping[str, Any]) -> dict[str, Any]:
    """A multipart upload's fields as the JSON body would carry them (purposes repeated, or
    comma-separated)."""
    body: dict[str, Any] = {k: v for k, v in form.items() if k != "purposes" and v != ""}
    purposes = [p.strip() for raw in form.getlist("purposes") for p in raw.split(",") if p.strip()]
    if purposes:
        body["purposes"] = purposes
    return body


def list_certifications(ctx: IssuerContext, certifier: Certifier) -> list[dict[str, Any]]:
    with ctx.factory() as session:
        rows = session.execute(
            select(Certification, IssuedCredential)
            .join(IssuedCredential, IssuedCredential.id == Certification.record_id)
            .where(Certification.certifier_id == certifier.id)
            .order_by(Certification.created_at.desc(), Certification.id)
            .limit(500)
        ).all()
    return [describe(ctx, cert, record) for cert, record in rows]


def get_certification(
    ctx: IssuerContext, certifier: Certifier, certification_id: str
) -> tuple[Certification, IssuedCredential]:
    with ctx.factory() as session:
        cert = session.get(Certification, certification_id)
        if cert is None or cert.certifier_id != certifier.id:  # others' certificates: not found
            raise Problem("certification-not-found", "Certification not found", 404)
        return cert, session.get(IssuedCredential, cert.record_id)


def revoke(
    ctx: IssuerContext, certifier: Certifier, certification_id: str, body: Any
) -> dict[str, Any]:
    body = inputs.json_object(body, ("reason",))
    reason = inputs.text(body, "reason")
    cert, record = get_certification(ctx, certifier, certification_id)
    if record.state != ISSUED:
        raise Problem(
            "certification-not-issued", "Certification not issued", 409,
            f"the credential is {record.state}: only an issued credential can be revoked",
        )  # fmt: skip
    change_status(
        ctx.factory, record.status_entry_id, "revoke",
        reason=reason, actor=f"certifier:{certifier.name}",
    )  # fmt: skip
    return describe(ctx, cert, record)


def describe(ctx: IssuerContext, cert: Certification, record: IssuedCredential) -> dict[str, Any]:
    status = entry_record(ctx.factory, record.status_entry_id)["status"]
    return {
        "id": cert.id,
        "name": cert.name,
        "version": cert.version,
        "flistUrl": cert.flist_url,
        "filename": cert.filename,
        "size": cert.size,
        "subject": f"urn:sha256:{cert.sha256}",
        "digestSRI": cert.digest_sri,
        "md5": cert.md5,
        "purposes": cert.purposes,
        "statement": cert.statement,
        "credential": {
            "id": record.id,
            "credential_id": record.credential_id,
            "state": record.state,
            "status": status,
            "credentialStatus": record.credential.get("credentialStatus"),
            "exchange_id": record.exchange_id,
        },
        "created_at": cert.created_at.isoformat(),
    }
