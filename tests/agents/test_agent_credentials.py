"""What our own agents produce verifies through the library and the running VC-API.

* credentials our issuer agent issues over DIDComm (VCDM 1.1, Ed25519Signature2020, with a
  StatusList2021 entry) and, through ACA-Py's VC-API, VCDM 2.0;
* presentations the holder agent signs (Ed25519Signature2018, no domain — what Aries wallets
  send), with a challenge from our ``POST /challenges``.

Status lists come from a loopback server of this test, signed with a key of its own that the
trust file names as a status-list publisher.
"""

from __future__ import annotations

import copy
import json

import pytest
import requests

from schemas.registry import example_credential
from tests.support.didcomm import connected_pair, issue_ld_proof
from tests.support.issuer_wallet import allow_fetch
from tests.support.problems import PROBLEMS
from verifier import errors
from verifier.dids import DidResolver
from verifier.engine import ProofCache, Verifier
from verifier.fetch import FetchPolicy
from verifier.status import StatusListCache
from verifier.testing import ED25519_2020_CONTEXT, Party, StatusListServer
from verifier.trust import StaticTrustRegistry

pytestmark = pytest.mark.agents

PUBLISHER = Party.generate()


@pytest.fixture(scope="module")
def status_server():
    server = StatusListServer().start()
    server.add_list("agents", PUBLISHER, "revocation")
    server.add_list("v2-agents", PUBLISHER, "revocation")  # served as BitstringStatusList
    yield server
    server.stop()


@pytest.fixture(scope="module")
def parties(tenant, hub):
    return connected_pair(hub, tenant, "verifier-authority", "verifier-holder")


@pytest.fixture(scope="module")
def trust_data(parties):
    issuer, _holder, _conn = parties
    # PUBLISHER signs the status lists of the agent's credentials: named for that issuer only.
    return {
        "onboarding_authority": issuer.did,
        "status_list_signers": {issuer.did: [PUBLISHER.did]},
    }


@pytest.fixture(scope="module")
def service(suite, settings, trust_data, status_server):
    """The suite's running verifier service, with our trust file in its var directory."""
    path = settings.var_dir / "verifier" / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trust_data))
    allow_fetch(suite, status_server.url, service="verifier")  # a loopback host of ours
    return suite.servers["verifier"].url


@pytest.fixture(scope="module")
def verifier(trust_data, status_server):
    verifier = Verifier(
        DidResolver(), trust=StaticTrustRegistry.from_dict(trust_data), proof_cache=ProofCache()
    )
    verifier.status = StatusListCache(
        verifier.verify_status_list, short_ttl=0.0, policy=FetchPolicy([status_server.url])
    )
    return verifier


_indexes = iter(range(1, 10_000))


@pytest.fixture(scope="module")
def issued(parties, hub, status_server):
    """One Onboarding credential issued over DIDComm, as the holder stored it."""
    issuer, holder, connection_id = parties
    credential = example_credential("OnboardingCredential")
    credential["issuer"] = issuer.did
    credential["issuanceDate"] = "2025-01-01T00:00:00Z"
    credential["expirationDate"] = "2099-01-01T00:00:00Z"
    credential["credentialSubject"]["id"] = holder.did
    credential["credentialStatus"] = status_server.entry("agents", next(_indexes))
    issue_ld_proof(hub, issuer, holder, connection_id, credential)
    stored = [
        c["cred_value"]
        for c in holder.client.w3c_credentials()
        if c["cred_value"].get("id") == credential["id"]
    ]
    assert len(stored) == 1
    return stored[0]


def test_didcomm_issued_credential_verifies_in_the_library(issued, verifier):
    assert issued["proof"]["type"] == "Ed25519Signature2020"
    result = verifier.verify_credential(issued)
    assert result.verified, result.error_types()
    assert "status" in result.checks and "trust" in result.checks
    tampered = copy.deepcopy(issued)
    tampered["credentialSubject"]["legalName"] = "Someone Else Ltd"
    assert verifier.verify_credential(tampered).error_types() == [errors.BAD_SIGNATURE]


