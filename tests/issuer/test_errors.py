"""Bad input to the issuer: a problem document with a stable type for each case, and nothing
recorded as issued, no status index allocated (or, when the agent fails after allocation, the
record and its index marked abandoned — never lost, never reused)."""

from __future__ import annotations

import copy
import os

import pytest
import requests
from sqlalchemy import select, update

from agents.tenants import ensure_tenant
from issuer.models import Exchange, IssuedCredential
from revocation.models import StatusEntry
from schemas.registry import example_credential
from tests.support.issuer_wallet import (
    FlistServer,
    allow_fetch,
    fetch_invitation,
    ledger,
    totals,
)
from tests.support.problems import PROBLEMS
from tests.support.software import register_certifier
from tests.support.vc_api import unsigned_example

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def subject_did(tenant):
    return tenant("holder", "issuer-errors-bob").did


@pytest.fixture(scope="module")
def company(tenant):
    return tenant("issuer", "company-errors-gmbh")


def assert_problem(response: requests.Response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == PROBLEMS + slug, body
    assert body["status"] == status and body["title"]
    return body


# -- person onboarding (public) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "status", "slug"),
    [
        (
            {"data": "givenName=A", "headers": {"Content-Type": "text/plain"}},
            415,
            "unsupported-media-type",
        ),
        ({"data": "{nope", "headers": {"Content-Type": "application/json"}}, 400, "malformed-json"),
        ({"json": ["Alice"]}, 400, "invalid-request"),
        (
            {"json": {"givenName": "A", "familyName": "B", "levelOfAssurance": "verified"}},
            400,
            "invalid-request",
        ),
        ({"json": {"givenName": "Alice"}}, 422, "schema-violation"),
        (
            {"json": {"givenName": "Alice", "familyName": "Martin", "country": "France"}},
            422,
            "schema-violation",
        ),
        ({"json": {"givenName": 7, "familyName": "Martin"}}, 422, "schema-violation"),
        ({"json": {"givenName": " ", "familyName": "Martin"}}, 422, "schema-violation"),
        ({"json": {"givenName": "x" * 1001, "familyName": "Martin"}}, 422, "schema-violation"),
    ],
)
def test_person_onboarding_bad_input(issuer_url, unchanged, kwargs, status, slug):
    response = requests.post(f"{issuer_url}/issuer/onboarding/persons", timeout=10, **kwargs)
    body = assert_problem(response, status, slug)
    if slug == "schema-violation":
        assert body["violations"] and body["violations"][0]["path"].startswith("/credentialSubject")


def test_schema_violation_points_at_the_claim(issuer_url, unchanged):
    response = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Alice", "familyName": "Martin", "country": "fr"},
        timeout=10,
    )
    body = assert_problem(response, 422, "schema-violation")
    assert [v["path"] for v in body["violations"]] == ["/credentialSubject/country"]


# -- organisation onboarding (operator) ------------------------------------------------------------


def _organisation(did: str) -> dict:
    return {
        "did": did,
        "legalName": "Helix Data Cooperative GmbH",
        "kcitRecordId": "kcit-0042",
        "legalRegistrationNumber": {"vatId": "DE814592367"},
        "country": "DE",
        "roles": ["DataProvider"],
    }


@pytest.mark.parametrize(
    ("change", "status", "slug"),
    [
        ({"did": "not-a-did"}, 400, "invalid-request"),
        ({"did": None}, 400, "invalid-request"),
        ({"roles": []}, 400, "invalid-request"),
        ({"roles": "DataProvider"}, 400, "invalid-request"),
        ({"roles": ["Pilot"]}, 422, "schema-violation"),
        ({"legalName": None}, 422, "schema-violation"),
        ({"legalRegistrationNumber": {"lei": "not-an-lei"}}, 422, "schema-violation"),
        ({"levelOfAssurance": "trust-me"}, 422, "schema-violation"),
        ({"kind": "natural-person"}, 400, "invalid-request"),
    ],
)
def test_organisation_onboarding_bad_input(
    issuer_url, operator, subject_did, unchanged, change, status, slug
):
    body = {k: v for k, v in (_organisation(subject_did) | change).items() if v is not None}
    response = requests.post(
        f"{issuer_url}/issuer/organisations", json=body, headers=operator, timeout=10
    )
    assert_problem(response, status, slug)


