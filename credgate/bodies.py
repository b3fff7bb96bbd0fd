"""Parsing an untrusted JSON body within limits: size, nesting, string length, well-formed text.

:func:`parse_json` is pure (bytes in, a value or :class:`BodyRefused` out);
``credgate.problems.json_body`` reads the request with a cap and turns a refusal into a problem
document. The checks run before a value reaches a service, so no route sees what a recursive copy,
a hash or the database cannot take: a lone surrogate cannot be encoded to UTF-8 (hashes,
PostgreSQL), PostgreSQL text cannot hold a NUL, and deep nesting overflows Python's stack.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

#: Defaults; each service may override them in its config (``JSON_MAX_BYTES`` ...).
MAX_BYTES = 1024 * 1024
MAX_DEPTH = 64  # a verifiable presentation nests about a dozen levels
MAX_STRING = 64 * 1024  # characters, in a value or a key
# Integers beyond a signed 64-bit column would overflow the database (PostgreSQL BIGINT).
MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_depth: int = MAX_DEPTH
    max_string: int = MAX_STRING


class BodyRefused(ValueError):
    """A body refused before parsing finished; ``slug`` is the problem type's stable name."""

    def __init__(self, slug: str, title: str, detail: str, status: int = 400, **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.title = title
        self.detail = detail
        self.status = status
        self.extra = extra


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        "payload-too-large",
        "Payload too large",
        f"the body is larger than the limit of {limit} bytes",
        413,
        limit=limit,
    )


def _malformed(detail: str) -> BodyRefused:
    return BodyRefused("malformed-json", "Malformed JSON", detail)


def _refuse_constant(name: str) -> Any:
    raise _malformed(f"{name} is not a JSON number")


def parse_json(raw: bytes, limits: Limits = Limits()) -> Any:
    """The JSON value ``raw`` holds, or :class:`BodyRefused` naming why it is refused."""
    if len(raw) > limits.max_bytes:
        raise too_large(limits.max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _malformed("the body is not UTF-8") from None
    if not text.strip():
        raise _malformed("the body is empty")
    if _exceeds_depth(text, limits.max_depth):
        raise _too_deep(limits.max_depth)
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except BodyRefused:
        raise
    except RecursionError:  # not reached after the bracket scan; kept as the last guard
        raise _too_deep(limits.max_depth) from None
    except ValueError:
        raise _malformed("the body is not valid JSON") from None
    check_value(value, limits)
    return value


def _too_deep(max_depth: int) -> BodyRefused:
    return BodyRefused(
        "json-too-deep",
        "JSON nested too deeply",
        f"the body nests arrays and objects more than {max_depth} levels deep",
        limit=max_depth,
    )


_STRUCTURAL = re.compile(r'["\[\]{}]')


def _exceeds_depth(text: str, max_depth: int) -> bool:
    """Whether ``[``/``{`` outside strings nest deeper than ``max_depth``, found without recursion.

    Only quotes and brackets are visited one by one (a regex finds the next, a string's closing
    quote is found with ``str.find``); the scan stops at the first level too deep. Unbalanced
    text is left for the parser to refuse.
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth, i, n = 0, 0, len(text)
    search = _STRUCTURAL.search
    while i < n:
        match = search(text, i)
        if match is None:
            return False
        at = match.start()
        ch = text[at]
        if ch == '"':
            i = _string_end(text, at + 1)
            continue
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                return True
        else:
            depth -= 1
        i = at + 1
    return False


def _string_end(text: str, i: int) -> int:
    """The index after the quote closing a string that starts at ``i`` (len(text) if none)."""
    n = len(text)
    while True:
        j = text.find('"', i)
        if j == -1:
            return n
        backslashes = 0
        k = j - 1
        while k >= i and text[k] == "\\":
            backslashes += 1
            k -= 1
        if backslashes % 2 == 0:
            return j + 1
        i = j + 1


def check_value(value: Any, limits: Limits = Limits()) -> None:
    """Refuse a parsed value whose nesting, strings or numbers a service cannot take.

    Iterative (an explicit stack), so a deep value cannot exhaust Python's own.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            check_string(item, limits.max_string)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if not -MAX_INT - 1 <= item <= MAX_INT:
                raise BodyRefused(
                    "number-out-of-range",
                    "Number out of range",
                    "an integer does not fit in 64 bits",
                )
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise BodyRefused(
                    "number-out-of-range", "Number out of range", "a number is not finite"
                )
        elif isinstance(item, dict | list):
            if depth > limits.max_depth:
                raise _too_deep(limits.max_depth)
            if isinstance(item, dict):
                for key, member in item.items():
                    check_string(key, limits.max_string)
                    stack.append((member, depth + 1))
            else:
                stack.extend((member, depth + 1) for member in item)


def check_string(text: str, max_length: int = MAX_STRING) -> None:
    """Refuse a string that is too long, holds a NUL, or is not well-formed Unicode."""
    if len(text) > max_length:
        raise BodyRefused(
            "string-too-long",
            "String too long",
            f"a string is longer than {max_length} characters",
            limit=max_length,
        )
    if "\x00" in text:
        raise BodyRefused("invalid-string", "Invalid string", "a string holds a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyRefused(
            "invalid-string", "Invalid string", "a string holds a lone surrogate"
        ) from None
