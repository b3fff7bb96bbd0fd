"""Acceptance of the foundation: an ld_proof credential over DIDComm, fully offline.

An issuer tenant with a did:key signs a VCDM 1.1 credential in our context with
Ed25519Signature2020 and issues it to a holder tenant, which stores it. Contexts come only from the
bundle: the agents have no network beyond loopback, and a context we do not bundle is refused
with an error that names it.
"""

from __future__ import annotations

import pytest

from agents.client import AgentError
from schemas.loader import CREDGATE_CONTEXT_V1
from schemas.registry import example_credential, validate
from tests.support.didcomm import connected_pair, issue_ld_proof

pytestmark = pytest.mark.agents


@pytest.fixture(scope="module")
def parties(tenant, hub):
    return connected_pair(hub, tenant, "onboarding-authority", "alice")


def _credential(name: str, issuer_did: str, subject_did: str) -> dict:
    credential = example_credential(name)
    credential["issuer"] = issuer_did
    credential["credentialSubject"]["id"] = subject_did
    if name == "AttorneyCredential":
        credential["credentialSubject"]["mandator"]["id"] = issuer_did
    assert validate(credential) == []
    return credential


@pytest.mark.parametrize("name", ["OnboardingCredential", "AttorneyCredential"])
def test_ld_proof_credential_is_issued_to_a_holder_tenant_and_stored(parties, hub, suite, name):
    issuer, holder, connection_id = parties
    credential = _credential(name, issuer.did, holder.did)

    record = issue_ld_proof(hub, issuer, holder, connection_id, credential)
    assert record["state"] == "done"

    stored = [
        c["cred_value"]
        for c in holder.client.w3c_credentials()
        if c["cred_value"].get("id") == credential["id"]
    ]
    assert len(stored) == 1
    vc = stored[0]
    assert vc["issuer"] == issuer.did and issuer.did.startswith("did:key:z6Mk")
    assert vc["credentialSubject"] == credential["credentialSubject"]
    assert CREDGATE_CONTEXT_V1 in vc["@context"]
    assert vc["credentialStatus"] == credential["credentialStatus"]
    proof = vc["proof"]
    assert proof["type"] == "Ed25519Signature2020"
    assert proof["proofPurpose"] == "assertionMethod"
    assert proof["verificationMethod"].startswith(issuer.did + "#")

    # The verifier agent (another process, same offline contexts) accepts the signature.
    verdict = suite.agents["verifier"].client().verify_credential(vc)
    assert verdict["verified"] is True, verdict
    tampered = dict(vc, credentialSubject=dict(vc["credentialSubject"], id=issuer.did))
    assert suite.agents["verifier"].client().verify_credential(tampered)["verified"] is False


def test_unknown_context_is_refused_by_the_agent_naming_the_url(parties):
    issuer, holder, connection_id = parties
    credential = _credential("OnboardingCredential", issuer.did, holder.did)
    unknown = "https://contexts.example.org/not-bundled/v1"
    credential["@context"] = [*credential["@context"], unknown]
    with pytest.raises(AgentError) as err:
        issuer.client.send_ld_proof_offer(
            connection_id, credential, {"proofType": "Ed25519Signature2020"}
        )
    assert err.value.status == 400
    assert unknown in err.value.message
    assert "not bundled" in err.value.message
