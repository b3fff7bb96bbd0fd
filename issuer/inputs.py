"""Checks of API request bodies, each failure an ``invalid-request`` problem naming the field.

Claim contents are left to the credential's JSON Schema (a ``schema-violation`` problem with
pointers into the credential); these checks cover the shape of the request around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from credgate.errors import DomainError
from credgate.problem_types import ProblemType

DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+$")


def invalid(detail: str, field: str | None = None) -> DomainError:
    extra = {"field": field} if field else {}
    return DomainError(ProblemType.INVALID_REQUEST, detail, **extra)


def json_object(body: Any, allowed: Iterable[str]) -> Mapping[str, Any]:
    """``body`` as an object with only ``allowed`` keys."""
    if not isinstance(body, Mapping):
        raise invalid("the body (and each object in it) must be a JSON object")
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise invalid(f"unknown field(s): {', '.join(unknown)}", unknown[0])
    return body


def text(
    body: Mapping[str, Any], name: str, *, required: bool = True, max_length: int = 1000
) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required", name)
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise invalid(f"{name} must be a non-empty string of at most {max_length} characters", name)
    return value


def did(body: Mapping[str, Any], name: str, *, required: bool = True) -> str | None:
    value = text(body, name, required=required, max_length=500)
    if value is not None and not DID.match(value):
        raise invalid(f"{name} must be a DID (did:<method>:<id>)", name)
    return value


def strings(body: Mapping[str, Any], name: str, *, required: bool = True) -> list[str] | None:
    value = body.get(name)
    if value is None:
        if required:
            raise invalid(f"{name} is required", name)
        return None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise invalid(f"{name} must be a non-empty array of strings", name)
    return value


def boolean(body: Mapping[str, Any], name: str) -> bool:
    value = body.get(name)
    if not isinstance(value, bool):
        raise invalid(f"{name} must be true or false", name)
    return value
