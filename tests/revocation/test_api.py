"""The operator API of the revocation service: revoke / suspend / reinstate, entries with history,
and every bad request as a problem document."""

from __future__ import annotations

from uuid import uuid4

import pytest

from revocation import create_app
from revocation.allocation import StatusAllocation
from tests.support.problems import assert_problem
from tests.support.status_entries import live_entry

pytestmark = pytest.mark.db

BASE = "http://127.0.0.1:8702"


@pytest.fixture(scope="module")
def client(settings, db):
    app = create_app({"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": db, "SERVICE_URLS": {}})
    return app.test_client()


def issued(db, purpose: str = "suspension", credential_id: str | None = None) -> StatusAllocation:
    return live_entry(db, BASE, purpose=purpose, credential_id=credential_id, exchange_id="ex-42")


def test_suspend_reinstate_revoke_over_the_api_with_history(client, operator, db):
    got = issued(db)
    url = f"/status/entries/{got.entry_id}"

    response = client.post(f"{url}/suspend", json={"reason": "on leave"}, headers=operator)
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["state"], body["final"]) == ("suspended", "issued", False)
    assert body["seq"] > 0 and body["credentialStatus"] == got.credential_status()

    reinstated = client.post(f"{url}/reinstate", json={"reason": "back"}, headers=operator)
    assert reinstated.status_code == 200
    revoked = client.post(f"{url}/revoke", json={"reason": "left the company"}, headers=operator)
    assert revoked.get_json()["status"] == "revoked" and revoked.get_json()["final"] is True

    entry = client.get(url, headers=operator).get_json()
    assert (entry["id"], entry["list_id"], entry["index"]) == (got.entry_id, got.list_id, got.index)
    assert entry["exchange_id"] == "ex-42" and entry["purpose"] == "suspension"
    assert [(h["action"], h["status"], h["reason"], h["actor"]) for h in entry["history"]] == [
        ("reserve", "active", "exchange ex-42", "system"),
        ("issue", "active", "credential delivered", "system"),
        ("suspend", "suspended", "on leave", "token:operator"),
        ("reinstate", "active", "back", "token:operator"),
        ("revoke", "revoked", "left the company", "token:operator"),
    ]


def test_entries_are_found_by_credential_id_or_list_and_index(client, operator, db):
    credential_id = f"urn:uuid:{uuid4()}"
    got = issued(db, credential_id=credential_id)
    by_credential = client.get(
        "/status/entries", query_string={"credential_id": credential_id}, headers=operator
    ).get_json()["entries"]
    assert [e["id"] for e in by_credential] == [got.entry_id]
    assert "history" not in by_credential[0]
    by_index = client.get(
        "/status/entries",
        query_string={"list_id": got.list_id, "index": got.index},
        headers=operator,
    ).get_json()["entries"]
    assert [e["id"] for e in by_index] == [got.entry_id]
    none = client.get(
        "/status/entries", query_string={"credential_id": "urn:x:none"}, headers=operator
    )
    assert none.get_json() == {"entries": []}


def test_an_invalid_transition_is_a_409_naming_the_current_status(client, operator, db):
    got = issued(db, purpose="revocation")
    url = f"/status/entries/{got.entry_id}"
    body = assert_problem(
        client.post(f"{url}/suspend", json={"reason": "r"}, headers=operator),
        409,
        "not-suspendable",
    )
    assert body["current_status"] == "active"
    client.post(f"{url}/revoke", json={"reason": "r"}, headers=operator)
    body = assert_problem(
        client.post(f"{url}/revoke", json={"reason": "again"}, headers=operator),
        409,
        "revocation-is-final",
    )
    assert body["current_status"] == "revoked"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/status/entries/1/revoke"),
        ("get", "/status/entries/1"),
        ("get", "/status/entries?credential_id=x"),
    ],
)
def test_the_operator_api_needs_a_token(client, method, path):
    response = getattr(client, method)(path, json={"reason": "r"} if method == "post" else None)
    assert_problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = {"Authorization": "Bearer not-a-token"}
    response = getattr(client, method)(
        path, json={"reason": "r"} if method == "post" else None, headers=wrong
    )
    assert_problem(response, 401, "invalid-token")


@pytest.mark.parametrize("entry_id", ["999999999", "0", "abc", "-1", "1.5", str(2**31), "٣"])
def test_unknown_entries_are_404_problems(client, operator, entry_id):
    assert_problem(
        client.post(f"/status/entries/{entry_id}/revoke", json={"reason": "r"}, headers=operator),
        404,
        "unknown-entry",
    )
    assert_problem(
        client.get(f"/status/entries/{entry_id}", headers=operator), 404, "unknown-entry"
    )


def test_an_unknown_action_is_a_404_problem(client, operator, db):
    got = issued(db)
    for action in ("delete", "unrevoke", "REVOKE"):
        assert_problem(
            client.post(
                f"/status/entries/{got.entry_id}/{action}", json={"reason": "r"}, headers=operator
            ),
            404,
            "unknown-action",
        )


@pytest.mark.parametrize(
    ("kwargs", "status", "slug"),
    [
        ({"data": "{not json", "content_type": "application/json"}, 400, "malformed-json"),
        (
            {"data": "reason=r", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported-media-type",
        ),
        ({"json": ["reason", "r"]}, 400, "invalid-body"),
        ({"json": {}}, 400, "invalid-reason"),
        ({"json": {"reason": ""}}, 400, "invalid-reason"),
        ({"json": {"reason": {"text": "r"}}}, 400, "invalid-reason"),
        ({"json": {"reason": "x" * 1001}}, 400, "invalid-reason"),
        ({"json": {"reason": "x" * (1024 * 1024)}}, 413, "payload-too-large"),
    ],
)
def test_bad_bodies_are_problems_and_change_nothing(client, operator, db, kwargs, status, slug):
    got = issued(db)
    response = client.post(f"/status/entries/{got.entry_id}/suspend", headers=operator, **kwargs)
    assert_problem(response, status, slug)
    entry = client.get(f"/status/entries/{got.entry_id}", headers=operator).get_json()
    assert entry["status"] == "active" and len(entry["history"]) == 2


@pytest.mark.parametrize(
    ("query", "slug"),
    [({}, "missing-parameter"), ({"list_id": "x", "index": "-2"}, "invalid-parameter")],
)
def test_bad_entry_searches_are_problems(client, operator, query, slug):
    assert_problem(client.get("/status/entries", query_string=query, headers=operator), 400, slug)


@pytest.mark.parametrize("list_id", ["changes-x", "0" * 32, "ABCDEF" + "0" * 26, "x" * 300])
def test_an_unknown_status_list_is_a_404_problem(client, list_id):
    assert_problem(client.get(f"/status/{list_id}"), 404, "unknown-status-list")


def test_methods_the_api_does_not_have_are_405_problems(client, operator):
    assert_problem(client.delete("/status/entries/1", headers=operator), 405, "method-not-allowed")
    assert_problem(client.post("/status/changes"), 405, "method-not-allowed")
