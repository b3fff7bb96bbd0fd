"""Acceptance of the issuer: each credential family issued to a holder tenant over DIDComm (and
through the VC-API), verified by the verifier agent, carrying a status entry; records, exchanges
and status entries followed to the end; revocation and suspension visible in the published list.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import os
import time

import pytest
import requests
from sqlalchemy import select

from agents.models import Tenant
from credgate.qr import qr_version
from revocation.bitstring import bit_at, decode_list
from schemas.registry import example_credential
from tests.support.issuer_wallet import (
    FlistServer,
    accept_exchange,
    allow_fetch,
    ledger,
    settled,
    totals,
    vc_api_role,
)
from tests.support.software import register_certifier, revoke_certification
from tests.support.vc_api import example_v2, issue, issued, unsigned_example

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def status_url(suite):
    return suite.servers["revocation"].url


@pytest.fixture(scope="module")
def holder(tenant):
    return tenant("holder", "issuer-flows-alice")


@pytest.fixture(scope="module")
def verifier(suite):
    return suite.agents["verifier"].client()


def assert_verified(verifier, vc):
    verdict = verifier.verify_credential(vc)
    assert verdict["verified"] is True, verdict


def bit_in_list(status_url: str, entry: dict) -> bool:
    """Whether the published (signed) status list has the entry's bit set."""
    response = requests.get(entry["statusListCredential"], timeout=10)
    assert response.status_code == 200, response.text
    vc = response.json()
    model = (
        "BitstringStatusList" if entry["type"] == "BitstringStatusListEntry" else "StatusList2021"
    )
    bits = decode_list(vc["credentialSubject"]["encodedList"], model)
    return bit_at(bits, int(entry["statusListIndex"]))


def created(response: requests.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


# -- the onboarding authority ----------------------------------------------------------------------


def test_the_authority_did_is_its_tenant_on_the_issuer_agent(issuer_url, authority_did, db):
    assert authority_did.startswith("did:key:z6Mk")
    with db() as session:
        tenant = session.scalar(
            select(Tenant).where(Tenant.agent == "issuer", Tenant.name == "onboarding-authority")
        )
    assert tenant.did == authority_did
    again = requests.get(f"{issuer_url}/issuer/did", timeout=10).json()
    assert again == {"did": authority_did, "tenant": "onboarding-authority"}


def test_person_onboarding_binds_the_wallet_did(
    issuer_url, status_url, operator, holder, hub, verifier, authority_did
):
    response = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Alice", "familyName": "Martin", "country": "FR"},
        timeout=10,
    )
    exchange = created(response)
    assert response.headers["Location"] == exchange["status_url"]
    assert exchange["state"] == "invited" and exchange["workflow"] == "person-onboarding"
    [offered] = exchange["credentials"]
    assert offered["type"] == "OnboardingCredential" and offered["state"] == "offered"
    entry = offered["credentialStatus"]
    assert entry["type"] == "StatusList2021Entry" and entry["statusPurpose"] == "revocation"
    assert entry["statusListCredential"].startswith(status_url + "/status/")
    # The QR code holds the short link, small enough for any wallet's camera.
    assert qr_version(exchange["invitation_url"]) <= 10
    qr = requests.get(exchange["qr_code"], timeout=10)
    assert qr.status_code == 200 and qr.headers["Content-Type"].startswith("image/svg+xml")
    assert exchange["deep_link"].startswith("didcomm://invite?oob=")

    [vc] = accept_exchange(hub, holder, exchange)
    assert vc["issuer"] == authority_did
    assert vc["credentialSubject"]["id"] == holder.did  # named by the wallet in its request
    assert vc["credentialSubject"]["givenName"] == "Alice"
    assert vc["credentialSubject"]["levelOfAssurance"] == "self-registration"
    assert vc["credentialStatus"] == entry
    assert_verified(verifier, vc)

    view = settled(exchange)
    assert view["state"] == "done"
    assert view["credentials"][0]["state"] == "issued" and view["credentials"][0]["acknowledged"]
    record = requests.get(
        f"{issuer_url}/issuer/credentials/{offered['id']}", headers=operator, timeout=10
    ).json()
    assert record["state"] == "issued" and record["subject"] == holder.did
    assert record["actor"] == "public" and record["exchange_id"] == exchange["id"]
    assert record["credential"]["credentialSubject"]["id"] == holder.did
    status_entry = requests.get(
        f"{status_url}/status/entries/{record['status_entry_id']}", headers=operator, timeout=10
    ).json()
    assert status_entry["state"] == "issued" and status_entry["status"] == "active"
    assert status_entry["credential_id"] == vc["id"]
    assert bit_in_list(status_url, entry) is False


