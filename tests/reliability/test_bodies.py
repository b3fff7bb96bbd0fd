"""The body parser's refusals, one by one (``credgate.bodies``): each is a stable problem type."""

from __future__ import annotations

import json

import pytest

from credgate.bodies import BodyRefused, Limits, parse_json

LIMITS = Limits(max_bytes=1024 * 1024, max_depth=64, max_string=64 * 1024)


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("raw", "slug", "status"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "json-too-deep", 400),
        (b"[" * 100_000, "json-too-deep", 400),  # unbalanced, still never recursed into
        (nested(900), "json-too-deep", 400),
        (nested(65), "json-too-deep", 400),
        (b'{"a": "\\ud800"}', "invalid-string", 400),
        (b'{"\\udfff": 1}', "invalid-string", 400),  # keys too
        (b'{"a": "x\\u0000y"}', "invalid-string", 400),
        (json.dumps({"a": "x" * 65_537}).encode(), "string-too-long", 400),
        (b'{"a": 1' + b"0" * 19 + b"}", "number-out-of-range", 400),
        (b'{"a": 1e400}', "number-out-of-range", 400),
        (b'{"a": NaN}', "malformed-json", 400),
        (b'{"a": Infinity}', "malformed-json", 400),
        (b'{"a": "\xff"}', "malformed-json", 400),
        (b"", "malformed-json", 400),
        (b"  ", "malformed-json", 400),
        (b"{", "malformed-json", 400),
        (b"x" * (1024 * 1024 + 1), "payload-too-large", 413),
    ],
)
def test_refusals(raw, slug, status):
    with pytest.raises(BodyRefused) as refused:
        parse_json(raw, LIMITS)
    assert (refused.value.slug, refused.value.status) == (slug, status)


@pytest.mark.parametrize(
    "value",
    [
        {"a": '\U0001f600 \\" [[[[ {{{{'},  # a surrogate pair is a character; brackets in strings
        [[[[[]]]]],
        {"n": 2**63 - 1, "m": -(2**63), "f": 1.5e300, "t": True, "z": None},
        {"a": "x" * 65_536},
    ],
)
def test_well_formed_bodies_pass(value):
    assert parse_json(json.dumps(value).encode(), LIMITS) == value


def test_brackets_inside_strings_do_not_count_towards_depth():
    value = {"a": "[" * 10_000, "b": '\\"' + "{" * 10_000}
    assert parse_json(json.dumps(value).encode(), LIMITS) == value