@pytest.mark.parametrize(
    ("headers", "slug"),
    [({}, "unauthorized"), ({"Authorization": "Bearer not-a-token"}, "invalid-token")],
)
def test_operator_routes_need_the_operator_token(issuer_url, subject_did, unchanged, headers, slug):
    for method, path, body in [
        ("post", "/issuer/organisations", _organisation(subject_did)),
        ("post", "/issuer/offers", {"credential": {}}),
        ("post", "/credentials/issue", {"credential": {}}),
        ("get", "/issuer/credentials", None),
        ("get", "/issuer/role-requests", None),
        ("post", "/issuer/certifiers", {"name": "sneaky"}),
    ]:
        response = requests.request(
            method, issuer_url + path, json=body, headers=headers, timeout=10
        )
        assert_problem(response, 401, slug)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- generic offers --------------------------------------------------------------------------------


def _attorney(issuer_did: str, subject_did: str) -> dict:
    credential = example_credential("AttorneyCredential")
    for key in ("id", "credentialStatus"):
        del credential[key]
    credential["issuer"] = issuer_did
    credential["credentialSubject"]["mandator"]["id"] = issuer_did
    credential["credentialSubject"]["id"] = subject_did
    return credential


def test_offer_bad_input(issuer_url, operator, company, authority_did, subject_did, unchanged):
    def offer(credential) -> requests.Response:
        return requests.post(
            f"{issuer_url}/issuer/offers",
            json={"credential": credential},
            headers=operator,
            timeout=10,
        )

    good = _attorney(company.did, subject_did)
    unknown_type = copy.deepcopy(good)
    unknown_type["type"] = ["VerifiableCredential", "PilotLicenceCredential"]
    assert_problem(offer(unknown_type), 400, "unknown-credential-type")

    stranger = _attorney("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", subject_did)
    assert_problem(offer(stranger), 422, "unknown-issuer")

    onboarding = example_credential("OnboardingCredential")
    del onboarding["credentialStatus"]
    onboarding["issuer"] = company.did  # only the onboarding authority issues it
    assert_problem(offer(onboarding), 403, "issuer-not-allowed")

    from_authority = _attorney(authority_did, subject_did)  # attorney: the company's own DID
    assert_problem(offer(from_authority), 403, "issuer-not-allowed")

    with_status = copy.deepcopy(good)
    with_status["credentialStatus"] = example_credential("AttorneyCredential")["credentialStatus"]
    assert_problem(offer(with_status), 400, "invalid-credential")

    foreign_context = copy.deepcopy(good)
    foreign_context["@context"].append("https://contexts.example.org/not-bundled/v1")
    body = assert_problem(offer(foreign_context), 400, "invalid-credential")
    assert body["errors"][0]["path"] == "/@context/3"

    no_powers = copy.deepcopy(good)
    no_powers["credentialSubject"]["powers"] = []
    assert_problem(offer(no_powers), 422, "schema-violation")

    v2 = copy.deepcopy(good)
    v2["@context"][0] = "https://www.w3.org/ns/credentials/v2"
    assert_problem(offer(v2), 400, "invalid-request")

    assert_problem(offer("a credential"), 400, "invalid-request")


def test_agent_failure_after_allocation_abandons_record_and_index(
    issuer_url, operator, suite, db, subject_did
):
    """The company's wallet is gone from the agent: the index was already reserved, so the
    record and the index end up abandoned — the index is spent, not lost and never reused."""
    agent = suite.agents["issuer"].client()
    doomed = ensure_tenant(db, "issuer", agent, f"company-doomed-{os.urandom(3).hex()}")
    agent.delete_tenant(doomed.wallet_id)
    before = ledger(db)
    response = requests.post(
        f"{issuer_url}/issuer/offers",
        json={"credential": _attorney(doomed.did, subject_did)},
        headers=operator,
        timeout=30,
    )
    assert_problem(response, 502, "agent-error")
    after = ledger(db)
    assert after["records"] == before["records"] + 1
    assert after.get("records:issued") == before.get("records:issued")
    assert after["entries"] == before["entries"] + 1
    with db() as session:
        record = session.scalar(
            select(IssuedCredential).where(IssuedCredential.issuer_did == doomed.did)
        )
        assert record.state == "abandoned" and "agent refused" in record.reason
        assert session.get(StatusEntry, record.status_entry_id).state == "abandoned"
        assert session.get(Exchange, record.exchange_id).state == "abandoned"