def test_organisation_onboarding_issues_onboarding_and_role_in_one_invitation(
    issuer_url, operator, tenant, hub, verifier, authority_did
):
    company = tenant("holder", "issuer-flows-helix")
    body = {
        "did": company.did,
        "legalName": "Helix Data Cooperative GmbH",
        "kcitRecordId": "kcit-0042",
        "legalRegistrationNumber": {"vatId": "DE814592367", "lei": "529900HXDC0OP4R7QZ95"},
        "country": "DE",
        "roles": ["DataProvider", "ModelConsumer"],
    }
    exchange = created(
        requests.post(f"{issuer_url}/issuer/organisations", json=body, headers=operator, timeout=10)
    )
    assert [c["type"] for c in exchange["credentials"]] == [
        "OnboardingCredential",
        "RoleCredential",
    ]

    onboarding, role = accept_exchange(hub, company, exchange, bind_did=False)
    for vc in (onboarding, role):
        assert vc["issuer"] == authority_did and vc["credentialSubject"]["id"] == company.did
        assert vc["credentialStatus"]["statusPurpose"] == "revocation"
        assert_verified(verifier, vc)
    assert onboarding["credentialSubject"]["kind"] == "legal-person"
    assert onboarding["credentialSubject"]["levelOfAssurance"] == "verified"
    assert role["credentialSubject"]["roles"] == ["DataProvider", "ModelConsumer"]
    assert settled(exchange)["state"] == "done"


def test_role_request_approved_by_the_operator_issues_the_role_credential(
    issuer_url, operator, holder, hub, verifier
):
    request = created(
        requests.post(
            f"{issuer_url}/issuer/role-requests",
            json={"did": holder.did, "roles": ["DataConsumer"], "note": "buying cohort data"},
            timeout=10,
        )
    )
    assert request["state"] == "pending" and request["exchange"] is None
    pending = requests.get(
        f"{issuer_url}/issuer/role-requests?state=pending", headers=operator, timeout=10
    ).json()["role_requests"]
    assert request["id"] in [r["id"] for r in pending]

    approve = f"{issuer_url}/issuer/role-requests/{request['id']}/approve"
    approved = requests.post(approve, headers=operator, timeout=10).json()
    assert approved["state"] == "approved" and approved["decided_by"] == "token:operator"
    again = requests.post(approve, headers=operator, timeout=10).json()
    assert again["exchange"]["id"] == approved["exchange"]["id"]  # no second credential

    # The participant follows its request and picks the invitation up there.
    mine = requests.get(f"{issuer_url}/issuer/role-requests/{request['id']}", timeout=10).json()
    [vc] = accept_exchange(hub, holder, mine["exchange"], bind_did=False)
    assert vc["type"] == ["VerifiableCredential", "RoleCredential"]
    assert vc["credentialSubject"] == {"id": holder.did, "roles": ["DataConsumer"]}
    assert_verified(verifier, vc)

    late = requests.post(
        f"{issuer_url}/issuer/role-requests/{request['id']}/reject",
        json={"reason": "too late"},
        headers=operator,
        timeout=10,
    )
    assert late.status_code == 409 and late.json()["type"].endswith("/role-request-decided")


def test_role_request_rejected_with_a_reason_issues_nothing(issuer_url, operator, holder, db):
    before = totals(db)
    request = created(
        requests.post(
            f"{issuer_url}/issuer/role-requests",
            json={"did": holder.did, "roles": ["Governance"]},
            timeout=10,
        )
    )
    url = f"{issuer_url}/issuer/role-requests/{request['id']}"
    rejected = requests.post(
        f"{url}/reject",
        json={"reason": "governance is for the operator's staff"},
        headers=operator,
        timeout=10,
    ).json()
    assert rejected["state"] == "rejected"
    assert rejected["reason"] == "governance is for the operator's staff"
    approve = requests.post(f"{url}/approve", headers=operator, timeout=10)
    assert approve.status_code == 409
    assert requests.get(url, timeout=10).json()["state"] == "rejected"
    assert totals(db) == before


# -- software certification ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certifier(suite, issuer_url, operator):
    return register_certifier(suite, operator, "phase4-dih")


def _certify_body(url: str | None) -> dict:
    body = {
        "name": "phase4-anonymiser",
        "version": "2.3.1",
        "purposes": ["de-identification", "anonymisation"],
        "statement": "Reviewed source and build of release 2.3.1.",
    }
    return body | ({"flistUrl": url} if url else {})


