"""Problem documents (RFC 9457) as every service answers them, checked one way in every test."""

from __future__ import annotations

import json
from typing import Any

from credgate.problem_types import PROBLEM_MEDIA_TYPE

#: The base of every problem type's URI: a public contract, spelled out here rather than taken
#: from the code, so that changing it fails the tests.
PROBLEMS = "https://w3id.org/credgate/problems/"


def assert_problem(response, status: int, slug: str, field: str | None = None) -> dict[str, Any]:
    """``response`` (from requests or a Flask test client) is the problem ``slug`` with
    ``status``: its status code, media type, ``type``, ``status`` and ``title`` (and the
    ``field`` it names, when given); the document."""
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM_MEDIA_TYPE, response.text
    body = json.loads(response.text)
    assert body["type"] == PROBLEMS + slug, body
    assert body["status"] == status and body["title"], body
    if field is not None:
        assert body["field"] == field, body
    return body
