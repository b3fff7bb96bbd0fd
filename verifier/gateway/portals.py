"""The login portals (DESIGN §5.5): each asks for the credentials of one presentation definition
from ``schemas/`` and lands the new session on the app that portal is for."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from credgate.problems import Problem
from schemas.presentation import presentation_definition, presentation_definition_names


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
        raise Problem("unknown-portal", "Unknown portal", 404,
                      f"no login portal {name!r}; known: {', '.join(PORTALS)}")  # fmt: skip
    return found


def wallet_definition(name: str) -> dict[str, Any]:
    """The portal's definition as sent to wallets, adjusted for what ACA-Py 1.7 holders do:

    * every ``schema`` entry is required unless marked otherwise, and a credential matches one
      only by expanded type or ``credentialSchema`` — never by context — so the context-URI entry
      (there for wallets that match contexts) is marked ``required: false``;
    * an ``ldp_vp`` proof-type list containing Ed25519Signature2018 makes ACA-Py search only for
      *credentials* signed with 2018, while credgate issues Ed25519Signature2020 (DESIGN §7); the
      list is dropped (holders then sign as they can; the gateway verifies 2018 and 2020).

    The definition's id and descriptors stay as in ``schemas/``: the gateway decides against the
    original."""
    definition = copy.deepcopy(presentation_definition(name))
    definition.pop("format", None)
    for descriptor in definition.get("input_descriptors") or []:
        schemas = descriptor.get("schema")
        if isinstance(schemas, list):
            for entry in schemas:
                if isinstance(entry, dict) and "#" not in str(entry.get("uri", "")):
                    entry["required"] = False
    return definition


def safe_next(value: str | None) -> str | None:
    """A same-site path to go to after login (never another origin: no open redirect)."""
    if not value or len(value) > 500 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x20 for c in value):
        return None
    return value