# -- role requests ---------------------------------------------------------------------------------


def test_role_request_bad_input(issuer_url, operator, subject_did, unchanged):
    url = f"{issuer_url}/issuer/role-requests"
    assert_problem(
        requests.post(url, json={"roles": ["DataProvider"]}, timeout=10), 400, "invalid-request"
    )
    assert_problem(
        requests.post(url, json={"did": "did:bad", "roles": ["DataProvider"]}, timeout=10),
        400,
        "invalid-request",
    )
    assert_problem(
        requests.post(url, json={"did": subject_did, "roles": ["Admin"]}, timeout=10),
        422,
        "schema-violation",
    )
    extra = {"did": subject_did, "roles": ["DataProvider"], "x": 1}
    assert_problem(requests.post(url, json=extra, timeout=10), 400, "invalid-request")
    missing = f"{url}/00000000-0000-0000-0000-000000000000"
    assert_problem(requests.get(missing, timeout=10), 404, "role-request-not-found")
    assert_problem(
        requests.post(f"{missing}/approve", headers=operator, timeout=10),
        404,
        "role-request-not-found",
    )
    request = requests.post(url, json={"did": subject_did, "roles": ["DataProvider"]}, timeout=10)
    reject = f"{url}/{request.json()['id']}/reject"
    assert_problem(
        requests.post(reject, json={}, headers=operator, timeout=10), 400, "invalid-request"
    )
    assert_problem(
        requests.post(f"{url}/{request.json()['id']}/approve", timeout=10), 401, "unauthorized"
    )
    assert_problem(
        requests.get(f"{url}?state=bogus", headers=operator, timeout=10), 400, "invalid-request"
    )


# -- certifiers and flists -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certifiers(suite, operator):
    """A certifier KCIT accredits and one it does not."""
    made = {}
    for name, accredited in (("errors-accredited", True), ("errors-unaccredited", False)):
        certifier = register_certifier(suite, operator, name, accredited=accredited)
        made[name] = certifier["auth"]
        made[f"{name}:did"] = certifier["did"]
    return made


def _claims(url: str | None = None) -> dict:
    body = {
        "name": "phase4-anonymiser",
        "version": "2.3.1",
        "purposes": ["anonymisation"],
        "statement": "Reviewed.",
    }
    return body | ({"flistUrl": url} if url else {})


def test_certifier_not_accredited_is_refused_before_any_download(issuer_url, certifiers, unchanged):
    with FlistServer({"/a.flist": b"flist bytes"}) as server:
        response = requests.post(
            f"{issuer_url}/issuer/certifications",
            json=_claims(server.url("/a.flist")),
            headers=certifiers["errors-unaccredited"],
            timeout=10,
        )
        assert_problem(response, 403, "certifier-not-accredited")
        assert server.requested == []


def test_accreditation_is_kcits_alone(suite, issuer_url, operator, certifiers, unchanged):
    gone = f"{issuer_url}/issuer/certifiers/errors-unaccredited/accreditation"
    response = requests.put(gone, json={"accredited": True}, headers=operator, timeout=10)
    assert response.status_code in (404, 405)  # no accreditation list of the issuer's own
    assert_problem(
        requests.post(
            f"{issuer_url}/issuer/certifiers",
            json={"name": "errors-flagged", "accredited": True},
            headers=operator,
            timeout=10,
        ),
        400,
        "accredited-in-kcit",
    )
    duplicate = requests.post(
        f"{issuer_url}/issuer/certifiers",
        json={"name": "errors-accredited"},
        headers=operator,
        timeout=10,
    )
    assert_problem(duplicate, 409, "certifier-exists")
    assert_problem(
        requests.post(
            f"{issuer_url}/issuer/certifiers",
            json={"name": "Bad Name!"},
            headers=operator,
            timeout=10,
        ),
        400,
        "invalid-request",
    )
    listed = requests.get(f"{issuer_url}/issuer/certifiers", headers=operator, timeout=10).json()
    flags = {c["name"]: c["accredited"] for c in listed["certifiers"]}
    assert flags["errors-accredited"] is True and flags["errors-unaccredited"] is False


