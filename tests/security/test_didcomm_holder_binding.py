"""Holder binding of DIDComm offers: an Onboarding, Role or Attorney credential is never issued
without a DID subject, and one bound up front names no other DID whoever takes it.

Real agents: the issuer's, and holder-agent tenants playing the holder and an attacker who got
hold of the QR code (a screenshot, a shoulder, a forwarded link).
"""

from __future__ import annotations

import time

import pytest
import requests

from tests.support.issuer_wallet import (
    fetch_invitation,
    receive_offers,
    settled,
    take_credential,
)

pytestmark = [pytest.mark.agents, pytest.mark.db]

TIMEOUT = 15.0


@pytest.fixture(scope="module")
def victim(tenant):
    return tenant("holder", "binding-victim")


@pytest.fixture(scope="module")
def attacker(tenant):
    return tenant("holder", "binding-mallory")


def onboarding(issuer_url: str, **options) -> dict:
    response = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Noor", "familyName": "Haddad", **options},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def holds(holder, credential_id: str) -> bool:
    return any(c["cred_value"].get("id") == credential_id for c in holder.client.w3c_credentials())


def test_a_request_naming_no_did_gets_no_credential(issuer_url, victim, hub):
    """A wallet that copies a late-bound offer unchanged (Credo 0.5) names no subject: refused,
    never issued without one."""
    exchange = onboarding(issuer_url)
    [offer] = receive_offers(hub, victim, fetch_invitation(exchange["invitation_url"]), 1)
    victim.client.send_credential_request(offer["cred_ex_id"])  # no holder_did
    view = settled(exchange, timeout=TIMEOUT)
    assert view["state"] == "abandoned", view
    assert "no holder DID" in view["reason"]
    assert view["credentials"][0]["state"] == "abandoned" and view["delivered"] is False
    time.sleep(0.3)  # a credential sent anyway would have arrived by now
    assert not holds(victim, exchange["credentials"][0]["credential_id"])


def test_an_offer_bound_to_a_did_stays_bound_whoever_scans_it(issuer_url, victim, attacker, hub):
    """Whoever scans a bound offer and names its own DID gets, at most, a credential naming the
    DID in the offer, which only that DID's key can present. (A request changing the subject is
    refused by the issuer agent itself: ACA-Py checks that a request matches its offer.)"""
    exchange = onboarding(issuer_url, did=victim.did, proofType="Ed25519Signature2018")
    [offer] = receive_offers(hub, attacker, fetch_invitation(exchange["invitation_url"]), 1)
    take_credential(hub, attacker, offer, holder_did=attacker.did)
    [record] = settled(exchange, timeout=TIMEOUT)["credentials"]
    [vc] = [
        c["cred_value"]
        for c in attacker.client.w3c_credentials()
        if c["cred_value"].get("id") == record["credential_id"]
    ]
    assert vc["credentialSubject"]["id"] == victim.did != attacker.did
    assert vc["proof"]["type"] == "Ed25519Signature2018"


@pytest.mark.parametrize(
    "subject_id",
    ["urn:uuid:3f1a8c4e-5b7d-4e2a-9c61-0d8f2b7e4a13", "https://mallory.example/me", "did:", ""],
)
def test_a_generic_offer_of_a_role_credential_needs_a_did_subject(issuer_url, operator, subject_id):
    authority = requests.get(f"{issuer_url}/issuer/did", timeout=10).json()["did"]
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "RoleCredential"],
        "issuer": authority,
        "expirationDate": "2030-01-01T00:00:00Z",
        "credentialSubject": {"id": subject_id, "roles": ["DataConsumer"]},
    }
    response = requests.post(
        f"{issuer_url}/issuer/offers",
        json={"credential": credential, "proofType": "Ed25519Signature2018"},
        headers=operator,
        timeout=10,
    )
    assert response.status_code in (400, 422), response.text
    assert response.json()["type"].rsplit("/", 1)[-1] in ("schema-violation", "invalid-credential")


@pytest.mark.parametrize("did", ["mallory", "did:key", "did:key:z6Mk#fragment", 42])
def test_person_onboarding_refuses_a_subject_that_is_not_a_did(issuer_url, did):
    response = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": "Noor", "familyName": "Haddad", "did": did},
        timeout=10,
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == "did"
