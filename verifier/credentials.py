"""VC Data Model 1.1 and 2.0 structure and validity rules (pure functions).

Signatures say who signed what; these rules say whether what was signed is a well-formed
credential or presentation at all, and whether it is valid *now*. Each failure raises
:class:`~verifier.errors.VerificationError` with a stable type.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import errors
from verifier.encoding import b58decode, b64url_decode
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


# -- VCDM member rules (the spec's MUSTs on typed members, URLs, names, related resources) ------

#: Members whose every entry is an object that MUST name its ``type`` (VCDM 1.1 and 2.0); the
#: ones that MUST also have an ``id``.
TYPED_MEMBERS = ("credentialStatus", "termsOfUse", "evidence", "refreshService", "credentialSchema")
ID_REQUIRED = frozenset({"credentialSchema"})
ENVELOPED = "EnvelopedVerifiableCredential"

_SRI = re.compile(r"^(sha256|sha384|sha512)-([A-Za-z0-9+/]+={0,2})$", re.ASCII)
_SRI_LENGTHS = {"sha256": 32, "sha384": 48, "sha512": 64}
#: multihash codes of the digests VCDM 2.0 names (sha2-256/384/512, sha3-256/384/512)
_MULTIHASH_LENGTHS = {0x12: 32, 0x20: 48, 0x13: 64, 0x16: 32, 0x15: 48, 0x14: 64}
_VALUE_OBJECT_KEYS = frozenset({"@value", "@language", "@direction"})


def is_enveloped(document: Any) -> bool:
    return isinstance(document, Mapping) and ENVELOPED in as_list(document.get("type"))


def _types_ok(value: Any) -> bool:
    types = as_list(value)
    return bool(types) and all(isinstance(t, str) and t for t in types)


def member_violations(credential: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(JSON pointer, message) for every VCDM member rule ``credential`` breaks: typed members
    without ``type`` (or a required ``id``), ids that are not URLs, malformed ``name`` and
    ``description`` values, and ``relatedResource`` entries that are not objects with a unique
    URL id and a well-formed digest. Shared by the issuer (before signing) and the verifier."""
    problems: list[tuple[str, str]] = []
    for member in TYPED_MEMBERS:
        if member not in credential:
            continue
        value = credential[member]
        entries = value if isinstance(value, list) else [value]
        for i, entry in enumerate(entries):
            path = f"/{member}/{i}" if isinstance(value, list) else f"/{member}"
            if not isinstance(entry, Mapping):
                problems.append((path, f"each {member} entry must be an object"))
                continue
            if not _types_ok(entry.get("type")):
                problems.append((f"{path}/type", f"each {member} entry must have a type"))
            if "id" in entry and not _is_url(entry["id"]):
                problems.append((f"{path}/id", f"the {member} id must be a URL"))
            elif member in ID_REQUIRED and "id" not in entry:
                problems.append((f"{path}/id", f"each {member} entry must have an id"))
    holders = [("", credential)]
    if isinstance(credential.get("issuer"), Mapping):
        holders.append(("/issuer", credential["issuer"]))
    for prefix, holder in holders:
        for name in ("name", "description"):
            if name in holder and not _language_values(holder[name]):
                problems.append(
                    (
                        f"{prefix}/{name}",
                        f"{name} must be a string or language "
                        "value objects (@value, @language, @direction)",
                    )
                )
    if "relatedResource" in credential:
        problems += _related_resources(credential["relatedResource"])
    return problems


def _language_values(value: Any) -> bool:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            continue
        if not isinstance(item, Mapping) or not isinstance(item.get("@value"), str):
            return False
        if set(item) - _VALUE_OBJECT_KEYS:
            return False
        if any(not isinstance(item[k], str) for k in ("@language", "@direction") if k in item):
            return False
        if item.get("@direction", "ltr") not in ("ltr", "rtl"):
            return False
    return True


def _related_resources(value: Any) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    entries = value if isinstance(value, list) else [value]
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        path = f"/relatedResource/{i}" if isinstance(value, list) else "/relatedResource"
        if not isinstance(entry, Mapping):
            problems.append((path, "each relatedResource entry must be an object"))
            continue
        if not _is_url(entry.get("id")):
            problems.append((f"{path}/id", "each relatedResource entry must have a URL id"))
        elif entry["id"] in seen:
            problems.append((f"{path}/id", f"relatedResource {entry['id']!r} is listed twice"))
        else:
            seen.add(entry["id"])
        if "digestSRI" not in entry and "digestMultibase" not in entry:
            problems.append((path, "a relatedResource needs digestSRI or digestMultibase"))
        if "digestSRI" in entry and not _sri_ok(entry["digestSRI"]):
            problems.append(
                (
                    f"{path}/digestSRI",
                    "digestSRI must be <sha256|sha384|sha512>-<base64 of a digest of that length>",
                )
            )
        if "digestMultibase" in entry and not _multihash_ok(entry["digestMultibase"]):
            problems.append(
                (f"{path}/digestMultibase", "digestMultibase must be a multibase-encoded multihash")
            )
    return problems


