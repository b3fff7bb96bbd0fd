"""The audit log: every authorisation, status change, provisioning step and sign-in of depute, with
who did it, when and why; exported as JSON or CSV (spreadsheet-safe)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from credgate.db import utcnow
from depute.models import AuditEvent

CSV_FIELDS = ("id", "at", "company", "authorisation", "action", "actor", "reason", "details")


def record(
    session: Session,
    company_id: str,
    action: str,
    actor: str,
    *,
    authorisation_id: str | None = None,
    reason: str = "",
    details: Mapping[str, Any] | None = None,
) -> None:
    session.add(
        AuditEvent(
            company_id=company_id,
            authorisation_id=authorisation_id,
            action=action,
            actor=actor[:200],
            reason=reason,
            details=dict(details or {}),
            at=utcnow(),
        )
    )


def events(session: Session, company_id: str, limit: int = 10_000) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.company_id == company_id)
            .order_by(AuditEvent.at, AuditEvent.id)
            .limit(limit)
        )
    )


def describe(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "at": event.at.isoformat(),
        "company": event.company_id,
        "authorisation": event.authorisation_id,
        "action": event.action,
        "actor": event.actor,
        "reason": event.reason,
        "details": event.details,
    }


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    # A cell starting with = + - @ is a formula to spreadsheet programs (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def to_csv(rows: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow(_cell(row[name]) if row[name] is not None else "" for name in CSV_FIELDS)
    return out.getvalue()
