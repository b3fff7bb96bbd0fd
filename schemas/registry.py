"""The credential-type registry: credgate's four credential families and their JSON Schemas.

One place says, per type, which schema the issuer enforces before signing, which status purposes the
revocation service allocates, and which trust rule the verifier applies to the issuer, so issuer and
verifier cannot disagree about a type. Validation is plain jsonschema (draft 2020-12, formats
checked); ``$ref`` between our schema files is resolved from a local ``referencing`` registry, never
over the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from schemas.loader import CREDGATE_CONTEXT_V1

#: Base IRI of credgate's vocabulary; every credgate type and claim term expands under it
#: (except the schema.org person/organisation names and VCDM 2.0's digestSRI).
VOCAB = "https://w3id.org/credgate/vocab#"

SCHEMAS_DIR = Path(__file__).parent / "json"
EXAMPLES_DIR = Path(__file__).parent / "examples"


class TrustedIssuerRule(StrEnum):
    """Who may issue a type; the verifier maps each rule to a check.

    Trust comes from configuration and KCIT, never from the credential itself.
    """

    ONBOARDING_AUTHORITY = "onboarding-authority"  # the operator's one configured DID
    KCIT_COMPANY = "kcit-company"  # the public DID of a company KCIT marks identified and active
    ACCREDITED_CERTIFIER = "accredited-certifier"  # a DID KCIT accredits as certifier


@dataclass(frozen=True)
class CredentialType:
    """One credential family. ``schema`` is the parsed JSON Schema: treat it as read-only."""

    name: str
    context_url: str
    schema: dict[str, Any] = field(repr=False, compare=False, hash=False)
    status_purposes: tuple[str, ...]
    trusted_issuer_rule: TrustedIssuerRule
    slug: str  # file stem in schemas/json/ and schemas/examples/

    @property
    def type_iri(self) -> str:
        """The type's IRI after JSON-LD expansion (what DIF ``schema`` entries match)."""
        return VOCAB + self.name


class UnknownName(KeyError):
    """A name that nothing in one of the bundled registries has (a credential type, a
    presentation definition). Its message says what is known, where a KeyError's would only
    repeat the name."""

    what = "name"

    def __init__(self, name: object) -> None:
        super().__init__(name)
        self.name = name

    def known(self) -> str:
        raise NotImplementedError

    def __str__(self) -> str:
        return f"unknown {self.what} {self.name!r}; {self.known()}"


class UnknownCredentialType(UnknownName):
    """A name, or a credential's ``type``, that names no credgate credential type."""

    what = "credential type"

    def known(self) -> str:
        return "credgate issues " + ", ".join(credential_types())


@dataclass(frozen=True)
class SchemaViolation:
    """One reason a credential fails its schema. ``path`` is an RFC 6901 JSON pointer into the
    credential; for a missing property it points at the property that should be there."""

    path: str
    message: str
    keyword: str  # the JSON Schema keyword that failed, e.g. "required", "pattern"


# name, file stem, status purposes, issuer rule. Suspendable families carry "suspension".
_FAMILIES: tuple[tuple[str, str, tuple[str, ...], TrustedIssuerRule], ...] = (
    ("OnboardingCredential", "onboarding", ("revocation",), TrustedIssuerRule.ONBOARDING_AUTHORITY),
    ("RoleCredential", "role", ("revocation",), TrustedIssuerRule.ONBOARDING_AUTHORITY),
    (
        "AttorneyCredential",
        "attorney",
        ("revocation", "suspension"),
        TrustedIssuerRule.KCIT_COMPANY,
    ),
    (
        "SoftwareCertificationCredential",
        "software-certification",
        ("revocation", "suspension"),
        TrustedIssuerRule.ACCREDITED_CERTIFIER,
    ),
)


def _read_json(path: Path) -> Any:
    with path.open(encoding="utf-8") as f:
        return json.load(f)


@cache
def credential_types() -> Mapping[str, CredentialType]:
    """Every credgate credential type by name (read-only)."""
    return MappingProxyType(
        {
            name: CredentialType(
                name=name,
                context_url=CREDGATE_CONTEXT_V1,
                schema=_read_json(SCHEMAS_DIR / f"{slug}.schema.json"),
                status_purposes=purposes,
                trusted_issuer_rule=rule,
                slug=slug,
            )
            for name, slug, purposes, rule in _FAMILIES
        }
    )