def test_certifier_certifies_an_flist_by_url_and_revokes_it(
    suite, issuer_url, status_url, certifier, holder, hub, verifier
):
    flist = os.urandom(300_000)
    sha256 = hashlib.sha256(flist)
    auth = {"Authorization": f"Bearer {certifier['token']}"}
    with FlistServer({"/phase4-anonymiser-2.3.1.flist": flist}) as server:
        allow_fetch(suite, server.url("/"))
        url = server.url("/phase4-anonymiser-2.3.1.flist")
        response = requests.post(
            f"{issuer_url}/issuer/certifications", json=_certify_body(url), headers=auth, timeout=30
        )
    cert = created(response)
    assert cert["subject"] == f"urn:sha256:{sha256.hexdigest()}"
    assert cert["digestSRI"] == "sha256-" + base64.b64encode(sha256.digest()).decode()
    assert cert["md5"] == hashlib.md5(flist).hexdigest()
    assert cert["size"] == len(flist) and cert["flistUrl"] == url

    vc = cert["verifiableCredential"]  # signed by the certifier's tenant: no wallet to offer
    assert vc["issuer"] == certifier["did"]  # the certifier's own DID, not the authority's
    subject = vc["credentialSubject"]
    assert subject["id"] == cert["subject"] and subject["digestSRI"] == cert["digestSRI"]
    assert subject["md5"] == cert["md5"] and subject["flistUrl"] == url
    entry = vc["credentialStatus"]
    assert entry["statusPurpose"] == "suspension"
    assert_verified(verifier, vc)
    download = requests.get(
        f"{issuer_url}/issuer/certifications/{cert['id']}/credential", headers=auth, timeout=10
    )
    assert download.status_code == 200 and download.json()["verifiableCredential"] == vc
    published = requests.get(cert["registry"], timeout=10).json()  # public: no token
    [listed_cert] = [c for c in published["certificates"] if c["credentialId"] == vc["id"]]
    assert listed_cert["credential"] == vc and listed_cert["status"] == "active"

    listed = requests.get(f"{issuer_url}/issuer/certifications", headers=auth, timeout=10).json()
    mine = {c["id"]: c for c in listed["certifications"]}[cert["id"]]
    assert mine["credential"]["state"] == "issued" and mine["credential"]["status"] == "active"

    began = time.monotonic()
    revoked = revoke_certification(
        issuer_url, cert["id"], auth, "re-identification found in review"
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["credential"]["status"] == "revoked"
    assert bit_in_list(status_url, entry) is True
    assert time.monotonic() - began < 1.0
    published = requests.get(cert["registry"], timeout=10).json()["certificates"]
    assert {c["credentialId"]: c["status"] for c in published}[vc["id"]] == "revoked"
    again = revoke_certification(issuer_url, cert["id"], auth, "twice")
    assert again.status_code == 409


def test_certifier_certifies_an_uploaded_flist(issuer_url, certifier, holder, hub, verifier):
    flist = os.urandom(70_000)
    auth = {"Authorization": f"Bearer {certifier['token']}"}
    body = _certify_body(None) | {"purposes": "harmonisation,model-training"}
    response = requests.post(
        f"{issuer_url}/issuer/certifications",
        data=body,
        files={"flist": ("harmoniser.flist", flist, "application/octet-stream")},
        headers=auth,
        timeout=30,
    )
    cert = created(response)
    assert cert["subject"] == f"urn:sha256:{hashlib.sha256(flist).hexdigest()}"
    assert cert["filename"] == "harmoniser.flist" and cert["flistUrl"] is None
    assert cert["purposes"] == ["harmonisation", "model-training"]
    vc = cert["verifiableCredential"]
    assert "flistUrl" not in vc["credentialSubject"]
    assert_verified(verifier, vc)


# -- attorney (any credgate type, from one of our tenants) -----------------------------------------


def attorney(company_did: str, subject_did: str | None) -> dict:
    credential = example_credential("AttorneyCredential")
    for key in ("id", "credentialStatus", "issuanceDate"):
        del credential[key]
    credential["issuer"] = company_did
    credential["credentialSubject"]["mandator"]["id"] = company_did
    if subject_did:
        credential["credentialSubject"]["id"] = subject_did
    else:
        del credential["credentialSubject"]["id"]
    return credential


def test_attorney_offered_from_a_company_tenant_then_suspended_and_reinstated(
    issuer_url, status_url, operator, tenant, holder, hub, verifier
):
    company = tenant("issuer", "company-helix-gmbh")
    exchange = created(
        requests.post(
            f"{issuer_url}/issuer/offers",
            json={"credential": attorney(company.did, holder.did)},
            headers=operator,
            timeout=10,
        )
    )
    [vc] = accept_exchange(hub, holder, exchange, bind_did=False)
    assert vc["issuer"] == company.did
    assert_verified(verifier, vc)
    entry = vc["credentialStatus"]
    assert entry["statusPurpose"] == "suspension"
    assert settled(exchange)["state"] == "done"

    record = exchange["credentials"][0]
    detail = requests.get(
        f"{issuer_url}/issuer/credentials/{record['id']}", headers=operator, timeout=10
    ).json()
    entry_url = f"{status_url}/status/entries/{detail['status_entry_id']}"
    began = time.monotonic()
    suspended = requests.post(
        f"{entry_url}/suspend", json={"reason": "employee on leave"}, headers=operator, timeout=10
    )
    assert suspended.status_code == 200, suspended.text
    assert bit_in_list(status_url, entry) is True
    assert time.monotonic() - began < 1.0
    reinstated = requests.post(
        f"{entry_url}/reinstate", json={"reason": "back"}, headers=operator, timeout=10
    )
    assert reinstated.status_code == 200, reinstated.text
    assert bit_in_list(status_url, entry) is False


def test_a_credential_offered_without_subject_is_bound_to_the_wallet(
    issuer_url, operator, tenant, holder, hub, verifier
):
    company = tenant("issuer", "company-helix-gmbh")
    exchange = created(
        requests.post(
            f"{issuer_url}/issuer/offers",
            json={"credential": attorney(company.did, None)},
            headers=operator,
            timeout=10,
        )
    )
    [vc] = accept_exchange(hub, holder, exchange)
    assert vc["credentialSubject"]["id"] == holder.did
    assert_verified(verifier, vc)


# -- W3C VC-API ------------------------------------------------------------------------------------


def test_vc_api_issues_vcdm_11_and_20_with_status_entries(
    issuer_url, operator, holder, verifier, authority_did, db
):
    onboarding = unsigned_example("OnboardingCredential", authority_did, holder.did)
    v11 = issued(issue(issuer_url, operator, onboarding))
    assert v11["credentialStatus"]["type"] == "StatusList2021Entry"
    assert v11["proof"]["type"] == "Ed25519Signature2020"
    assert_verified(verifier, v11)

    v20 = issued(issue(issuer_url, operator, vc_api_role(authority_did, holder.did), {}))
    assert v20["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert v20["credentialStatus"]["statusPurpose"] == "revocation"
    assert_verified(verifier, v20)

    # Any credential meeting the data model, not only ours.
    other = issued(issue(issuer_url, operator, example_v2(authority_did, holder.did)))
    assert_verified(verifier, other)

    listed = requests.get(
        f"{issuer_url}/issuer/credentials?workflow=vc-api&subject={holder.did}",
        headers=operator,
        timeout=10,
    ).json()["credentials"]
    ids = {r["credential_id"]: r for r in listed}
    for vc in (v11, v20, other):
        assert ids[vc["id"]]["state"] == "issued" and ids[vc["id"]]["channel"] == "vc-api"


def test_vc_api_retry_with_the_same_idempotency_key_returns_the_same_credential(
    issuer_url, operator, holder, authority_did, db
):
    body = {"credential": unsigned_example("OnboardingCredential", authority_did, holder.did)}
    headers = operator | {"Idempotency-Key": f"retry-{os.urandom(6).hex()}"}
    before = ledger(db)
    first = requests.post(f"{issuer_url}/credentials/issue", json=body, headers=headers, timeout=30)
    second = requests.post(
        f"{issuer_url}/credentials/issue", json=body, headers=headers, timeout=30
    )
    assert first.status_code == second.status_code == 201
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == second.json()
    after = ledger(db)
    assert after["records"] == before["records"] + 1
    assert after["entries"] == before["entries"] + 1

    changed = copy.deepcopy(body)
    changed["credential"]["credentialSubject"]["country"] = "AT"
    reused = requests.post(
        f"{issuer_url}/credentials/issue", json=changed, headers=headers, timeout=30
    )
    assert reused.status_code == 422
    assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert ledger(db)["records"] == after["records"]


def test_didcomm_retry_with_the_same_idempotency_key_returns_the_same_exchange(issuer_url, db):
    headers = {"Idempotency-Key": f"person-{os.urandom(6).hex()}"}
    body = {"givenName": "Bruno", "familyName": "Keller"}
    url = f"{issuer_url}/issuer/onboarding/persons"
    first = requests.post(url, json=body, headers=headers, timeout=10)
    before = ledger(db)
    second = requests.post(url, json=body, headers=headers, timeout=10)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert ledger(db)["records"] == before["records"]
