"""DIF Presentation Exchange v1 definitions, one per login portal (QR login, token API).

The definitions are fixed JSON files in schemas/presentation_definitions/ with uuid4 ids, so that a
request the gateway sends today and a submission that comes back later name the same definition.
Each input descriptor lists both the expanded type IRI (what ACA-Py matches) and the context URI
(what some other wallets match) under ``schema``.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from schemas.registry import UnknownName

DEFINITIONS_DIR = Path(__file__).parent / "presentation_definitions"


class UnknownPresentationDefinition(UnknownName):
    """No presentation definition has that name."""

    what = "presentation definition"

    def known(self) -> str:
        return "known: " + ", ".join(presentation_definition_names())


@cache
def presentation_definition_names() -> tuple[str, ...]:
    """Names of the bundled definitions (the file stems), e.g. ``"data-provider"``."""
    return tuple(sorted(p.stem for p in DEFINITIONS_DIR.glob("*.json")))


@cache
def _text(name: str) -> str:
    return (DEFINITIONS_DIR / f"{name}.json").read_text(encoding="utf-8")


def presentation_definition(name: str) -> dict[str, Any]:
    """A fresh copy of the definition called ``name`` (callers may add to it freely)."""
    if name not in presentation_definition_names():
        raise UnknownPresentationDefinition(name)
    return json.loads(_text(name))
