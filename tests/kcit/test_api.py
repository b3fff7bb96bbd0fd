"""KCIT's API without agents: self-registration and its checks (VAT, LEI, DID, did:web key),
admin review with the operator token, the full history, accreditations, the trust-registry
interface and the change feed, on a KCIT app over the session's database."""

from __future__ import annotations

import json
import threading
import time

import pytest

from credgate.openapi import openapi_path
from gateway.mount import discover
from suite.services import app_factory
from tests.support.problems import assert_problem
from verifier.testing import LoopbackServer, Party, QuietHandler

pytestmark = pytest.mark.db

VAT_FR = "FR40303265045"
VAT_DE = "DE136695976"
LEI = "5493001KJTIIGC8Y1R12"
XSS = '<script>alert("x")</script>'


class DidWebServer(LoopbackServer):
    """did:web documents on loopback: ``documents`` maps a path to a DID document."""

    def __init__(self) -> None:
        self.documents: dict[str, dict] = {}
        documents = self.documents

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                body = documents.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.reply(200, json.dumps(body).encode(), "application/did+json")

        super().__init__(Handler)
        self.start()

    def publish(self, host: str, party: Party, *, key_listed: bool = True) -> tuple[str, str]:
        """A did:web for ``host`` whose document holds ``party``'s key; (did, key id)."""
        did = f"did:web:{host}"
        key_id = f"{did}#key-1"
        method = {
            "id": key_id,
            "type": "Ed25519VerificationKey2020",
            "controller": did,
            "publicKeyMultibase": party.did.removeprefix("did:key:"),
        }
        self.documents[f"/{host}/.well-known/did.json"] = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "verificationMethod": [method],
            "assertionMethod": [key_id] if key_listed else [],
        }
        return did, key_id


@pytest.fixture(scope="module")
def didweb():
    server = DidWebServer()
    yield server
    server.stop()


#: did:web hosts the tests use, all served by the loopback server (nothing leaves 127.0.0.1).
WEB_HOSTS = ("acme.test", "unlisted.test", "nobody.test")


@pytest.fixture(scope="module")
def app(settings, db, didweb):
    app = app_factory("kcit")(  # as the suite builds it: with the apps' powers
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "SECRET_KEY": "test",
            "DID_WEB_OVERRIDE": {h: f"{didweb.url}/{h}" for h in WEB_HOSTS},
            "KCIT_ONBOARDING_AUTHORITY": Party.generate().did,
            "SERVER_NAME": "kcit.test",
        }
    )
    return app


def registration(**overrides) -> dict:
    body = {
        "legalName": "Helix Data Cooperative",
        "legalRegistrationNumber": {"vatId": VAT_FR, "lei": LEI},
        "country": "FR",
        "subdivision": "FR-IDF",
        "addresses": [{"street": "1 rue de la Paix", "locality": "Paris", "postalCode": "75002"}],
        "representatives": [{"name": "Jonas Keller", "email": "jonas@helix.example"}],
    }
    body.update(overrides)
    return body


