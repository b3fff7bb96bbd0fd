"""Software certification: an accredited certifier's SoftwareCertification credential over the
digest of an flist, signed by the certifier's own DID; listing, downloading and revoking them.

The subject is the software (``urn:sha256:<hex>``), not a holder: there is no wallet to offer it
to. The certifier's tenant signs it directly (the agent's LD-proof signing endpoint), the signed
credential is kept with its issuance record, and from then on it is public in the software
registry (:mod:`issuer.software`), where the catalogue, compute and any publisher find it by
digest. Whether the certifier may certify is KCIT's accreditation, asked before anything else.

Everything that can be checked without the flist is checked before it is downloaded (the
certifier's accreditation, the claims against the schema), so a bad request costs no download.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import uuid4

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import certifiers, credentials, flist, inputs, records
from issuer.certified_software import registry_url
from issuer.context import IssuerContext
from issuer.models import ISSUED, Certification, Certifier, IssuedCredential
from issuer.tenants import agent_problem
from issuer.vcapi import sign_reserved
from revocation.entries import entry_record
from revocation.status import change_status

WORKFLOW = "software-certification"
FIELDS = ("flistUrl", "name", "version", "purposes", "statement", "validUntil")
# Same shape as real digests, so the claims can be checked against the schema before download.
_PLACEHOLDER = flist.Digests(size=1, sha256="0" * 64, md5="0" * 32)


def certify(
    ctx: IssuerContext,
    certifier: Certifier,
    body: Mapping[str, Any],
    upload: FileStorage | None = None,
) -> Certification:
    certifiers.require_accredited(ctx, certifier)
    body = inputs.json_object(body, FIELDS)
    url = body.get("flistUrl")
    if upload is None or url is not None:
        url = flist.check_url(url)
    tenant = ctx.tenants.by_name(certifier.tenant)
    if tenant is None:
        raise DomainError(ProblemType.CERTIFIER_NOT_FOUND, title="Certifier tenant not found")

    draft = _credential(ctx, tenant.did, body, url, _PLACEHOLDER)
    credentials.check_vcdm(draft)
    credentials.check_schema(draft, placeholders=True)

    max_bytes = ctx.settings.flist_max_bytes
    if upload is not None:
        digests = flist.digest_upload(upload.stream, max_bytes)
    else:
        digests = flist.fetch_flist(
            url, max_bytes=max_bytes, timeout=ctx.settings.flist_timeout, policy=ctx.fetch_policy
        )
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
    actor = f"certifier:{certifier.name}"
    # The record, its status index and the certification in one transaction, before signing.
    with transaction(ctx.factory) as session:
        record = records.reserve(
            session,
            credential,
            type_name="SoftwareCertificationCredential",
            workflow=WORKFLOW,
            channel="vc-api",
            actor=actor,
            status_base_url=ctx.status_base_url,
        )
        certification.record_id = record.id
        session.add(certification)
    # Once delivered, it is published in the registry.
    sign_reserved(ctx, tenant, record, credential, problem=agent_problem)
    return certification


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
            raise DomainError(ProblemType.CERTIFICATION_NOT_FOUND)
        return cert, cert.record


def signed_credential(
    ctx: IssuerContext, certifier: Certifier, certification_id: str
) -> dict[str, Any]:
    """The signed credential, for the certifier to keep or hand to a publisher."""
    _, record = _issued_certification(ctx, certifier, certification_id, "it was never signed")
    return record.credential


def _issued_certification(
    ctx: IssuerContext, certifier: Certifier, certification_id: str, otherwise: str
) -> tuple[Certification, IssuedCredential]:
    """The certification and its record, which must be issued (else a 409 saying ``otherwise``)."""
    cert, record = get_certification(ctx, certifier, certification_id)
    if record.state != ISSUED:
        raise DomainError(
            ProblemType.CERTIFICATION_NOT_ISSUED,
            f"the credential is {record.state}: {otherwise}",
        )
    return cert, record


def revoke(
    ctx: IssuerContext, certifier: Certifier, certification_id: str, body: Any
) -> dict[str, Any]:
    body = inputs.json_object(body, ("reason",))
    reason = inputs.text(body, "reason")
    cert, record = _issued_certification(
        ctx, certifier, certification_id, "only an issued credential can be revoked"
    )
    change_status(
        ctx.factory,
        record.status_entry_id,
        "revoke",
        reason=reason,
        actor=f"certifier:{certifier.name}",
    )
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
        },
        "registry": registry_url(ctx, f"urn:sha256:{cert.sha256}"),
        "created_at": cert.created_at.isoformat(),
    }