def test_didcomm_issued_credential_verifies_through_the_vc_api(issued, service):
    response = requests.post(
        f"{service}/credentials/verify", json={"verifiableCredential": issued}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    tampered = copy.deepcopy(issued)
    tampered["issuanceDate"] = "2025-01-02T00:00:00Z"
    response = requests.post(
        f"{service}/credentials/verify", json={"verifiableCredential": tampered}, timeout=10
    )
    assert response.status_code == 400
    assert [e["type"] for e in response.json()["errors"]] == [PROBLEMS + errors.BAD_SIGNATURE]


def test_vcdm2_credential_signed_by_the_issuer_agent_verifies(parties, verifier, status_server):
    issuer, holder, _conn = parties
    credential = example_credential("RoleCredential")
    credential["@context"] = ["https://www.w3.org/ns/credentials/v2", *credential["@context"][1:]]
    credential["issuer"] = issuer.did
    credential.pop("issuanceDate")
    credential.pop("expirationDate")
    credential["validFrom"] = "2025-01-01T00:00:00Z"
    credential["credentialSubject"]["id"] = holder.did
    entry = status_server.entry("v2-agents", next(_indexes), "BitstringStatusListEntry")
    credential["credentialStatus"] = entry
    body = issuer.client.request(
        "POST",
        "/vc/credentials/issue",
        json={
            "credential": credential,
            "options": {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"},
        },
    )
    signed = body["verifiableCredential"]
    assert signed["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    result = verifier.verify_credential(signed)
    assert result.verified, result.error_types()
    tampered = copy.deepcopy(signed)
    tampered["credentialSubject"]["roles"] = ["Governance"]
    assert verifier.verify_credential(tampered).error_types() == [errors.BAD_SIGNATURE]
    status_server.set("v2-agents", int(entry["statusListIndex"]))
    assert verifier.verify_credential(signed).error_types() == [errors.REVOKED]


def _prove(holder, credentials, challenge, proof_type="Ed25519Signature2018"):
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": credentials,
    }
    if proof_type == "Ed25519Signature2020":
        presentation["@context"].append(ED25519_2020_CONTEXT)
    options = {"proofType": proof_type, "challenge": challenge, "proofPurpose": "authentication"}
    body = holder.client.request(
        "POST", "/vc/presentations/prove", json={"presentation": presentation, "options": options}
    )
    return body["verifiablePresentation"]


def test_holder_agent_presentation_verifies_through_library_and_vc_api(
    parties, issued, verifier, service
):
    _issuer, holder, _conn = parties
    challenge = requests.post(f"{service}/challenges", timeout=10).json()["challenge"]
    presentation = _prove(holder, [issued], challenge)
    assert presentation["proof"]["type"] == "Ed25519Signature2018"
    assert "domain" not in presentation["proof"]

    result = verifier.verify_presentation(presentation, challenge=challenge)
    assert result.verified, result.error_types()
    assert result.holder == holder.did

    body = {"verifiablePresentation": presentation, "options": {"challenge": challenge}}
    response = requests.post(f"{service}/presentations/verify", json=body, timeout=10)
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    replay = requests.post(f"{service}/presentations/verify", json=body, timeout=10)
    assert replay.status_code == 400
    assert [e["type"] for e in replay.json()["errors"]] == [PROBLEMS + errors.CHALLENGE_REUSED]


def test_holder_agent_presentation_2020_and_tampering(parties, issued, verifier):
    _issuer, holder, _conn = parties
    presentation = _prove(holder, [issued], "c-2020", proof_type="Ed25519Signature2020")
    assert verifier.verify_presentation(presentation, challenge="c-2020").verified
    tampered = copy.deepcopy(presentation)
    tampered["proof"]["challenge"] = "c-other"
    assert verifier.verify_presentation(tampered, challenge="c-other").error_types() == [
        errors.BAD_SIGNATURE
    ]