def test_certifier_token_is_not_an_operator_token_and_vice_versa(
    issuer_url, operator, certifiers, unchanged
):
    as_certifier = requests.get(
        f"{issuer_url}/issuer/credentials", headers=certifiers["errors-accredited"], timeout=10
    )
    assert_problem(as_certifier, 401, "invalid-token")
    as_operator = requests.get(f"{issuer_url}/issuer/certifications", headers=operator, timeout=10)
    assert_problem(as_operator, 401, "invalid-token")
    assert_problem(
        requests.get(f"{issuer_url}/issuer/certifications", timeout=10), 401, "unauthorized"
    )


def test_flist_bad_input(suite, issuer_url, certifiers, unchanged):
    auth = certifiers["errors-accredited"]
    limit = 16 * 1024 * 1024  # the service's default ISSUER_FLIST_MAX_BYTES
    big = b"\0" * (limit + 1)
    files = {"/ok.flist": b"ok", "/big.flist": big}

    def certify(body) -> requests.Response:
        return requests.post(
            f"{issuer_url}/issuer/certifications", json=body, headers=auth, timeout=30
        )

    with FlistServer(files) as server:
        allow_fetch(suite, server.url("/"))
        too_big = assert_problem(certify(_claims(server.url("/big.flist"))), 422, "flist-too-large")
        assert too_big["limit"] == limit
        assert_problem(certify(_claims(server.url("/missing.flist"))), 422, "flist-unreachable")
        bad_claims = _claims(server.url("/ok.flist")) | {"purposes": ["crypto-mining"]}
        assert_problem(certify(bad_claims), 422, "schema-violation")
        assert_problem(
            certify(_claims(server.url("/ok.flist")) | {"version": "two point three"}),
            422,
            "schema-violation",
        )
        assert server.requested == ["/big.flist", "/missing.flist"]  # no download for bad claims
    with FlistServer({"/big.flist": big}, hide_length=True) as server:  # streamed, no length
        allow_fetch(suite, server.url("/"))
        assert_problem(certify(_claims(server.url("/big.flist"))), 422, "flist-too-large")
    closed = f"http://127.0.0.1:{_closed_port()}/a.flist"
    assert_problem(certify(_claims(closed)), 422, "flist-host-not-allowed")
    allow_fetch(suite, closed)
    assert_problem(certify(_claims(closed)), 422, "flist-unreachable")
    assert_problem(certify(_claims("ftp://127.0.0.1/a.flist")), 400, "invalid-request")
    assert_problem(certify(_claims()), 400, "invalid-request")  # neither URL nor upload
    assert_problem(certify(_claims("http://x") | {"owner": "me"}), 400, "invalid-request")

    upload = requests.post(
        f"{issuer_url}/issuer/certifications",
        data=_claims(),
        files={"flist": ("big.flist", big, "application/octet-stream")},
        headers=auth,
        timeout=30,
    )
    assert_problem(upload, 413, "flist-too-large")
    empty = requests.post(
        f"{issuer_url}/issuer/certifications",
        data=_claims(),
        files={"flist": ("empty.flist", b"", "application/octet-stream")},
        headers=auth,
        timeout=30,
    )
    assert_problem(empty, 422, "flist-empty")


def _closed_port() -> int:
    from agents.runtime import free_port

    return free_port()  # bound and released: nothing listens there


