"""Every service: app factory, /health with its agent's readiness, problem documents."""

from __future__ import annotations

import pytest
import requests
from flask import Flask

from credgate import __version__
from credgate.problems import PROBLEM_BASE, PROBLEM_MEDIA_TYPE, Problem, json_body
from credgate.web import create_service_app, shutdown
from suite.services import SERVICES, app_factory

AGENT_OF = {name: agent for name, (_pkg, agent) in SERVICES.items()}


def test_the_suite_has_every_service_of_the_design():
    assert set(SERVICES) == {"issuer", "revocation", "kcit", "depute", "wallet", "verifier"}


@pytest.mark.agents
@pytest.mark.parametrize("name", sorted(SERVICES))
def test_health_over_http_reports_name_version_and_agent(suite, name):
    response = requests.get(suite.servers[name].url + "/health", timeout=5)
    assert response.status_code == 200
    body = response.json()
    assert body["service"] == name and body["version"] == __version__
    assert body["status"] == "ok"
    if AGENT_OF[name] is None:
        assert body["agent"] is None
    else:
        assert body["agent"]["name"] == AGENT_OF[name]
        assert body["agent"]["ready"] is True
        assert body["agent"]["url"] == suite.agents[AGENT_OF[name]].admin_url


@pytest.mark.parametrize("name", ["issuer", "wallet"])
def test_health_is_503_when_the_agent_is_down(settings, name):
    from agents.runtime import free_port

    app = app_factory(name)(
        {
            "CREDGATE_SETTINGS": settings,
            "AGENT_URL": f"http://127.0.0.1:{free_port()}",
            "AGENT_API_KEY": "k",
        }
    )
    try:
        response = app.test_client().get("/health")
    finally:
        shutdown(app)  # the issuer's sweep ends with the test, not after the database
    assert response.status_code == 503
    assert response.json["status"] == "degraded" and response.json["agent"]["ready"] is False


def _app_with_routes(settings) -> Flask:
    app = create_service_app(
        "probe", config={"CREDGATE_SETTINGS": settings, "MAX_CONTENT_LENGTH": 64}
    )

    @app.post("/echo")
    def echo():
        return {"got": json_body()}

    @app.get("/boom")
    def boom():
        raise RuntimeError("internal detail that must not leak")

    @app.get("/refuse")
    def refuse():
        raise Problem(
            "untrusted-issuer", "Untrusted issuer", 403, "did:key:z6Mk... is not accredited"
        )

    return app


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "slug"),
    [
        ("get", "/nowhere", {}, 404, "not-found"),
        ("delete", "/echo", {}, 405, "method-not-allowed"),
        (
            "post",
            "/echo",
            {"data": "{not json", "content_type": "application/json"},
            400,
            "malformed-json",
        ),
        (
            "post",
            "/echo",
            {"data": "a=1", "content_type": "text/plain"},
            415,
            "unsupported-media-type",
        ),
        ("post", "/echo", {"json": {"x": "y" * 200}}, 413, "payload-too-large"),
        ("get", "/refuse", {}, 403, "untrusted-issuer"),
        ("get", "/boom", {}, 500, "internal-error"),
    ],
)
def test_errors_are_problem_documents(settings, method, path, kwargs, status, slug):
    client = _app_with_routes(settings).test_client()
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    body = response.json
    assert body["type"] == PROBLEM_BASE + slug
    assert body["status"] == status and body["title"]
    assert body["instance"] == path
    assert "internal detail" not in response.get_data(as_text=True)


def test_valid_json_passes_through(settings):
    client = _app_with_routes(settings).test_client()
    assert client.post("/echo", json={"a": 1}).json == {"got": {"a": 1}}


def test_405_names_the_allowed_methods(settings):
    response = _app_with_routes(settings).test_client().delete("/echo")
    assert "POST" in response.headers["Allow"]


@pytest.mark.db
def test_operator_token_guards_admin_routes(settings, db):
    from credgate.auth import operator_required
    from credgate.tokens import ensure_operator_token

    app = create_service_app(
        "probe", config={"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": db}
    )

    @app.post("/admin/thing")
    @operator_required
    def thing():
        from flask import g

        return {"actor": g.actor}

    client = app.test_client()
    missing = client.post("/admin/thing")
    assert missing.status_code == 401 and missing.json["type"] == PROBLEM_BASE + "unauthorized"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/admin/thing", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json["type"] == PROBLEM_BASE + "invalid-token"
    token = ensure_operator_token(settings, db)
    ok = client.post("/admin/thing", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json == {"actor": "token:operator"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        # PostgreSQL text cannot hold a NUL: a 500 there, found by schemathesis on the gateway.
        ("get", "/find?holder=a%00b", {}),
        ("get", "/find?h%00=x", {}),
        ("get", "/items/a%00b", {}),
        ("post", "/form", {"data": {"name": "a\x00b"}}),
    ],
)
def test_a_nul_in_the_url_or_a_form_is_a_400_before_any_view(settings, method, path, kwargs):
    app = _app_with_routes(settings)
    reached = []

    @app.get("/find")
    def find():
        reached.append("find")
        return {}

    @app.get("/items/<item>")
    def item(item):
        reached.append(item)
        return {}

    @app.post("/form")
    def form():
        reached.append("form")
        return {}

    response = getattr(app.test_client(), method)(path, **kwargs)
    assert response.status_code == 400, response.get_data(as_text=True)
    assert response.json["type"] == PROBLEM_BASE + "invalid-parameter"
    assert reached == []
