"""Offer policies (pure): who may buy, as gateway requirements.

A policy is ``{"roles": [...], "definition": "<presentation definition>"}``, both optional:
the buyer must hold one of the roles — directly, or as the attorney (power
``marketplace:purchase``) of a company that holds it — and, if named, satisfy the definition with
its verified credentials. An empty policy admits any participant.
"""

from __future__ import annotations

from typing import Any

from apps import inputs
from gateway.plugin import (
    ActingFor,
    AnyOf,
    AttorneyPower,
    DefinitionName,
    Participant,
    Role,
)
from schemas.presentation import presentation_definition_names
from schemas.registry import ROLES

PURCHASE = AttorneyPower("marketplace", "purchase")


def parse_policy(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or set(value) - {"roles", "definition"}:
        raise inputs.invalid("policy", 'policy is {"roles": [...], "definition": "<name>"}')
    policy: dict[str, Any] = {}
    roles = value.get("roles")
    if roles is not None:
        if not isinstance(roles, list) or not roles or any(r not in ROLES for r in roles):
            raise inputs.invalid("policy.roles", f"roles are some of {', '.join(ROLES)}")
        policy["roles"] = sorted(set(roles))
    definition = value.get("definition")
    if definition is not None:
        if definition not in presentation_definition_names():
            known = ", ".join(presentation_definition_names())
            raise inputs.invalid("policy.definition", f"known definitions: {known}")
        policy["definition"] = definition
    return policy


def requirements(policy: dict[str, Any]) -> list[Any]:
    """Every requirement the buyer must meet (all of them)."""
    needed: list[Any] = []
    roles = tuple(policy.get("roles") or ())
    if roles:
        needed.append(AnyOf(*(Role(r) for r in roles), ActingFor(PURCHASE, roles)))
    if policy.get("definition"):
        needed.append(DefinitionName(policy["definition"]))
    return needed or [Participant()]