def test_certifications_of_others_are_not_found(issuer_url, certifiers, unchanged):
    auth = certifiers["errors-accredited"]
    missing = f"{issuer_url}/issuer/certifications/00000000-0000-0000-0000-000000000000"
    assert_problem(requests.get(missing, headers=auth, timeout=10), 404, "certification-not-found")
    assert_problem(
        requests.post(f"{missing}/revoke", json={"reason": "x"}, headers=auth, timeout=10),
        404,
        "certification-not-found",
    )


# -- W3C VC-API ------------------------------------------------------------------------------------


def _malformed(authority_did: str, subject_did: str):
    """(name, request body or raw text, status, slug) for each malformed VC-API request."""
    good = unsigned_example("RoleCredential", authority_did, subject_did)

    def changed(**changes) -> dict:
        credential = copy.deepcopy(good)
        for key, value in changes.items():
            if value is None:
                credential.pop(key, None)
            else:
                credential[key] = value
        return {"credential": credential}

    v1, v2 = "https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/v2"
    ours = ["https://w3id.org/vc/status-list/2021/v1", "https://w3id.org/credgate/v1"]
    return [
        ("array body", [good], 400, "invalid-request"),
        ("no credential", {"options": {}}, 400, "invalid-request"),
        ("credential not an object", {"credential": "vc"}, 400, "invalid-request"),
        ("unknown member", {"credential": good, "extra": 1}, 400, "invalid-request"),
        ("options not an object", {"credential": good, "options": []}, 400, "invalid-request"),
        ("unknown option", {"credential": good, "options": {"foo": 1}}, 400, "invalid-request"),
        ("no context", changed(**{"@context": None}), 400, "invalid-credential"),
        ("context a string", changed(**{"@context": v1}), 400, "invalid-credential"),
        ("wrong first context", changed(**{"@context": [*ours, v1]}), 400, "invalid-credential"),
        ("inline context", changed(**{"@context": [v1, {"x": "y"}]}), 400, "invalid-credential"),
        (
            "unbundled context",
            changed(**{"@context": [v1, "https://evil.example/ctx"]}),
            400,
            "invalid-credential",
        ),
        ("no VerifiableCredential", changed(type=["RoleCredential"]), 400, "invalid-credential"),
        ("type not strings", changed(type=["VerifiableCredential", 3]), 400, "invalid-credential"),
        ("issuer not a URI", changed(issuer="alice"), 400, "invalid-credential"),
        ("issuer object without id", changed(issuer={"name": "x"}), 400, "invalid-credential"),
        ("no subject", changed(credentialSubject=None), 400, "invalid-credential"),
        ("empty subject", changed(credentialSubject={}), 400, "invalid-credential"),
        (
            "subject id not a URI",
            changed(credentialSubject={"id": "me", "roles": ["x"]}),
            400,
            "invalid-credential",
        ),
        ("bad issuanceDate", changed(issuanceDate="yesterday"), 400, "invalid-credential"),
        (
            "date without zone",
            changed(issuanceDate="2026-01-01T00:00:00"),
            400,
            "invalid-credential",
        ),
        (
            "expires before issued",
            changed(expirationDate="2020-01-01T00:00:00Z"),
            400,
            "invalid-credential",
        ),
        (
            "2.0 with issuanceDate",
            changed(**{"@context": [v2, ours[1]]}),
            400,
            "invalid-credential",
        ),
        (
            "signed already",
            changed(proof={"type": "Ed25519Signature2020"}),
            400,
            "invalid-credential",
        ),
        (
            "status given",
            changed(credentialStatus=example_credential("RoleCredential")["credentialStatus"]),
            400,
            "invalid-credential",
        ),
        (
            "claims fail the schema",
            changed(credentialSubject={"id": subject_did, "roles": []}),
            422,
            "schema-violation",
        ),
        (
            "two credgate types",
            changed(type=["VerifiableCredential", "RoleCredential", "OnboardingCredential"]),
            400,
            "unknown-credential-type",
        ),
        ("issuer we hold no key for", changed(issuer=subject_did), 422, "unknown-issuer"),
    ]


