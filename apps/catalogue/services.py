"""Catalogue services: publish, search, read; certified flists keep their certificate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from flask import has_app_context
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from apps import inputs
from apps.catalogue.models import KINDS, CatalogueItem
from apps.registry import software_registry
from credgate.db import transaction
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from verifier.credentials import as_list
from verifier.engine import CredentialResult

SORTS = {
    "title": CatalogueItem.title.asc(),
    "-title": CatalogueItem.title.desc(),
    "created": CatalogueItem.created_at.asc(),
    "-created": CatalogueItem.created_at.desc(),
}


@dataclass(frozen=True)
class Query:
    text: str | None = None
    kind: str | None = None
    keyword: str | None = None
    owner: str | None = None
    purpose: str | None = None
    sort: str = "-created"
    limit: int = 20
    offset: int = 0


def parse_query(args: Mapping[str, str]) -> Query:
    kind = args.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise inputs.invalid("kind", f"kind must be one of {', '.join(KINDS)}")
    sort = args.get("sort") or "-created"
    if sort not in SORTS:
        raise inputs.invalid("sort", f"sort must be one of {', '.join(SORTS)}")
    return Query(
        text=(args.get("q") or "").strip()[:200] or None,
        kind=kind,
        keyword=(args.get("keyword") or "").strip().lower()[:50] or None,
        owner=(args.get("owner") or "").strip()[:500] or None,
        purpose=(args.get("purpose") or "").strip().lower()[:50] or None,
        sort=sort,
        limit=inputs.integer(args.get("limit"), "limit", default=20, low=1, high=100),
        offset=inputs.integer(args.get("offset"), "offset", default=0, low=0, high=100_000),
    )


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def search(factory: sessionmaker[Session], query: Query) -> tuple[list[dict[str, Any]], int]:
    statement = select(CatalogueItem)
    if query.text:
        pattern = _like(query.text)
        statement = statement.where(
            or_(
                CatalogueItem.title.ilike(pattern, escape="\\"),
                CatalogueItem.description.ilike(pattern, escape="\\"),
            )
        )
    if query.kind:
        statement = statement.where(CatalogueItem.kind == query.kind)
    if query.owner:
        statement = statement.where(CatalogueItem.owner == query.owner)
    if query.keyword:
        statement = statement.where(
            CatalogueItem.keywords_text.like(_like(f" {query.keyword} "), escape="\\")
        )
    if query.purpose:
        statement = statement.where(
            CatalogueItem.purposes_text.like(_like(f" {query.purpose} "), escape="\\")
        )
    with factory() as session:
        total = session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = session.scalars(
            statement.order_by(SORTS[query.sort], CatalogueItem.id)
            .limit(query.limit)
            .offset(query.offset)
        ).all()
    return [describe(r) for r in rows], int(total or 0)


def describe(item: CatalogueItem, *, with_certificate: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "description": item.description,
        "keywords": item.keywords,
        "license": item.license,
        "format": item.format,
        "owner": item.owner,
        "publisher": item.publisher,
        "created": item.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if item.kind == "flist":
        body.update(
            flistUrl=item.flist_url,
            digest=item.digest,
            md5=item.md5,
            purposes=item.purposes,
            certified=item.certificate is not None,
            certificateUrl=registry_link(item.digest),
        )
        if with_certificate:
            body["certificate"] = item.certificate
    return body


def registry_link(digest: str | None) -> str | None:
    """Where anyone finds the flist's certificates and their live status."""
    if not has_app_context():
        return None
    return software_registry().link(digest)


def get(factory: sessionmaker[Session], item_id: int) -> dict[str, Any]:
    with factory() as session:
        item = session.get(CatalogueItem, item_id)
    if item is None:
        raise DomainError(ProblemType.UNKNOWN_ITEM, f"no catalogue item {item_id}")
    return describe(item, with_certificate=True)


@dataclass(frozen=True)
class NewItem:
    kind: str
    title: str
    description: str
    keywords: list[str]
    license: str | None
    format: str | None
    flist_url: str | None = None
    digest: str | None = None
    md5: str | None = None
    certificate: dict[str, Any] | None = None


