"""The W3C Verifiable Credentials Data Model rules an unsigned credential must meet before we sign
it, for VCDM 1.1 and 2.0 alike, whatever its type.

Pure functions: each returns the list of what is wrong (JSON pointer + message), empty when the
credential is fine. Our own types are checked against their JSON Schemas afterwards
(``schemas.registry.validate``); these rules are what holds for any credential the VC-API signs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from schemas.loader import bundled_documents
from verifier.credentials import member_violations

V1_CONTEXT = "https://www.w3.org/2018/credentials/v1"
V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
STATUS_LIST_2021_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"

# xsd:dateTime with a time zone (VCDM 2.0 requires one; for 1.1 we require it too, so that a
# date means the same instant to every verifier).
_DATETIME = re.compile(
    r"^-?[0-9]{4,}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")


@dataclass(frozen=True)
class Violation:
    path: str  # RFC 6901 JSON pointer into the credential
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def data_model(credential: Mapping[str, Any]) -> str | None:
    """ "1.1" or "2.0" by the first context, None when it is neither."""
    contexts = credential.get("@context")
    first = contexts[0] if isinstance(contexts, list) and contexts else contexts
    return {V1_CONTEXT: "1.1", V2_CONTEXT: "2.0"}.get(first) if isinstance(first, str) else None


def check_credential(credential: Any) -> list[Violation]:
    """Every VCDM rule ``credential`` (unsigned, no status yet) breaks."""
    if not isinstance(credential, Mapping):
        return [Violation("", "the credential must be a JSON object")]
    version = data_model(credential)
    problems = [
        *_check_context(credential.get("@context"), version),
        *_check_id(credential),
        *_check_type(credential.get("type")),
        *_check_issuer(credential.get("issuer")),
        *_check_subject(credential.get("credentialSubject")),
        *_check_dates(credential, version),
        *_check_issuer_owned(credential),
        *(Violation(path, message) for path, message in member_violations(credential)),
    ]
    return problems


def _check_context(contexts: Any, version: str | None) -> list[Violation]:
    if not isinstance(contexts, list) or not contexts:
        return [Violation("/@context", "@context must be a non-empty array of context URLs")]
    if version is None:
        return [
            Violation(
                "/@context/0",
                f"the first context must be {V1_CONTEXT} (VCDM 1.1) or {V2_CONTEXT} (VCDM 2.0)",
            )
        ]
    problems = []
    bundled = bundled_documents()
    for i, context in enumerate(contexts):
        if not isinstance(context, str):
            # Inline contexts could redefine any term the verifier relies on: refuse them.
            problems.append(Violation(f"/@context/{i}", "contexts must be URLs, not objects"))
        elif context not in bundled:
            problems.append(Violation(f"/@context/{i}", f"context {context!r} is not bundled"))
    if len(set(map(str, contexts))) != len(contexts):
        problems.append(Violation("/@context", "a context is listed twice"))
    return problems


def _check_id(credential: Mapping[str, Any]) -> list[Violation]:
    if "id" in credential and not _is_uri(credential["id"]):
        return [Violation("/id", "id must be a URI")]
    return []


def _check_type(types: Any) -> list[Violation]:
    if isinstance(types, str):
        types = [types]
    if not isinstance(types, list) or not all(isinstance(t, str) and t for t in types):
        return [Violation("/type", "type must be an array of non-empty strings")]
    if "VerifiableCredential" not in types:
        return [Violation("/type", "type must include VerifiableCredential")]
    return []


def _check_issuer(issuer: Any) -> list[Violation]:
    if isinstance(issuer, Mapping):
        if not _is_uri(issuer.get("id")):
            return [Violation("/issuer/id", "issuer.id must be a URI")]
        return []
    if not _is_uri(issuer):
        return [Violation("/issuer", "issuer must be a URI or an object with an id")]
    return []


def _check_subject(subject: Any) -> list[Violation]:
    subjects = subject if isinstance(subject, list) else [subject]
    if not subjects:
        return [Violation("/credentialSubject", "credentialSubject must not be empty")]
    problems = []
    for i, item in enumerate(subjects):
        path = f"/credentialSubject/{i}" if isinstance(subject, list) else "/credentialSubject"
        if not isinstance(item, Mapping) or not item:
            problems.append(Violation(path, "a credential subject must be a non-empty object"))
        elif "id" in item and not _is_uri(item["id"]):
            problems.append(Violation(f"{path}/id", "the subject id must be a URI"))
    return problems


def _check_dates(credential: Mapping[str, Any], version: str | None) -> list[Violation]:
    problems = []
    if version == "2.0":
        for legacy in ("issuanceDate", "expirationDate"):
            if legacy in credential:
                # credentials/v2 does not define it: it would be dropped from what is signed.
                problems.append(
                    Violation(f"/{legacy}", f"{legacy} is VCDM 1.1; use validFrom/validUntil")
                )
        pairs = [("validFrom", "validUntil")]
    else:
        pairs = [("issuanceDate", "expirationDate"), ("validFrom", "validUntil")]
    for start_name, end_name in pairs:
        start, start_bad = _date(credential, start_name)
        end, end_bad = _date(credential, end_name)
        problems += [p for p in (start_bad, end_bad) if p]
        if start and end and end <= start:
            problems.append(Violation(f"/{end_name}", f"{end_name} must be after {start_name}"))
        elif end and end <= datetime.now(UTC):
            # Signing a credential that is already expired helps no one: a client mistake.
            problems.append(Violation(f"/{end_name}", f"{end_name} has already passed"))
    return problems


def _date(credential: Mapping[str, Any], name: str) -> tuple[datetime | None, Violation | None]:
    if name not in credential:
        return None, None
    value = credential[name]
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None, Violation(f"/{name}", f"{name} must be an xsd:dateTime with a time zone")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")), None
    except ValueError:
        return None, Violation(f"/{name}", f"{name} is not a valid date and time")


def _check_issuer_owned(credential: Mapping[str, Any]) -> list[Violation]:
    problems = []
    if "proof" in credential:
        problems.append(Violation("/proof", "send the credential unsigned: the issuer signs it"))
    if "credentialStatus" in credential:
        problems.append(
            Violation("/credentialStatus", "the issuer allocates the status entry; leave it out")
        )
    return problems


def _is_uri(value: Any) -> bool:
    return isinstance(value, str) and len(value) <= 2000 and bool(_URI.match(value))


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """The issuer's identifier, whether ``issuer`` is a string or an object."""
    issuer = credential.get("issuer")
    if isinstance(issuer, Mapping):
        issuer = issuer.get("id")
    return issuer if isinstance(issuer, str) else None


def types_of(credential: Mapping[str, Any]) -> list[str]:
    types = credential.get("type")
    if isinstance(types, str):
        return [types]
    return [t for t in types if isinstance(t, str)] if isinstance(types, list) else []


def subject_id(credential: Mapping[str, Any]) -> str | None:
    subject = credential.get("credentialSubject")
    if isinstance(subject, list):
        subject = subject[0] if subject else None
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        return subject["id"]
    return None
