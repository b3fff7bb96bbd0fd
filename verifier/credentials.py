"""VC Data Model 1.1 and 2.0 structure and validity rules (pure functions).

Signatures say who signed what; these rules say whether what was signed is a well-formed
credential or presentation at all, and whether it is valid *now*. Each failure raises
:class:`~verifier.errors.VerificationError` with a stable type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import errors
from verifier.errors import VerificationError

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"

# xsd:dateTime with a mandatory offset (VCDM 2.0 §4.9; 1.1 credentials in the wild use the same).
_DATETIME = re.compile(
    r"^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$", re.ASCII
)


def parse_datetime(value: Any, field: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME.match(value):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, f"{field} is not an xsd:dateTime with a time zone: {value!r}"
        )
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise VerificationError(
            errors.INVALID_CREDENTIAL, f"{field} is not a valid date-time: {value!r}"
        ) from None
    return parsed.astimezone(UTC)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$", value) is not None


def id_of(value: Any) -> str | None:
    """The id of a value that is a URL string or an object with an ``id``."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("id"), str):
        return value["id"]
    return None


def data_model_version(document: Mapping[str, Any], kind: str) -> int:
    """1 or 2, from the first context; anything else is not a VC document."""
    slug = errors.INVALID_CREDENTIAL if kind == "credential" else errors.INVALID_PRESENTATION
    contexts = as_list(document.get("@context"))
    if not contexts:
        raise VerificationError(slug, f"the {kind} has no @context")
    if contexts[0] == V1:
        return 1
    if contexts[0] == V2:
        return 2
    raise VerificationError(
        slug, f"the first @context of a {kind} must be {V1} or {V2}, not {contexts[0]!r}"
    )


@dataclass(frozen=True)
class CredentialFacts:
    """What the checks below learned about a well-formed credential."""

    version: int
    issuer: str
    types: tuple[str, ...]
    subject_ids: tuple[str, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    status_entries: tuple[Mapping[str, Any], ...]


def check_credential(credential: Any) -> CredentialFacts:
    """The data-model rules of a credential (not its proof, not its validity period)."""
    if not isinstance(credential, Mapping):
        raise VerificationError(errors.INVALID_CREDENTIAL, "a credential must be a JSON object")
    version = data_model_version(credential, "credential")
    types = as_list(credential.get("type"))
    if "VerifiableCredential" not in types or not all(isinstance(t, str) for t in types):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, "type must be a list of strings with VerifiableCredential"
        )
    if "id" in credential and not _is_url(credential["id"]):
        raise VerificationError(errors.INVALID_CREDENTIAL, "id must be a URL")
    issuer = id_of(credential.get("issuer"))
    if not _is_url(issuer):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, "issuer must be a URL or an object with a URL id"
        )
    subjects = as_list(credential.get("credentialSubject"))
    if not subjects or not all(isinstance(s, Mapping) and s for s in subjects):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, "credentialSubject must be one or more non-empty objects"
        )
    subject_ids = []
    for subject in subjects:
        if "id" in subject:
            if not _is_url(subject["id"]):
                raise VerificationError(
                    errors.INVALID_CREDENTIAL, "credentialSubject.id is not a URL"
                )
            subject_ids.append(subject["id"])

    valid_from = valid_until = None
    if version == 1:
        if "issuanceDate" not in credential:
            raise VerificationError(
                errors.INVALID_CREDENTIAL, "a VCDM 1.1 credential needs issuanceDate"
            )
        valid_from = parse_datetime(credential["issuanceDate"], "issuanceDate")
        if "expirationDate" in credential:
            valid_until = parse_datetime(credential["expirationDate"], "expirationDate")
    # validFrom/validUntil: VCDM 2.0, and credgate's own 1.1 credentials carry them too.
    if "validFrom" in credential:
        start = parse_datetime(credential["validFrom"], "validFrom")
        valid_from = max(valid_from, start) if valid_from else start
    if "validUntil" in credential:
        end = parse_datetime(credential["validUntil"], "validUntil")
        valid_until = min(valid_until, end) if valid_until else end
    if valid_from and valid_until and valid_until < valid_from:
        raise VerificationError(errors.INVALID_CREDENTIAL, "validity ends before it starts")

    statuses = as_list(credential.get("credentialStatus"))
    if not all(isinstance(s, Mapping) and isinstance(s.get("type"), str) for s in statuses):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, "credentialStatus entries must be objects with a type"
        )
    return CredentialFacts(
        version=version,
        issuer=issuer,  # type: ignore[arg-type]
        types=tuple(types),
        subject_ids=tuple(subject_ids),
        valid_from=valid_from,
        valid_until=valid_until,
        status_entries=tuple(statuses),
    )


def check_validity_period(facts: CredentialFacts, now: datetime) -> None:
    if facts.valid_from is not None and now < facts.valid_from:
        raise VerificationError(
            errors.NOT_YET_VALID, f"the credential is valid from {facts.valid_from.isoformat()}"
        )
    if facts.valid_until is not None and now > facts.valid_until:
        raise VerificationError(
            errors.EXPIRED, f"the credential expired at {facts.valid_until.isoformat()}"
        )


@dataclass(frozen=True)
class PresentationFacts:
    version: int
    holder: str | None
    credentials: tuple[Any, ...]


#: More credentials than this in one presentation is refused before any canonicalization.
MAX_CREDENTIALS = 32


def check_presentation(presentation: Any) -> PresentationFacts:
    if not isinstance(presentation, Mapping):
        raise VerificationError(errors.INVALID_PRESENTATION, "a presentation must be a JSON object")
    version = data_model_version(presentation, "presentation")
    types = as_list(presentation.get("type"))
    if "VerifiablePresentation" not in types:
        raise VerificationError(
            errors.INVALID_PRESENTATION, "type must include VerifiablePresentation"
        )
    holder = None
    if "holder" in presentation:
        holder = id_of(presentation["holder"])
        if not _is_url(holder):
            raise VerificationError(errors.INVALID_PRESENTATION, "holder must be a URL")
    credentials = as_list(presentation.get("verifiableCredential"))
    if len(credentials) > MAX_CREDENTIALS:
        raise VerificationError(
            errors.INVALID_PRESENTATION, f"more than {MAX_CREDENTIALS} credentials"
        )
    for credential in credentials:
        if isinstance(credential, str):
            raise VerificationError(
                errors.UNSUPPORTED_FORMAT, "enveloped or referenced credentials are not supported"
            )
    return PresentationFacts(version, holder, tuple(credentials))
