"""Small validators the apps share: each bad field is a 400 problem that names the field."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from credgate.errors import DomainError
from credgate.problem_types import ProblemType

DIGEST = re.compile(r"urn:sha256:[0-9a-f]{64}")


def invalid(field: str, detail: str) -> DomainError:
    return DomainError(
        ProblemType.INVALID_FIELD,
        detail,
        title=f"Invalid field: {field}",
        field=field,
    )


def text(
    body: Mapping[str, Any],
    field: str,
    *,
    max_length: int,
    required: bool = True,
    default: str | None = None,
) -> str | None:
    value = body.get(field, default)
    if value is None or value == "":
        if required:
            raise invalid(field, f"{field} is required")
        return default
    if not isinstance(value, str):
        raise invalid(field, f"{field} must be a string")
    value = value.strip()
    if required and not value:
        raise invalid(field, f"{field} is required")
    if len(value) > max_length:
        raise invalid(field, f"{field} is longer than {max_length} characters")
    return value


def choice(body: Mapping[str, Any], field: str, options: tuple[str, ...]) -> str:
    value = body.get(field)
    if value not in options:
        raise invalid(field, f"{field} must be one of {', '.join(options)}")
    return value


def words(
    body: Mapping[str, Any], field: str, *, max_items: int = 20, max_length: int = 50
) -> list[str]:
    value = body.get(field, [])
    if not isinstance(value, list) or len(value) > max_items:
        raise invalid(field, f"{field} must be a list of at most {max_items} strings")
    cleaned = []
    for item in value:
        if not isinstance(item, str) or not item.strip() or len(item) > max_length:
            raise invalid(field, f"each of {field} is a non-empty string of ≤ {max_length}")
        cleaned.append(item.strip())
    return cleaned


def digest(body: Mapping[str, Any], field: str) -> str:
    value = body.get(field)
    if not isinstance(value, str) or not DIGEST.fullmatch(value):
        raise invalid(field, f"{field} must be urn:sha256:<64 lower-case hex digits>")
    return value


def integer(raw: str | None, field: str, *, default: int, low: int, high: int) -> int:
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid(field, f"{field} must be an integer") from None
    if not low <= value <= high:
        raise invalid(field, f"{field} must be between {low} and {high}")
    return value


def obj(body: Any) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise DomainError(ProblemType.INVALID_REQUEST, "send a JSON object")
    return body
