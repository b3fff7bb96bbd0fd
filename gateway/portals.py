"""The QR-login portals: each asks for the credentials of one presentation definition
from ``schemas/`` and lands the new session on the app that portal is for."""

from __future__ import annotations

from dataclasses import dataclass

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from schemas.presentation import presentation_definition_names


@dataclass(frozen=True)
class Portal:
    name: str  # also the name of its presentation definition
    title: str
    landing: str  # where a new session goes when the page named no other place


PORTALS: dict[str, Portal] = {
    p.name: p
    for p in (
        Portal("data-provider", "Data provider", "/apps/catalogue/"),
        Portal("data-consumer", "Data consumer", "/apps/marketplace/"),
        Portal("model-provider", "Model provider", "/apps/catalogue/"),
        Portal("company-access", "Company access (Attorney credential)", "/apps/marketplace/"),
        Portal("governance", "Data-space governance", "/"),
    )
    if p.name in presentation_definition_names()
}


def portal(name: str) -> Portal:
    found = PORTALS.get(name)
    if found is None:
        raise DomainError(
            ProblemType.UNKNOWN_PORTAL,
            f"no login portal {name!r}; known: {', '.join(PORTALS)}",
        )
    return found


def safe_next(value: str | None) -> str | None:
    """A same-site path to go to after login (never another origin: no open redirect)."""
    if not value or len(value) > 500 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 for c in value):
        return None
    return value