def register(client, **overrides) -> dict:
    response = client.post("/kcit/registrations", json=registration(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numbers", "slug", "field"),
    [
        ({"vatId": "FR40303265046"}, "invalid-vat", "legalRegistrationNumber.vatId"),
        ({"vatId": "ZZ123456"}, "invalid-vat", "legalRegistrationNumber.vatId"),
        ({"vatId": VAT_DE}, "invalid-vat", "legalRegistrationNumber.vatId"),  # not FR
        ({"lei": "5493001KJTIIGC8Y1R13"}, "invalid-lei", "legalRegistrationNumber.lei"),
        ({"lei": "TOO-SHORT"}, "invalid-lei", "legalRegistrationNumber.lei"),
        ({"euid": "FR no dot"}, "invalid-euid", "legalRegistrationNumber.euid"),
        ({}, "missing-field", "legalRegistrationNumber"),
    ],
)
def test_invalid_registration_numbers_are_problems_naming_the_field(client, numbers, slug, field):
    response = client.post(
        "/kcit/registrations", json=registration(legalRegistrationNumber=numbers)
    )
    assert_problem(response, 422, slug, field)


@pytest.mark.parametrize(
    ("did", "slug"),
    [
        ("not-a-did", "invalid-did"),
        ("did:web:", "invalid-did"),
        ("did:example:123", "unsupported-did-method"),
        ("did:key:zNotAKey", "did-not-resolvable"),
        ("did:web:nobody.test", "did-not-resolvable"),
    ],
)
def test_invalid_dids_are_problems_naming_the_did_field(client, did, slug):
    body = registration(did=did)
    if did.startswith("did:web:") and did != "did:web:":
        body["didKey"] = f"{did}#key-1"
    assert_problem(client.post("/kcit/registrations", json=body), 422, slug, "did")


def test_all_field_errors_are_reported_together(client):
    body = registration(country="France", representatives=[{"name": "", "email": "nope"}])
    body["legalRegistrationNumber"] = {"vatId": "FR1", "lei": "x"}
    found = assert_problem(client.post("/kcit/registrations", json=body), 422, "invalid-country")
    fields = {e["field"] for e in found["errors"]}
    assert {
        "country",
        "legalRegistrationNumber.vatId",
        "legalRegistrationNumber.lei",
        "representatives[0].name",
        "representatives[0].email",
    } <= fields


def test_did_web_must_resolve_and_list_the_declared_key(client, didweb):
    did, key_id = didweb.publish("acme.test", Party.generate())
    company = register(client, did=did, didKey=key_id)
    assert company["dids"] == [{"did": did, "origin": "declared", "key": key_id}]
    assert company["status"] == "pending" and company["levelOfAssurance"] == "self-registration"

    other, other_key = didweb.publish("unlisted.test", Party.generate(), key_listed=False)
    response = client.post("/kcit/registrations", json=registration(did=other, didKey=other_key))
    assert_problem(response, 422, "did-key-not-found", "didKey")
    response = client.post(
        "/kcit/registrations", json=registration(did=did, didKey=f"{did}#missing")
    )
    assert_problem(response, 422, "did-key-not-found", "didKey")
    response = client.post("/kcit/registrations", json=registration(did=did))
    assert_problem(response, 422, "missing-field", "didKey")
    # A DID names one company.
    response = client.post("/kcit/registrations", json=registration(did=did, didKey=key_id))
    assert_problem(response, 409, "did-taken", "did")


def test_malformed_bodies_are_problems(client):
    assert_problem(
        client.post("/kcit/registrations", data="{", content_type="application/json"),
        400,
        "malformed-json",
    )
    assert_problem(client.post("/kcit/registrations", data="x"), 415, "unsupported-media-type")
    assert_problem(client.post("/kcit/registrations", json=[1]), 400, "invalid-field")
    assert_problem(
        client.post("/kcit/registrations", json=registration(extra=1)),
        422,
        "unknown-field",
        "extra",
    )


# -- review ----------------------------------------------------------------------------------------


def test_admin_api_needs_the_operator_token(client):
    assert_problem(client.get("/kcit/admin/companies"), 401, "unauthorized")
    response = client.get("/kcit/admin/companies", headers={"Authorization": "Bearer nope"})
    assert_problem(response, 401, "invalid-token")


def test_review_lifecycle_with_history_feed_and_trust(client, operator):
    did = Party.generate().did
    company = register(client, did=did, legalName=f"Review {XSS}")
    cid = company["id"]
    assert client.get(company["followUrl"]).get_json()["status"] == "pending"
    facts = client.get(f"/kcit/trust/dids/{did}").get_json()
    assert facts["companyStatus"] == "unknown"  # pending: not trusted yet
    assert client.get(f"/kcit/dids/{did}").status_code == 404
    last = client.get("/kcit/changes").get_json()["last"]

    response = client.post(
        f"/kcit/admin/companies/{cid}/approve",
        json={
            "levelOfAssurance": "verified",
            "roles": ["DataProvider"],
            "powers": ["marketplace:read", "depute:admin"],
            "reason": "documents checked",
        },
        headers=operator,
    )
    assert response.status_code == 200, response.get_json()
    approved = response.get_json()
    assert approved["status"] == "identified" and approved["levelOfAssurance"] == "verified"
    assert approved["powers"] == ["marketplace:read", "depute:admin"]
    feed = client.get(f"/kcit/changes?after={last}").get_json()
    assert [(c["did"], c["status"]) for c in feed["changes"]] == [(did, "active")]
    facts = client.get(f"/kcit/trust/dids/{did}").get_json()
    assert facts == {
        "did": did,
        "companyStatus": "active",
        "company": cid,
        "accreditations": [],
        "powers": ["marketplace:read", "depute:admin"],
    }
    public = client.get(f"/kcit/dids/{did}").get_json()
    assert public["legalName"] == f"Review {XSS}" and "representatives" not in public
    may = client.get(f"/kcit/trust/may-issue?did={did}&type=AttorneyCredential").get_json()
    assert may["mayIssue"] is True
    may = client.get(f"/kcit/trust/may-issue?did={did}&type=OnboardingCredential").get_json()
    assert may["mayIssue"] is False

    again = client.post(f"/kcit/admin/companies/{cid}/approve", json={}, headers=operator)
    assert_problem(again, 409, "invalid-transition")
    no_reason = client.post(f"/kcit/admin/companies/{cid}/suspend", json={}, headers=operator)
    assert_problem(no_reason, 400, "missing-field", "reason")
    suspended = client.post(
        f"/kcit/admin/companies/{cid}/suspend", json={"reason": "fraud check"}, headers=operator
    ).get_json()
    assert suspended["companyStatus"] == "suspended"
    assert client.get(f"/kcit/trust/dids/{did}").get_json()["companyStatus"] == "suspended"
    reinstated = client.post(
        f"/kcit/admin/companies/{cid}/reinstate", json={"reason": "cleared"}, headers=operator
    ).get_json()
    assert reinstated["status"] == "identified"
    patched = client.patch(
        f"/kcit/admin/companies/{cid}",
        json={"legalName": "Helix Renamed", "reason": "typo", "version": reinstated["version"]},
        headers=operator,
    )
    assert patched.get_json()["legalName"] == "Helix Renamed"
    stale = client.patch(
        f"/kcit/admin/companies/{cid}",
        json={"legalName": "Late", "version": reinstated["version"]},
        headers=operator,
    )
    assert_problem(stale, 409, "version-conflict")
    bad_vat = client.patch(
        f"/kcit/admin/companies/{cid}",
        headers=operator,
        json={"legalRegistrationNumber": {"vatId": "FR00"}},
    )
    assert_problem(bad_vat, 422, "invalid-vat", "legalRegistrationNumber.vatId")
    removed = client.post(
        f"/kcit/admin/companies/{cid}/remove", json={"reason": "closed"}, headers=operator
    ).get_json()
    assert removed["status"] == "removed" and removed["companyStatus"] == "suspended"
    assert client.get(company["followUrl"]).status_code == 404  # the link died with it

    full = client.get(f"/kcit/admin/companies/{cid}", headers=operator).get_json()
    # When the suite runs, depute provisions every identified company in the background and
    # records its own steps (actor "depute") at whatever moment it gets there: leave them out.
    history = [e for e in full["history"] if e["actor"] != "depute"]
    actions = [(e["action"], e["actor"], e["reason"]) for e in history]
    assert actions == [
        ("register", "public", ""),
        ("approve", "token:operator", "documents checked"),
        ("suspend", "token:operator", "fraud check"),
        ("reinstate", "token:operator", "cleared"),
        ("update", "token:operator", "typo"),
        ("remove", "token:operator", "closed"),
    ]
    assert history[4]["changes"] == {"legal_name": [f"Review {XSS}", "Helix Renamed"]}


def test_accreditations_follow_the_company_and_are_announced(client, operator):
    certifier = Party.generate().did
    last = client.get("/kcit/changes").get_json()["last"]
    body = {"did": certifier, "credentialType": "SoftwareCertificationCredential"}
    response = client.post("/kcit/admin/accreditations", json=body, headers=operator)
    assert response.status_code == 200 and response.get_json()["active"] is True
    may = f"/kcit/trust/may-issue?did={certifier}&type=SoftwareCertificationCredential"
    assert client.get(may).get_json()["mayIssue"] is True
    assert client.get(f"/kcit/trust/dids/{certifier}").get_json()["accreditations"] == [
        "SoftwareCertificationCredential"
    ]
    withdraw = {**body, "active": False}
    assert_problem(
        client.post("/kcit/admin/accreditations", json=withdraw, headers=operator),
        400,
        "missing-field",
        "reason",
    )
    withdraw["reason"] = "audit failed"
    client.post("/kcit/admin/accreditations", json=withdraw, headers=operator)
    assert client.get(may).get_json()["mayIssue"] is False
    feed = client.get(f"/kcit/changes?after={last}").get_json()["changes"]
    assert [c["did"] for c in feed] == [certifier, certifier]
    unknown = {"did": certifier, "credentialType": "NoSuchCredential"}
    assert_problem(
        client.post("/kcit/admin/accreditations", json=unknown, headers=operator),
        400,
        "unknown-credential-type",
        "credentialType",
    )
    bad = {"did": "did:nope", "credentialType": "SoftwareCertificationCredential"}
    assert_problem(
        client.post("/kcit/admin/accreditations", json=bad, headers=operator),
        422,
        "invalid-did",
        "did",
    )


def test_admin_list_filters_and_unknown_powers(client, operator):
    company = register(client, legalName="Filterable Zeta Ltd")
    found = client.get("/kcit/admin/companies?q=zeta&status=pending", headers=operator).get_json()
    assert [c["id"] for c in found["companies"]] == [company["id"]]
    assert found["companies"][0]["representatives"][0]["email"] == "jonas@helix.example"
    response = client.post(
        f"/kcit/admin/companies/{company['id']}/approve",
        json={"powers": ["bank:steal"]},
        headers=operator,
    )
    assert_problem(response, 400, "unknown-power", "powers")
    assert_problem(
        client.get("/kcit/admin/companies?status=odd", headers=operator),
        400,
        "invalid-field",
        "status",
    )
    assert_problem(
        client.post("/kcit/admin/companies/nope/approve", json={}, headers=operator),
        404,
        "company-not-found",
    )


def test_change_feed_long_poll_wakes_on_a_change_and_is_bounded(client, operator):
    company = register(client, did=Party.generate().did)
    last = client.get("/kcit/changes").get_json()["last"]
    began = time.monotonic()
    assert client.get(f"/kcit/changes?after={last}&wait=0.3").get_json()["changes"] == []
    assert 0.25 <= time.monotonic() - began < 2

    answers = []
    poller = threading.Thread(
        target=lambda: answers.append(client.get(f"/kcit/changes?after={last}&wait=10")),
    )
    poller.start()
    time.sleep(0.1)
    began = time.monotonic()
    client.post(f"/kcit/admin/companies/{company['id']}/approve", json={}, headers=operator)
    poller.join(5)
    assert time.monotonic() - began < 1.0
    assert answers[0].get_json()["changes"][0]["status"] == "active"
    assert_problem(client.get("/kcit/changes?wait=-1"), 400, "invalid-field", "wait")
    assert_problem(client.get("/kcit/changes?after=x"), 400, "invalid-field", "after")


def test_openapi_documents_every_route(app, client):
    document = client.get("/kcit/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("kcit_api."):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                described = paths[openapi_path(rule)][method.lower()]
                assert "x-undeclared" not in described, (rule.rule, method)
                assert any(code.startswith("2") for code in described["responses"]), rule.rule
    assert document == client.get("/openapi.json").get_json()


def test_trust_names_the_onboarding_authority(app, client):
    body = client.get("/kcit/trust").get_json()
    assert body["onboardingAuthority"] == app.config["KCIT_ONBOARDING_AUTHORITY"]
    # No list publisher: a status list counts only when signed by its credentials' issuer.
    assert set(body) == {"onboardingAuthority"}


def test_the_power_catalogue_is_what_the_registered_apps_declare(client, operator):
    """Companies are granted (and delegate) the powers the gateway's apps declare, plus depute's
    own admin power; marketplace:sell is one no hand-kept list had."""
    body = client.get("/kcit/admin/powers", headers=operator).get_json()
    declared = {f"{a.name}:{p}" for a in discover() for p in a.powers}
    assert set(body["powers"]) == declared | {"depute:admin"}
    assert "marketplace:sell" in body["powers"]
    assert set(body["default"]) <= set(body["powers"])