def test_vc_api_malformed_bodies(issuer_url, operator, authority_did, subject_did, unchanged):
    url = f"{issuer_url}/credentials/issue"
    for name, body, status, slug in _malformed(authority_did, subject_did):
        response = requests.post(url, json=body, headers=operator, timeout=30)
        assert response.status_code == status, (name, response.text)
        assert response.json()["type"] == PROBLEMS + slug, (name, response.json())
    raw = [
        ("text/plain", "credential", 415, "unsupported-media-type"),
        ("application/json", '{"credential": ', 400, "malformed-json"),
        ("application/json", "x" * (1024 * 1024 + 1), 413, "payload-too-large"),
    ]
    for content_type, data, status, slug in raw:
        headers = operator | {"Content-Type": content_type}
        response = requests.post(url, data=data, headers=headers, timeout=30)
        assert_problem(response, status, slug)


def test_vc_api_trust_rules_and_duplicates(
    issuer_url, operator, authority_did, company, subject_did, certifiers, db
):
    url = f"{issuer_url}/credentials/issue"
    before = totals(db)
    role_from_company = unsigned_example("RoleCredential", company.did, subject_did)
    assert_problem(
        requests.post(url, json={"credential": role_from_company}, headers=operator, timeout=30),
        403,
        "issuer-not-allowed",
    )
    unaccredited = requests.get(
        f"{issuer_url}/issuer/certifiers", headers=operator, timeout=10
    ).json()["certifiers"]
    did = {c["name"]: c["did"] for c in unaccredited}["errors-unaccredited"]
    certification = unsigned_example("SoftwareCertificationCredential", did)
    assert_problem(
        requests.post(url, json={"credential": certification}, headers=operator, timeout=30),
        403,
        "certifier-not-accredited",
    )
    assert totals(db) == before

    credential = unsigned_example("RoleCredential", authority_did, subject_did) | {
        "id": f"urn:uuid:{os.urandom(16).hex()}"
    }
    first = requests.post(url, json={"credential": credential}, headers=operator, timeout=30)
    assert first.status_code == 201, first.text
    middle = totals(db)
    again = requests.post(url, json={"credential": credential}, headers=operator, timeout=30)
    assert again.status_code == 201 and again.json() == first.json()  # idempotent: same content
    other = copy.deepcopy(credential)
    other["credentialSubject"]["roles"] = ["DataProvider"]
    clash = requests.post(url, json={"credential": other}, headers=operator, timeout=30)
    assert_problem(clash, 409, "credential-exists")
    assert totals(db) == middle  # neither spent an index

    key = operator | {"Idempotency-Key": "k" * 201}
    assert_problem(
        requests.post(url, json={"credential": credential}, headers=key, timeout=30),
        400,
        "invalid-idempotency-key",
    )


# -- the short link --------------------------------------------------------------------------------


def test_short_link_works_once_and_expires(issuer_url, db):
    made = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Carla", "familyName": "Rossi"},
        timeout=10,
    ).json()
    link = made["invitation_url"]
    invitation = fetch_invitation(link)
    assert invitation["@type"].endswith("out-of-band/1.1/invitation")
    assert_problem(requests.get(link, timeout=10), 410, "invitation-used")
    assert_problem(
        requests.get(f"{issuer_url}/i/nothing-here", timeout=10), 404, "invitation-not-found"
    )

    other = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Dario", "familyName": "Rossi"},
        timeout=10,
    ).json()
    browser = requests.get(
        other["invitation_url"], headers={"Accept": "text/html"}, allow_redirects=False, timeout=10
    )
    assert browser.status_code == 302 and "?oob=" in browser.headers["Location"]

    late = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Elena", "familyName": "Rossi"},
        timeout=10,
    ).json()
    from datetime import UTC, datetime, timedelta

    with db() as session, session.begin():
        session.execute(
            update(Exchange)
            .where(Exchange.id == late["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert_problem(requests.get(late["invitation_url"], timeout=10), 410, "invitation-expired")
    assert_problem(
        requests.get(f"{issuer_url}/issuer/exchanges/not-an-exchange", timeout=10),
        404,
        "exchange-not-found",
    )
