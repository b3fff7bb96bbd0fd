"""What a gateway route needs, and the pure functions that decide it.

The verifier's policy decision point (:mod:`verifier.pdp`) decides the four kinds a route
can name — a role, an attorney power, a certified software digest, a DIF presentation definition.
The gateway adds what routes need around them:

* :class:`Participant` — a trusted OnboardingCredential of the holder, or a trusted
  AttorneyCredential (the holder acts for a company KCIT identifies): a data-space participant;
* :class:`Public` — nothing (the gateway neither authenticates nor audits);
* :class:`DefinitionName` — a definition from ``schemas/`` by name (resolved once, cached);
* :class:`ActingFor` — an attorney power for a company that itself holds one of some roles
  (publishing in the catalogue for a DataProvider company);
* :class:`AnyOf` — the first alternative that allows.

A deny keeps the reasons of every alternative, so a 403 names each missing role or power.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from schemas.presentation import presentation_definition
from verifier.engine import CredentialResult
from verifier.pdp import (
    AttorneyPower,
    CertifiedSoftware,
    Decision,
    Definition,
    Reason,
    Role,
    decide_credentials,
)

__all__ = [
    "ActingFor",
    "AnyOf",
    "AttorneyPower",
    "CertifiedSoftware",
    "CompanyRoles",
    "Definition",
    "DefinitionName",
    "Participant",
    "Public",
    "Requirement",
    "Role",
    "describe",
    "evaluate",
    "requirement_of",
    "requires",
]

COMPANY_ROLE_MISSING = "company-role-missing"
PARTICIPANT_TYPES = frozenset({"OnboardingCredential", "AttorneyCredential"})
NO_CREDENTIAL = "no-valid-credential"


@dataclass(frozen=True)
class Participant:
    """A data-space participant right now: a trusted OnboardingCredential whose subject is the
    holder, or a trusted AttorneyCredential (its issuer is a company KCIT identifies and keeps
    active, for which the holder acts). Presentations bind every DID subject to their signer;
    any other credential, however well signed, makes nobody a participant."""


@dataclass(frozen=True)
class Public:
    """No requirement: the route is open, and its requests are not audited."""


@dataclass(frozen=True)
class DefinitionName:
    name: str


@dataclass(frozen=True)
class ActingFor:
    """An attorney power, for a company that holds one of ``roles``."""

    power: AttorneyPower
    roles: tuple[str, ...]


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Any, ...]

    def __init__(self, *options: Any) -> None:
        if not options:
            raise ValueError("AnyOf needs at least one requirement")
        object.__setattr__(self, "options", tuple(options))


Requirement = (
    Role
    | AttorneyPower
    | CertifiedSoftware
    | Definition
    | DefinitionName
    | Participant
    | Public
    | ActingFor
    | AnyOf
)

#: company DID -> (roles its verified credentials grant now, ids of those credentials)
CompanyRoles = Callable[[str], tuple[frozenset[str], tuple[str, ...]]]

REQUIREMENT_ATTRIBUTE = "__credgate_requirement__"


def requires(requirement: Requirement) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Declare what a view of a mounted app needs; the gateway enforces it before the view runs.

    Put it under the route decorator: ``@bp.get(...)`` then ``@requires(Role("DataProvider"))``."""
    _check(requirement)

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, REQUIREMENT_ATTRIBUTE, requirement)
        return view

    return mark


def requirement_of(view: Callable[..., Any]) -> Requirement | None:
    return getattr(view, REQUIREMENT_ATTRIBUTE, None)


def _check(requirement: Any) -> None:
    if isinstance(requirement, AnyOf):
        for option in requirement.options:
            _check(option)
    elif isinstance(requirement, DefinitionName):
        resolve_definition(requirement.name)  # an unknown name fails at import, not at request
    elif not isinstance(
        requirement,
        Role | AttorneyPower | CertifiedSoftware | Definition | Participant | Public | ActingFor,
    ):
        raise TypeError(f"not a gateway requirement: {requirement!r}")


