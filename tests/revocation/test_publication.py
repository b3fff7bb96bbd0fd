"""Signed status-list credentials, served by the suite's revocation service.

The issuing DID's tenant on the issuer agent signs each list; the verifier agent (another
process) checks the signature. After a revoke or suspend the next fetch carries the flipped bit,
and the caching headers make every cache revalidate.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from uuid import uuid4

import pytest
import requests

from agents.tenants import ensure_tenant
from credgate.db import transaction
from credgate.problems import PROBLEM_BASE
from revocation.allocation import StatusAllocation, mark_issued
from revocation.bitstring import bit_at, decode_list
from revocation.models import LIST_SIZE
from schemas.registry import example_credential
from tests.support.didcomm import connect, issue_ld_proof
from tests.support.status_entries import live_entry, reserved_entry, revoke_entry

pytestmark = [pytest.mark.agents, pytest.mark.db]

TTL = 300  # the service default


@pytest.fixture(scope="module")
def signer(tenant):
    return tenant("issuer", "revocation-signer")


@pytest.fixture(scope="module")
def service(suite) -> str:
    return suite.servers["revocation"].url


def allocated(db, did: str, service: str, purpose: str, model: str) -> StatusAllocation:
    return live_entry(db, service, issuer_did=did, purpose=purpose, model=model)


def fetch(got: StatusAllocation, **headers) -> requests.Response:
    return requests.get(got.list_url, headers=headers, timeout=15)


def bit(credential: dict, model: str, index: int) -> bool:
    return bit_at(decode_list(credential["credentialSubject"]["encodedList"], model), index)


def verified(suite, credential: dict) -> bool:
    verdict = suite.agents["verifier"].client().verify_credential(credential)
    return verdict["verified"] is True


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_a_status_list_2021_is_signed_by_the_issuer_and_flips_on_revoke(
    suite, db, signer, service, operator
):
    got = allocated(db, signer.did, service, "revocation", "StatusList2021")
    other = allocated(db, signer.did, service, "revocation", "StatusList2021")
    assert other.list_id == got.list_id

    response = fetch(got)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/ld+json"
    credential = response.json()
    assert credential["id"] == got.list_url and credential["issuer"] == signer.did
    assert credential["type"] == ["VerifiableCredential", "StatusList2021Credential"]
    assert credential["@context"][:2] == [
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/vc/status-list/2021/v1",
    ]
    subject = credential["credentialSubject"]
    assert subject["type"] == "StatusList2021" and subject["statusPurpose"] == "revocation"
    assert len(decode_list(subject["encodedList"], "StatusList2021")) * 8 == LIST_SIZE
    proof = credential["proof"]
    assert proof["type"] == "Ed25519Signature2020"
    assert proof["verificationMethod"].startswith(signer.did + "#")
    assert proof["proofPurpose"] == "assertionMethod"
    validity = parse_time(credential["expirationDate"]) - parse_time(credential["issuanceDate"])
    assert validity == timedelta(seconds=TTL)
    assert not bit(credential, "StatusList2021", got.index)
    assert verified(suite, credential)

    began = time.monotonic()
    revoke_entry(service, got.entry_id, operator, "key compromised")
    after = fetch(got)
    assert time.monotonic() - began < 1.0  # revoke acknowledged and the new list signed
    flipped = after.json()
    assert bit(flipped, "StatusList2021", got.index)
    assert not bit(flipped, "StatusList2021", other.index)
    assert after.headers["ETag"] != response.headers["ETag"]
    assert verified(suite, flipped)
    tampered = dict(flipped, credentialSubject=subject)  # the old bits under the new proof
    assert not verified(suite, tampered)


def test_a_bitstring_status_list_is_signed_and_follows_suspensions(
    suite, db, signer, service, operator
):
    got = allocated(db, signer.did, service, "suspension", "BitstringStatusList")
    entry_url = f"{service}/status/entries/{got.entry_id}"

    initial = fetch(got)
    assert initial.headers["Content-Type"] == "application/vc+ld+json"
    credential = initial.json()
    assert credential["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert credential["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    subject = credential["credentialSubject"]
    assert subject["type"] == "BitstringStatusList" and subject["statusPurpose"] == "suspension"
    assert subject["encodedList"].startswith("u") and subject["ttl"] == TTL * 1000
    validity = parse_time(credential["validUntil"]) - parse_time(credential["validFrom"])
    assert validity == timedelta(seconds=TTL)
    assert not bit(credential, "BitstringStatusList", got.index)
    assert verified(suite, credential)

    requests.post(f"{entry_url}/suspend", json={"reason": "audit"}, headers=operator, timeout=10)
    suspended = fetch(got).json()
    assert bit(suspended, "BitstringStatusList", got.index) and verified(suite, suspended)

    requests.post(
        f"{entry_url}/reinstate", json={"reason": "cleared"}, headers=operator, timeout=10
    )
    assert not bit(fetch(got).json(), "BitstringStatusList", got.index)


def test_caching_headers_never_let_a_cache_hide_a_change(db, signer, service, operator):
    got = allocated(db, signer.did, service, "suspension", "StatusList2021")
    first = fetch(got)
    assert first.headers["Cache-Control"] == "no-cache"  # revalidate on every use
    etag = first.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"')  # a strong validator
    assert "Last-Modified" in first.headers
    assert int(first.headers["Credgate-Status-Version"]) >= 0

    # Unchanged: the stored signature is served again, and a revalidation is a 304.
    again = fetch(got)
    assert again.text == first.text and again.headers["ETag"] == etag
    not_modified = fetch(got, **{"If-None-Match": etag})
    assert not_modified.status_code == 304 and not_modified.content == b""
    assert not_modified.headers["Cache-Control"] == "no-cache"

    # Changed: the same revalidation now gets the new list.
    requests.post(
        f"{service}/status/entries/{got.entry_id}/suspend",
        json={"reason": "r"},
        headers=operator,
        timeout=10,
    )
    changed = fetch(got, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert bit(changed.json(), "StatusList2021", got.index)


def test_the_change_feed_names_the_list_url_a_verifier_fetches(db, signer, service, operator):
    got = allocated(db, signer.did, service, "suspension", "StatusList2021")
    last = requests.get(f"{service}/status/changes", timeout=10).json()["last"]
    requests.post(
        f"{service}/status/entries/{got.entry_id}/suspend",
        json={"reason": "r"},
        headers=operator,
        timeout=10,
    )
    body = requests.get(
        f"{service}/status/changes", params={"after": last, "wait": 5}, timeout=10
    ).json()
    [change] = [c for c in body["changes"] if c["list_id"] == got.list_id]
    assert change["url"] == got.list_url
    assert bit(requests.get(change["url"], timeout=10).json(), "StatusList2021", got.index)


def test_a_list_whose_issuer_the_agent_does_not_hold_is_a_503_problem(db, service):
    got = allocated(
        db,
        "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        service,
        "revocation",
        "StatusList2021",
    )
    response = fetch(got)
    assert response.status_code == 503
    assert response.json()["type"] == PROBLEM_BASE + "status-list-unavailable"
    assert response.headers["Retry-After"]


def test_signing_keeps_the_tenant_token_others_hold(suite, db, service):
    """ACA-Py honours only a tenant's newest token: signing must not log the issuer out."""
    tenant = ensure_tenant(db, "issuer", suite.agents["issuer"].client(), "token-keeper")
    got = allocated(db, tenant.did, service, "revocation", "StatusList2021")
    time.sleep(1.1)  # a token fetched now would carry a new iat and void the handle's token
    assert fetch(got).status_code == 200
    assert tenant.client.request("GET", "/wallet/did", params={"did": tenant.did})["results"]