def parse_item(body: Any) -> NewItem:
    body = inputs.obj(body)
    kind = inputs.choice(body, "kind", KINDS)
    item = NewItem(
        kind=kind,
        title=inputs.text(body, "title", max_length=200),
        description=inputs.text(body, "description", max_length=5000, required=False, default="")
        or "",
        keywords=inputs.words(body, "keywords"),
        license=inputs.text(body, "license", max_length=100, required=False),
        format=inputs.text(body, "format", max_length=100, required=False),
    )
    if kind != "flist":
        return item
    certificate = body.get("certificate")
    if certificate is None and body.get("digest") is not None:
        # Only the digest: the certificate is looked up in the registry of certified software.
        return replace(item, digest=inputs.digest(body, "digest"))
    if not isinstance(certificate, dict):
        raise inputs.invalid(
            "certificate",
            "a flist needs its SoftwareCertificationCredential "
            "(or its digest, certified in the registry)",
        )
    subject = certificate.get("credentialSubject")
    subject = subject if isinstance(subject, dict) else {}
    flist_url = subject.get("flistUrl")
    md5 = subject.get("md5")
    return replace(
        item,
        flist_url=flist_url[:500] if isinstance(flist_url, str) else None,
        digest=inputs.digest(
            {"certificate.credentialSubject.id": subject.get("id")},
            "certificate.credentialSubject.id",
        ),
        md5=md5 if isinstance(md5, str) and len(md5) == 32 else None,
        certificate=certificate,
    )


def check_certificate(
    item: NewItem, certificates: list[dict[str, Any]], results: tuple[CredentialResult, ...]
) -> tuple[NewItem, list[str]]:
    """The item with the first certificate that verified (proof, status, accredited certifier)
    and is a SoftwareCertificationCredential of the item's digest, and its purposes."""
    for certificate, result in zip(certificates, results, strict=True):
        if not result.verified or result.facts is None:
            continue
        if "SoftwareCertificationCredential" not in result.facts.types:
            continue
        subject = certificate.get("credentialSubject")
        subject = subject if isinstance(subject, dict) else {}
        if item.digest is not None and subject.get("id") != item.digest:
            continue
        flist_url, md5 = subject.get("flistUrl"), subject.get("md5")
        item = replace(
            item,
            certificate=certificate,
            flist_url=flist_url[:500] if isinstance(flist_url, str) else None,
            md5=md5 if isinstance(md5, str) and len(md5) == 32 else None,
        )
        return item, [p for p in as_list(subject.get("purposes")) if isinstance(p, str)]
    if item.certificate is not None and results and not results[0].verified:
        raise DomainError(
            ProblemType.CERTIFICATE_INVALID,
            "; ".join(f"{e.slug}: {e.detail}" for e in results[0].errors),
            errors=results[0].error_types(),
        )
    if item.certificate is not None:
        raise inputs.invalid("certificate", "not a SoftwareCertificationCredential")
    raise DomainError(
        ProblemType.SOFTWARE_NOT_CERTIFIED,
        f"the registry of certified software holds no certificate of {item.digest} that verifies",
        digest=item.digest,
        refused=len(results),
    )


def publish(
    factory: sessionmaker[Session],
    item: NewItem,
    *,
    owner: str,
    publisher: str,
    purposes: list[str] | None = None,
) -> dict[str, Any]:
    purposes = purposes or []
    row = CatalogueItem(
        kind=item.kind,
        title=item.title,
        description=item.description,
        keywords=item.keywords,
        keywords_text=" " + " ".join(k.lower() for k in item.keywords) + " ",
        license=item.license,
        format=item.format,
        owner=owner,
        publisher=publisher,
        flist_url=item.flist_url,
        digest=item.digest,
        md5=item.md5,
        purposes=purposes,
        purposes_text=" " + " ".join(p.lower() for p in purposes) + " ",
        certificate=item.certificate,
    )
    with transaction(factory) as session:
        session.add(row)
    return describe(row, with_certificate=True)


def certificates_for(factory: sessionmaker[Session], digest: str) -> list[dict[str, Any]]:
    """The certificates published with flists of this digest (other apps find them through
    :mod:`apps.registry`)."""
    with factory() as session:
        rows = session.scalars(
            select(CatalogueItem.certificate).where(CatalogueItem.digest == digest)
        ).all()
    return [c for c in rows if c]
