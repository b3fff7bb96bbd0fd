"""A bounded schemathesis run over one operation of a service's ``/openapi.json``: what it is
checked for (its answers as declared; what its declaration refuses, refused) and the run itself.
Used by tests/suite/test_openapi.py (every service, no grant) and tests/apps/test_apps.py (the
apps, past the gateway with real grants)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
)

#: Generated cases per operation: enough to reach every declared branch of a small API, bounded
#: so that the six services together stay under a minute on two cores.
EXAMPLES = 6


def validated(operation: dict[str, Any]) -> bool:
    """Whether the kit checks the operation's input: a JSON body or query parameters (path
    parameters are the routes' own to check, and mostly any string; a body of any JSON has
    nothing to break)."""
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    query = [p for p in operation.get("parameters", ()) if p["in"] == "query"]
    return not operation.get("x-undeclared") and (bool(body.get("schema")) or bool(query))


def server_error(ctx, response, case):
    """schemathesis's check, but a 503 the operation declares, or one with ``Retry-After`` (an
    agent or the database out of reach, which the client is told to retry), is an answer."""
    if response.status_code == 503 and (
        "503" in case.operation.definition.raw.get("responses", {})
        or "Retry-After" in response.headers
    ):
        return None
    return not_a_server_error(ctx, response, case)


def runs_for(operation: dict[str, Any]) -> list[tuple[GenerationMode, list]]:
    """The runs an operation gets: a declared one is answered as declared (an undeclared one,
    were there any, only without server errors), and what its declaration refuses is refused."""
    runs = [(GenerationMode.POSITIVE, [server_error])]
    if not operation.get("x-undeclared"):
        runs = [(GenerationMode.POSITIVE, [server_error, response_schema_conformance])]
    if validated(operation):
        runs.append((GenerationMode.NEGATIVE, [server_error, negative_data_rejection]))
    return runs


def run_operation(operation, mode, checks, headers: dict[str, str]) -> str | None:
    """The first failure schemathesis finds within ``EXAMPLES`` cases, or None."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(mode))
    def explore(case):
        case.call_and_validate(headers=headers, checks=checks)

    try:
        explore()
    except Unsatisfiable:  # nothing to break: the declaration allows every value
        return None
    except (Exception, BaseExceptionGroup) as exc:  # schemathesis's failures, per operation
        return f"{type(exc).__name__}: {str(exc)[:1500]}"
    return None
