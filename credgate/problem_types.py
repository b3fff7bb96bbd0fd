"""Where problem types live: every problem document's ``type`` is ``PROBLEM_BASE`` + a stable
slug. Flask-free, so libraries (the verifier) name their problem types without a web stack."""

PROBLEM_BASE = "https://w3id.org/credgate/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def type_uri(slug: str) -> str:
    return PROBLEM_BASE + slug
