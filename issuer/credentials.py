"""Unsigned credentials of credgate's families, built from workflow input, and their checks.

Builders are pure: they take the claims, the issuer DID and the moment, and return a VCDM 1.1
credential (what ACA-Py issues over DIDComm) without ``credentialStatus`` — the status entry is
allocated in the issuance transaction. Checks turn schema violations into one problem document.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer.vcdm import (
    STATUS_LIST_2021_CONTEXT,
    V1_CONTEXT,
    Violation,
    check_credential,
    data_model,
)
from schemas.loader import CREDGATE_CONTEXT_V1
from schemas.registry import UnknownCredentialType, credential_types, validate

CONTEXTS_V1 = [V1_CONTEXT, STATUS_LIST_2021_CONTEXT, CREDGATE_CONTEXT_V1]

# Stands in for what the issuer fills in later, so that a credential can be checked against its
# schema before a status index is spent on it (the real values have the same shape).
PLACEHOLDER_DID = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
PLACEHOLDER_STATUS = {
    "id": "https://status.invalid/status/placeholder#0",
    "type": "StatusList2021Entry",
    "statusPurpose": "revocation",
    "statusListIndex": "0",
    "statusListCredential": "https://status.invalid/status/placeholder",
}


def new_credential_id() -> str:
    return f"urn:uuid:{uuid4()}"


def xsd_datetime(moment: datetime) -> str:
    """Seconds precision with a Z, as the examples and every wallet expect."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(
    type_name: str, issuer_did: str, subject: dict[str, Any], now: datetime, valid_for: timedelta
) -> dict[str, Any]:
    return {
        "@context": list(CONTEXTS_V1),
        "id": new_credential_id(),
        "type": ["VerifiableCredential", type_name],
        "issuer": issuer_did,
        "issuanceDate": xsd_datetime(now),
        "expirationDate": xsd_datetime(now + valid_for),
        "credentialSubject": subject,
    }


def person_onboarding(
    issuer_did: str, attributes: Mapping[str, Any], now: datetime, valid_for: timedelta
) -> dict[str, Any]:
    """A natural person's Onboarding credential; the subject id is bound late, by the wallet."""
    subject = {"kind": "natural-person", "levelOfAssurance": "self-registration"}
    subject.update({k: v for k, v in attributes.items() if v not in (None, "")})
    return envelope("OnboardingCredential", issuer_did, subject, now, valid_for)


def organisation_onboarding(
    issuer_did: str, organisation: Mapping[str, Any], now: datetime, valid_for: timedelta
) -> dict[str, Any]:
    subject = {"kind": "legal-person", "levelOfAssurance": "verified"}
    subject.update({k: v for k, v in organisation.items() if v is not None})
    return envelope("OnboardingCredential", issuer_did, subject, now, valid_for)


def role(
    issuer_did: str, subject_did: str, roles: list[str], now: datetime, valid_for: timedelta
) -> dict[str, Any]:
    subject = {"id": subject_did, "roles": list(roles)}
    return envelope("RoleCredential", issuer_did, subject, now, valid_for)


def software_certification(
    issuer_did: str, claims: Mapping[str, Any], now: datetime, valid_for: timedelta
) -> dict[str, Any]:
    subject = {k: v for k, v in claims.items() if v is not None}
    return envelope("SoftwareCertificationCredential", issuer_did, subject, now, valid_for)


CREDGATE_TYPES = frozenset(credential_types())


def known_type(credential: Mapping[str, Any]) -> str:
    """The credgate type a credential declares; a problem if it declares none (or several)."""
    declared = credential.get("type")
    names = [t for t in declared if isinstance(t, str)] if isinstance(declared, list) else []
    ours = [name for name in names if name in CREDGATE_TYPES]
    if len(ours) != 1:
        raise DomainError(
            ProblemType.UNKNOWN_CREDENTIAL_TYPE,
            f"type must name exactly one credgate credential type, got {declared!r}",
        )
    return ours[0]


def check_vcdm(credential: Any) -> None:
    violations = check_credential(credential)
    if violations:
        raise invalid_credential(violations)


def invalid_credential(violations: list[Violation]) -> DomainError:
    return DomainError(
        ProblemType.INVALID_CREDENTIAL,
        "; ".join(f"{v.path or '/'}: {v.message}" for v in violations[:5]),
        errors=[v.to_dict() for v in violations],
    )


def check_schema(
    credential: Mapping[str, Any], *, placeholders: bool = False, subject: bool = True
) -> None:
    """Raise a ``schema-violation`` problem unless ``credential`` meets its type's JSON Schema.

    With ``placeholders``, a missing status entry (and, unless ``subject`` is false, a missing
    subject id) is filled in with a stand-in first: the check before a status index is allocated
    and before the holder has named its DID.
    """
    candidate: Mapping[str, Any] = credential
    if placeholders:
        candidate = with_placeholders(credential, subject=subject)
    try:
        violations = validate(candidate)
    except UnknownCredentialType as exc:
        raise DomainError(ProblemType.UNKNOWN_CREDENTIAL_TYPE, str(exc)) from None
    if violations:
        raise DomainError(
            ProblemType.SCHEMA_VIOLATION,
            "; ".join(f"{v.path or '/'}: {v.message}" for v in violations[:5]),
            violations=[
                {"path": v.path, "message": v.message, "keyword": v.keyword} for v in violations
            ],
        )


def with_placeholders(credential: Mapping[str, Any], *, subject: bool = True) -> dict[str, Any]:
    candidate = copy.deepcopy(dict(credential))
    placeholder = dict(PLACEHOLDER_STATUS)
    if data_model(candidate) == "2.0":
        placeholder["type"] = "BitstringStatusListEntry"
    candidate.setdefault("credentialStatus", placeholder)
    claims = candidate.get("credentialSubject")
    if subject and isinstance(claims, dict):
        claims.setdefault("id", PLACEHOLDER_DID)
    return candidate


def with_subject(credential: Mapping[str, Any], subject_id: str) -> dict[str, Any]:
    bound = copy.deepcopy(dict(credential))
    bound["credentialSubject"] = {"id": subject_id, **bound.get("credentialSubject", {})}
    return bound