@cache
def _definition(name: str) -> Definition:
    return Definition(presentation_definition(name))


def resolve_definition(name: str) -> Definition:
    return _definition(name)


def describe(requirement: Requirement) -> str:
    """A short human name: ``role DataProvider``, ``power marketplace:purchase``, ..."""
    match requirement:
        case Role(role=role):
            return f"role {role}"
        case AttorneyPower(app=app, action=action):
            return f"power {app}:{action}"
        case CertifiedSoftware(digest=digest, purpose=purpose):
            return f"software {digest} for {purpose}"
        case DefinitionName(name=name):
            return f"definition {name}"
        case Definition(definition=definition):
            return f"definition {definition.get('id', '?')}"
        case Participant():
            return "participant"
        case Public():
            return "public"
        case ActingFor(power=power, roles=roles):
            return f"{describe(power)} for a company with role {' or '.join(roles)}"
        case AnyOf(options=options):
            return " or ".join(describe(o) for o in options)
    return repr(requirement)


def _no_company_roles(_company: str) -> tuple[frozenset[str], tuple[str, ...]]:
    return frozenset(), ()


def evaluate(
    requirement: Requirement,
    results: Sequence[CredentialResult],
    company_roles: CompanyRoles = _no_company_roles,
) -> Decision:
    """Decide ``requirement`` over credential results (only verified ones count)."""
    match requirement:
        case Public():
            return Decision(True)
        case Participant():
            onboarding = [
                r.credential
                for r in results
                if r.trusted and r.facts is not None and PARTICIPANT_TYPES & set(r.facts.types)
            ]
            if onboarding:
                return Decision(
                    True,
                    credentials=tuple(str(c.get("id")) for c in onboarding),
                    granted_by=tuple(onboarding),
                )
            reason = Reason(NO_CREDENTIAL, "no trusted onboarding credential of yours is valid now")
            return Decision(False, (reason,))
        case DefinitionName(name=name):
            return decide_credentials(results, resolve_definition(name))
        case ActingFor(power=power, roles=roles):
            return _acting_for(results, power, roles, company_roles)
        case AnyOf(options=options):
            reasons: list[Reason] = []
            for option in options:
                decision = evaluate(option, results, company_roles)
                if decision.allow:
                    return decision
                reasons.extend(decision.reasons)
            return Decision(False, tuple(reasons))
    return decide_credentials(results, requirement)


def _acting_for(
    results: Sequence[CredentialResult],
    power: AttorneyPower,
    roles: tuple[str, ...],
    company_roles: CompanyRoles,
) -> Decision:
    attorney = decide_credentials(results, power)
    if not attorney.allow:
        return attorney
    company = attorney.acting_for
    held, evidence = company_roles(company) if company else (frozenset(), ())
    if held & set(roles):
        return Decision(
            True,
            credentials=attorney.credentials + evidence,
            acting_for=company,
            granted_by=attorney.granted_by,
        )
    return Decision(
        False,
        (
            Reason(
                COMPANY_ROLE_MISSING,
                f"your company {company} holds no verified role {' or '.join(roles)}",
                {"company": company, "roles": list(roles)},
            ),
        ),
        acting_for=company,
    )


def missing(reasons: Iterable[Reason]) -> list[str]:
    """What the holder lacks, from a deny's reasons: ``["power marketplace:purchase", ...]``."""
    names: list[str] = []
    for reason in reasons:
        extra = reason.extra
        if "role" in extra:
            names.append(f"role {extra['role']}")
        elif "action" in extra:
            names.append(f"power {extra['app']}:{extra['action']}")
        elif "roles" in extra:
            names.append(f"company role {' or '.join(extra['roles'])}")
        elif "digest" in extra:
            names.append(f"software {extra['digest']}")
        elif "descriptor" in extra:
            names.append(f"credential for descriptor {extra['descriptor']}")
    return names
