"""Every service's ``/openapi.json`` is a valid OpenAPI 3.1 document, and the service answers as
it says: a bounded schemathesis run over each (no agents; a missing agent is a documented 503).

Each service is built over a database of its own, so the generated requests (companies, entries,
tokens) never reach the rows other tests read. Every route of every service is declared (the
gateway's with the apps it mounts from their entry points): an ``x-undeclared`` operation fails
the run. Declared operations are checked for server errors and for answers their declared
responses do not allow; operations not declared, were there any, only for server errors. The
apps' routes answer this run's callers 401 (no gateway grant); tests/apps/test_apps.py
(the schemathesis run at its end) drives them past the gateway with real grants.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from jsonschema import Draft202012Validator

from credgate.config import load_settings
from credgate.db import make_engine, session_factory
from credgate.openapi import is_page, openapi_path
from gateway.mount import discover
from suite.schema import migrate
from tests.conftest import scratch_database
from tests.support.issuer_wallet import operator_headers
from tests.support.openapi_checks import run_operation, runs_for
from verifier import StaticTrustRegistry
from verifier.testing import Party

pytestmark = pytest.mark.db

NO_AGENT = {"AGENT_URL": "http://127.0.0.1:9", "AGENT_API_KEY": "unused"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    var_dir = tmp_path_factory.mktemp("openapi")
    with scratch_database(var_dir, "openapi") as url:
        own = load_settings(var_dir, url)
        engine = make_engine(own.database_url)
        migrate(engine)
        db = session_factory(engine)
        yield {"settings": own, "db": db, "operator": operator_headers(own, db)}
        engine.dispose()


def base(world: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "CREDGATE_SETTINGS": world["settings"],
        "DB_SESSION_FACTORY": world["db"],
        "SECRET_KEY": "openapi",
        "SERVICE_URLS": {},
        **extra,
    }


def kcit_app(world):
    from kcit import create_app

    # The change feed's long poll is cut short: the run measures answers, not waits.
    return create_app(
        base(world, KCIT_ONBOARDING_AUTHORITY=Party.generate().did, KCIT_MAX_WAIT=0.05)
    )


def revocation_app(world):
    from revocation import create_app

    # The event stream ends at once: the run measures answers, not waits.
    return create_app(base(world, STATUS_STREAM_MAX_SECONDS=0.05, STATUS_STREAM_HEARTBEAT=0.02))


def gateway_app(world):
    from gateway.service import create_app

    # The apps of the credgate.apps entry points are mounted (GATEWAY_APPS left to its default):
    # their routes are part of the gateway's document.
    trust = StaticTrustRegistry(onboarding_authority=Party.generate().did)
    return create_app(
        base(
            world,
            VERIFIER_TRUST=trust,
            **NO_AGENT,
            SERVICE_URLS={"revocation": "http://127.0.0.1:9", "verifier": "http://gateway.test"},
        )
    )


def issuer_app(world):
    from issuer import create_app

    return create_app(base(world, ISSUER_WATCH=False, **NO_AGENT))


def wallet_app(world):
    from wallet import create_app

    return create_app(base(world, **NO_AGENT))


def depute_app(world):
    from depute import create_app

    return create_app(base(world, DEPUTE_PROVISION=False, **NO_AGENT))


SERVICES: dict[str, Callable[[dict[str, Any]], Any]] = {
    "kcit": kcit_app,
    "revocation": revocation_app,
    "gateway": gateway_app,
    "issuer": issuer_app,
    "wallet": wallet_app,
    "depute": depute_app,
}


@pytest.fixture(scope="module", params=list(SERVICES))
def service(request, world) -> Iterator[Any]:
    from credgate.web import shutdown

    with pytest.MonkeyPatch.context() as patch:
        # The revocation feed's long poll is cut short too (its bound is a module constant).
        patch.setattr("revocation.routes.MAX_WAIT", 0.05)
        app = SERVICES[request.param](world)
        yield app
        shutdown(app)


def test_the_document_is_valid_openapi_3_1(service):
    document = service.test_client().get("/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # the OpenAPI 3.1 meta-schema
    for definition in document.get("components", {}).get("schemas", {}).values():
        Draft202012Validator.check_schema(definition)
    for ref in references(document):  # each names a component the document holds
        assert ref.removeprefix("#/components/schemas/") in document["components"]["schemas"], ref
    # HTML pages are for people, not part of the API: none is described.
    for rule in service.url_map.iter_rules():
        if is_page(rule, service.view_functions[rule.endpoint]):
            described = document["paths"].get(openapi_path(rule), {})
            assert not {m.lower() for m in rule.methods} & set(described), rule.rule


def test_every_route_is_declared(service):
    """No operation in the document is a route without its :func:`~credgate.openapi.operation`
    (or an HTML view without its mark), apps included."""
    document = service.test_client().get("/openapi.json").get_json()
    undeclared = sorted(
        f"{method.upper()} {path}"
        for path, described in document["paths"].items()
        for method, op in described.items()
        if op.get("x-undeclared")
    )
    assert not undeclared, f"{service.config['SERVICE_NAME']}: routes not declared: {undeclared}"
    if service.config["SERVICE_NAME"] == "verifier":  # the gateway: every mounted app is listed
        mounted = {path.split("/")[2] for path in document["paths"] if path.startswith("/apps/")}
        assert mounted == {spec.name for spec in discover()}


@pytest.mark.slow  # a bounded fuzzing run: make test runs it, make test-fast leaves it out
def test_the_service_answers_as_its_document_says(service, world):
    schema = schemathesis.openapi.from_wsgi("/openapi.json", service)
    # The operator's token goes on every request (to reach past the sign-in), so requests without
    # it are not generated; an unknown query parameter is ignored, as HTTP services do.
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    # An API client asks for JSON: a browser's GET to an app behind the gateway is sent to the
    # portals instead (a declared 303), where the checks want the API's answer.
    headers = {**world["operator"], "Accept": "application/json"}
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode, checks in runs_for(operation.definition.raw):
            failure = run_operation(operation, mode, checks, headers)
            if failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert not failures, "\n".join(failures)


def references(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("$ref"), str):
            yield value["$ref"]
        for member in value.values():
            yield from references(member)
    elif isinstance(value, list):
        for member in value:
            yield from references(member)


TOKEN_SCHEMES = {"operatorToken", "bearer"}


@pytest.mark.parametrize("credentials", [None, "Bearer forged-token", "Basic b3BlcmF0b3I6eA=="])
def test_every_operation_that_names_a_token_refuses_a_request_without_a_valid_one(
    service, credentials
):
    """What the document says needs a token is enforced: each such operation, called with no
    token, a made-up one or another scheme, answers 401 with a problem document, whatever its
    path arguments and body (the guard runs before any other check)."""
    document = service.test_client().get("/openapi.json").get_json()
    client = service.test_client()
    headers = {"Accept": "application/json"}
    if credentials:
        headers["Authorization"] = credentials
    guarded = [
        (method, path)
        for path, described in document["paths"].items()
        for method, op in described.items()
        if {name for need in op.get("security", []) for name in need} & TOKEN_SCHEMES
    ]
    assert guarded or service.config["SERVICE_NAME"] not in {"kcit", "revocation", "issuer"}
    let_in = []
    for method, path in guarded:
        url = re.sub(r"\{[^}]+\}", "1", path)  # "1" fits every converter (int ones too)
        response = client.open(url, method=method.upper(), json={}, headers=headers)
        if response.status_code != 401 or not response.is_json:
            let_in.append(f"{method.upper()} {path}: {response.status_code}")
    assert not let_in, f"{service.config['SERVICE_NAME']}: answered without a token: {let_in}"
