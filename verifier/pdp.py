"""Policy decision point: given verified credentials and a requirement, allow or deny, with
machine-readable reasons.

Requirements: a role, an attorney power ``{app, action}``, a certified software
digest for a purpose, or a DIF Presentation Exchange definition from ``schemas/``. Only trusted
credentials count — verified, and from an issuer their type's trust rule accepts (a failed
verification is itself a reason to deny, with its error types).
Pure functions over the verifier's results: the gateway enforces and audits the decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonpath_ng.exceptions import JsonPathParserError
from jsonpath_ng.ext import parse as jsonpath
from jsonschema import Draft7Validator
from jsonschema.exceptions import SchemaError

from schemas.registry import credential_types
from verifier.credentials import as_list
from verifier.engine import CredentialResult, PresentationResult

# Reason codes (stable, like error types).
NOT_VERIFIED = "not-verified"
ROLE_MISSING = "role-missing"
POWER_MISSING = "power-missing"
SOFTWARE_NOT_CERTIFIED = "software-not-certified"
PURPOSE_NOT_CERTIFIED = "purpose-not-certified"
DESCRIPTOR_UNSATISFIED = "descriptor-unsatisfied"
UNSUPPORTED_DEFINITION = "unsupported-definition"


@dataclass(frozen=True)
class Role:
    role: str


@dataclass(frozen=True)
class AttorneyPower:
    app: str
    action: str


@dataclass(frozen=True)
class CertifiedSoftware:
    digest: str  # urn:sha256:<hex>
    purpose: str


@dataclass(frozen=True)
class Definition:
    definition: Mapping[str, Any]  # a DIF Presentation Exchange v1 presentation definition


Requirement = Role | AttorneyPower | CertifiedSoftware | Definition


@dataclass(frozen=True)
class Reason:
    code: str
    detail: str
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, **self.extra}


@dataclass(frozen=True)
class Decision:
    allow: bool
    reasons: tuple[Reason, ...] = ()
    credentials: tuple[str, ...] = ()  # ids of the credentials the decision rests on
    acting_for: str | None = None  # the company an attorney acts for
    #: The presented credentials themselves that the decision rests on, first the one that
    #: granted it: a consumer reads these, never looks a credential up again by its id.
    granted_by: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "allow": self.allow,
            "reasons": [r.to_dict() for r in self.reasons],
            "credentials": list(self.credentials),
            "actingFor": self.acting_for,
        }


def _deny(code: str, detail: str, **extra: Any) -> Decision:
    return Decision(False, (Reason(code, detail, extra),))


def _allow(*credentials: Mapping[str, Any], acting_for: str | None = None) -> Decision:
    return Decision(
        True,
        credentials=tuple(str(c.get("id")) for c in credentials),
        acting_for=acting_for,
        granted_by=credentials,
    )


def counted(results: Sequence[CredentialResult]) -> list[Mapping[str, Any]]:
    """The credentials that may grant anything: verified, and from an issuer their type's trust
    rule accepts. Untrusted ones stay in the results (reported), never counted."""
    return [r.credential for r in results if r.trusted]


def _of_type(results: Sequence[CredentialResult], name: str) -> list[Mapping[str, Any]]:
    return [
        r.credential for r in results if r.trusted and r.facts is not None and name in r.facts.types
    ]


def _subjects(credential: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [s for s in as_list(credential.get("credentialSubject")) if isinstance(s, Mapping)]


def decide_credentials(results: Sequence[CredentialResult], requirement: Requirement) -> Decision:
    """Decide over credential results (each must be verified to count)."""
    if isinstance(requirement, Role):
        for credential in _of_type(results, "RoleCredential"):
            for subject in _subjects(credential):
                if requirement.role in as_list(subject.get("roles")):
                    return _allow(credential)
        return _deny(
            ROLE_MISSING,
            f"no verified RoleCredential grants {requirement.role}",
            role=requirement.role,
        )
    if isinstance(requirement, AttorneyPower):
        for credential in _of_type(results, "AttorneyCredential"):
            for subject in _subjects(credential):
                for power in as_list(subject.get("powers")):
                    if (
                        isinstance(power, Mapping)
                        and power.get("app") == requirement.app
                        and requirement.action in as_list(power.get("actions"))
                    ):
                        mandator = subject.get("mandator")
                        company = mandator.get("id") if isinstance(mandator, Mapping) else None
                        return _allow(credential, acting_for=company)
        return _deny(
            POWER_MISSING,
            f"no verified AttorneyCredential grants {requirement.action} on {requirement.app}",
            app=requirement.app,
            action=requirement.action,
        )
    if isinstance(requirement, CertifiedSoftware):
        certified_for: list[str] = []
        for credential in _of_type(results, "SoftwareCertificationCredential"):
            for subject in _subjects(credential):
                if subject.get("id") != requirement.digest:
                    continue
                purposes = as_list(subject.get("purposes"))
                if requirement.purpose in purposes:
                    return _allow(credential)
                certified_for.extend(p for p in purposes if isinstance(p, str))
        if certified_for:
            return _deny(
                PURPOSE_NOT_CERTIFIED,
                f"{requirement.digest} is certified for {', '.join(certified_for)}, "
                f"not {requirement.purpose}",
                digest=requirement.digest,
                purpose=requirement.purpose,
            )
        return _deny(
            SOFTWARE_NOT_CERTIFIED,
            f"no verified certification of {requirement.digest}",
            digest=requirement.digest,
        )
    if isinstance(requirement, Definition):
        return _match_definition(results, requirement.definition)
    raise TypeError(f"not a requirement: {requirement!r}")


def decide(result: PresentationResult, requirement: Requirement) -> Decision:
    """Decide over a verified presentation (holder binding, challenge and every credential)."""
    if not result.verified:
        return _deny(NOT_VERIFIED, "the presentation did not verify", errors=result.error_types())
    return decide_credentials(result.credentials, requirement)


# -- DIF Presentation Exchange ----------------------------------------------------------------


def _schema_uris(credential: Mapping[str, Any]) -> set[str]:
    uris = {c for c in as_list(credential.get("@context")) if isinstance(c, str)}
    known = credential_types()
    for name in as_list(credential.get("type")):
        if isinstance(name, str) and name in known:
            uris.add(known[name].type_iri)
    return uris


def _field_matches(credential: Mapping[str, Any], spec: Mapping[str, Any]) -> bool:
    paths = spec.get("path")
    if not isinstance(paths, list) or not paths:
        raise ValueError("a field needs a path list")
    validator = Draft7Validator(spec["filter"]) if "filter" in spec else None
    for path in paths:
        for match in jsonpath(path).find(credential):
            if validator is None or validator.is_valid(match.value):
                return True
    return bool(spec.get("optional"))


def descriptor_matches(credential: Mapping[str, Any], descriptor: Mapping[str, Any]) -> bool:
    schemas = [s.get("uri") for s in as_list(descriptor.get("schema")) if isinstance(s, Mapping)]
    if schemas and not _schema_uris(credential) & set(schemas):
        return False
    constraints = descriptor.get("constraints") or {}
    return all(_field_matches(credential, spec) for spec in constraints.get("fields") or [])


def _match_definition(
    results: Sequence[CredentialResult], definition: Mapping[str, Any]
) -> Decision:
    if definition.get("submission_requirements"):
        return _deny(UNSUPPORTED_DEFINITION, "submission_requirements are not supported")
    verified = counted(results)
    matched: list[Mapping[str, Any]] = []
    reasons: list[Reason] = []
    try:
        for descriptor in definition.get("input_descriptors") or []:
            hit = next((c for c in verified if descriptor_matches(c, descriptor)), None)
            if hit is None:
                reasons.append(
                    Reason(
                        DESCRIPTOR_UNSATISFIED,
                        "no verified credential satisfies "
                        + str(descriptor.get("name") or "a descriptor"),
                        {"descriptor": descriptor.get("id")},
                    )
                )
            else:
                matched.append(hit)
    except (JsonPathParserError, SchemaError, ValueError, TypeError, AttributeError) as exc:
        return _deny(UNSUPPORTED_DEFINITION, f"cannot evaluate the definition: {exc}")
    if reasons or not matched:
        return Decision(False, tuple(reasons) or (Reason(DESCRIPTOR_UNSATISFIED, "empty"),))
    return _allow(*matched)