def _sri_ok(value: Any) -> bool:
    match = _SRI.match(value) if isinstance(value, str) else None
    if match is None:
        return False
    try:
        digest = base64.b64decode(match.group(2), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(digest) == _SRI_LENGTHS[match.group(1)]


def _multihash_ok(value: Any) -> bool:
    """Data Integrity 1.0 §2.6: a string or a non-empty list of strings, each a multibase
    (``u`` or ``z``, the headers CID 1.0 names) multihash whose stated length is its own."""
    if isinstance(value, list):
        return bool(value) and all(_one_multihash_ok(item) for item in value)
    return _one_multihash_ok(value)


def _one_multihash_ok(value: Any) -> bool:
    if not isinstance(value, str) or len(value) < 2 or value[0] not in "uz":
        return False
    try:
        raw = b64url_decode(value[1:]) if value[0] == "u" else b58decode(value[1:])
    except ValueError:
        return False
    # code and length are single-byte varints for every digest we accept
    return len(raw) >= 2 and _MULTIHASH_LENGTHS.get(raw[0]) == raw[1] == len(raw) - 2


#: Status entries of one credential (revocation, suspension, and a message or refresh at most).
MAX_STATUS_ENTRIES = 4


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
    if is_enveloped(credential):
        raise VerificationError(
            errors.UNSUPPORTED_FORMAT, "enveloped credentials (VC-JOSE-COSE) are not accepted"
        )
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
    if len(statuses) > MAX_STATUS_ENTRIES:
        # Each entry may be a fetch: a credential does not get to order dozens of them.
        raise VerificationError(
            errors.INVALID_STATUS, f"more than {MAX_STATUS_ENTRIES} credentialStatus entries"
        )
    if not all(isinstance(s, Mapping) and isinstance(s.get("type"), str) for s in statuses):
        raise VerificationError(
            errors.INVALID_CREDENTIAL, "credentialStatus entries must be objects with a type"
        )
    broken = member_violations(credential)
    if broken:
        path, message = broken[0]
        raise VerificationError(errors.INVALID_CREDENTIAL, message, path=path)
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
#: Status lists one presentation may name (distinct URLs, each possibly a fetch): a few lists per
#: issuer and purpose are all an honest holder's credentials point at.
MAX_STATUS_LISTS = 16
#: did:web DIDs the credentials' proofs may name (each a fetch to resolve): an honest
#: presentation's credentials come from a few issuers.
MAX_WEB_DIDS = 8


def check_presentation(presentation: Any) -> PresentationFacts:
    if not isinstance(presentation, Mapping):
        raise VerificationError(errors.INVALID_PRESENTATION, "a presentation must be a JSON object")
    if "EnvelopedVerifiablePresentation" in as_list(presentation.get("type")):
        raise VerificationError(
            errors.UNSUPPORTED_FORMAT, "enveloped presentations (VC-JOSE-COSE) are not accepted"
        )
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
        if isinstance(credential, str) or is_enveloped(credential):
            raise VerificationError(
                errors.UNSUPPORTED_FORMAT, "enveloped or referenced credentials are not supported"
            )
    lists = {
        str(entry.get("statusListCredential"))
        for credential in credentials
        if isinstance(credential, Mapping)
        for entry in as_list(credential.get("credentialStatus"))
        if isinstance(entry, Mapping)
    }
    if len(lists) > MAX_STATUS_LISTS:
        raise VerificationError(
            errors.INVALID_STATUS, f"the credentials name more than {MAX_STATUS_LISTS} status lists"
        )
    methods = (
        id_of(proof.get("verificationMethod"))
        for credential in credentials
        if isinstance(credential, Mapping)
        for proof in as_list(credential.get("proof"))
        if isinstance(proof, Mapping)
    )
    web = {m.split("#", 1)[0] for m in methods if isinstance(m, str) and m.startswith("did:web:")}
    if len(web) > MAX_WEB_DIDS:
        raise VerificationError(
            errors.INVALID_PRESENTATION,
            f"the credentials are signed by more than {MAX_WEB_DIDS} did:web DIDs",
        )
    return PresentationFacts(version, holder, tuple(credentials))