def test_a_token_refreshed_by_another_process_is_replaced_once(suite, db, service, operator):
    agent = suite.agents["issuer"].client()
    tenant = ensure_tenant(db, "issuer", agent, "token-rotated")
    got = allocated(db, tenant.did, service, "revocation", "StatusList2021")
    assert fetch(got).status_code == 200
    time.sleep(1.1)
    agent.tenant_token(tenant.wallet_id)  # what another worker's fetch does to our token
    requests.post(
        f"{service}/status/entries/{got.entry_id}/revoke",
        json={"reason": "r"},
        headers=operator,
        timeout=10,
    )
    response = fetch(got)
    assert response.status_code == 200, response.text
    assert bit(response.json(), "StatusList2021", got.index)


def test_a_credential_with_an_allocated_status_entry_goes_over_didcomm(
    suite, db, hub, signer, tenant
):
    """The contract the issuer codes against: one credentialStatus object, accepted by an ACA-Py
    holder; suspending it shows in the list the entry points to."""
    service = suite.servers["revocation"].url
    holder = tenant("holder", "revocation-holder")
    connection_id, _ = connect(hub, signer, holder)
    credential = example_credential("AttorneyCredential")
    credential["id"] = f"urn:uuid:{uuid4()}"
    credential["issuer"] = credential["credentialSubject"]["mandator"]["id"] = signer.did
    credential["credentialSubject"]["id"] = holder.did
    got = reserved_entry(
        db,
        service,
        issuer_did=signer.did,
        purpose="suspension",
        credential_id=credential["id"],
        exchange_id=connection_id,
    )
    credential["credentialStatus"] = got.credential_status()

    record = issue_ld_proof(hub, signer, holder, connection_id, credential)
    assert record["state"] == "done"
    with transaction(db) as session:
        mark_issued(session, got.entry_id)
    [stored] = [
        c["cred_value"]
        for c in holder.client.w3c_credentials()
        if c["cred_value"]["id"] == credential["id"]
    ]
    assert stored["credentialStatus"] == got.credential_status()
    assert verified(suite, stored)

    from revocation.status import change_status

    change_status(db, got.entry_id, "suspend", reason="mandate paused", actor="test")
    status_list = requests.get(stored["credentialStatus"]["statusListCredential"], timeout=10)
    index = int(stored["credentialStatus"]["statusListIndex"])
    assert bit(status_list.json(), "StatusList2021", index)