def credential_type(name: str) -> CredentialType:
    """The type called ``name``; raises :class:`UnknownCredentialType` otherwise."""
    try:
        return credential_types()[name]
    except (KeyError, TypeError):
        raise UnknownCredentialType(name) from None


def _roles() -> tuple[str, ...]:
    subject = credential_type("RoleCredential").schema["properties"]["credentialSubject"]
    return tuple(subject["properties"]["roles"]["items"]["enum"])


#: The data space's roles, in the order the RoleCredential schema lists them (its one source).
ROLES: tuple[str, ...] = _roles()


def example_credential(name: str) -> dict[str, Any]:
    """A fresh copy of the type's realistic unsigned example (VCDM 1.1, StatusList2021)."""
    return _read_json(EXAMPLES_DIR / f"{credential_type(name).slug}.json")


@cache
def schema_registry() -> Registry:
    """All schemas in schemas/json/ by their ``$id``, so relative ``$ref``s resolve offline."""
    resources = []
    for path in sorted(SCHEMAS_DIR.glob("*.schema.json")):
        contents = _read_json(path)
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        resources.append((contents["$id"], resource))
    return Registry().with_resources(resources)


@cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(
        credential_type(name).schema,
        registry=schema_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _types_of(credential: Mapping[str, Any]) -> list[str]:
    declared = credential.get("type")
    names = [declared] if isinstance(declared, str) else declared
    if not isinstance(names, list):
        return []
    return [t for t in names if isinstance(t, str) and t in credential_types()]


def validate(credential: Mapping[str, Any]) -> list[SchemaViolation]:
    """Validate a credential against the schema its ``type`` names; empty list means valid.

    Raises :class:`UnknownCredentialType` when ``type`` names no credgate type: that is not a
    defect of the credential's content but a request for something we do not issue.
    """
    if not isinstance(credential, Mapping):
        return [SchemaViolation("", "a credential must be a JSON object", "type")]
    names = _types_of(credential)
    if not names:
        raise UnknownCredentialType(credential.get("type"))
    if len(names) > 1:
        message = f"type names several credgate credential types: {', '.join(names)}"
        return [SchemaViolation("/type", message, "type")]
    errors = _validator(names[0]).iter_errors(credential)
    violations = [_violation(e) for e in errors]
    control = raw_control_pointer(credential)
    if control is not None:
        violations.append(SchemaViolation(control, CONTROL_MESSAGE, "pattern"))
    return sorted(violations, key=lambda v: (v.path, v.message))


#: C0 controls but tab, LF and CR, and DEL: ACA-Py's signer (pyld's N-Quads writer) leaves them
#: raw where RDFC-1.0 (our verifier, the reference libraries) escapes them, so a credential
#: holding one would be signed and then refused by every verifier.
RAW_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CONTROL_MESSAGE = "a control character (other than tab, line feed, carriage return) is not allowed"


def raw_control_pointer(document: Any) -> str | None:
    """The JSON pointer of the first key or string holding a :data:`RAW_CONTROL` character."""
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        pointer, item = stack.pop()
        if isinstance(item, str):
            if RAW_CONTROL.search(item):
                return pointer
        elif isinstance(item, Mapping):
            for key, value in item.items():
                child = pointer + "/" + str(key).replace("~", "~0").replace("/", "~1")
                if isinstance(key, str) and RAW_CONTROL.search(key):
                    return child
                stack.append((child, value))
        elif isinstance(item, list):
            stack.extend((f"{pointer}/{i}", value) for i, value in enumerate(item))
    return None


def _violation(error: ValidationError) -> SchemaViolation:
    parts = [str(p) for p in error.absolute_path]
    if error.validator == "required" and isinstance(error.instance, Mapping):
        # jsonschema reports a missing property at its parent; point at the property itself.
        missing = [
            p for p in error.validator_value if f"{p!r} is a required property" == error.message
        ]
        parts.extend(missing[:1])
    message = error.message
    if error.validator == "not" and error.validator_value == {} and parts:
        message = f"{parts[-1]!r} is not allowed here"  # credential.schema.json#/$defs/forbidden
    pointer = "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)
    return SchemaViolation(pointer, message, str(error.validator))
