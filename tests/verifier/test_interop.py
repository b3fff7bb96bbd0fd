"""A second implementation agrees: didkit 0.2.1 (SpruceID's Rust library) signs, we verify.

VCDM 1.1, Ed25519Signature2018, did:key — credentials and presentations; tampered copies are
rejected. And the other way round: didkit accepts what our suites sign.
"""

from __future__ import annotations

import copy
import json

import pytest

from verifier import errors
from verifier.engine import Verifier
from verifier.testing import Party

didkit = pytest.importorskip("didkit")


class DidkitKey:
    def __init__(self) -> None:
        self.jwk = didkit.generateEd25519Key()
        self.did = didkit.keyToDID("key", self.jwk)
        self.method = didkit.keyToVerificationMethod("key", self.jwk)

    def issue(self, credential: dict) -> dict:
        options = {"proofPurpose": "assertionMethod", "verificationMethod": self.method}
        return json.loads(
            didkit.issueCredential(json.dumps(credential), json.dumps(options), self.jwk)
        )

    def present(self, presentation: dict, **options) -> dict:
        options = {"proofPurpose": "authentication", "verificationMethod": self.method, **options}
        return json.loads(
            didkit.issuePresentation(json.dumps(presentation), json.dumps(options), self.jwk)
        )


@pytest.fixture(scope="module")
def parties():
    return DidkitKey(), DidkitKey()


def _credential(issuer: DidkitKey, subject: str) -> dict:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:5f1a4e0c-8d7b-4c53-9a41-2b7f8c3e6d10",
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2099-01-01T00:00:00Z",
        "credentialSubject": {"id": subject},
    }


def test_didkit_credential_verifies_and_tampered_copies_do_not(parties):
    issuer, holder = parties
    credential = issuer.issue(_credential(issuer, holder.did))
    assert credential["proof"]["type"] == "Ed25519Signature2018"
    verifier = Verifier(require_status=False)
    result = verifier.verify_credential(credential)
    assert result.verified, result.error_types()

    subject = copy.deepcopy(credential)
    subject["credentialSubject"]["id"] = issuer.did
    dates = copy.deepcopy(credential)
    dates["expirationDate"] = "2199-01-01T00:00:00Z"
    signature = copy.deepcopy(credential)
    jws = signature["proof"]["jws"]
    signature["proof"]["jws"] = jws[:-3] + ("A" if jws[-3] != "A" else "B") + jws[-2:]
    created = copy.deepcopy(credential)
    created["proof"]["created"] = "2020-01-01T00:00:00Z"
    for tampered in (subject, dates, signature, created):
        assert verifier.verify_credential(tampered).error_types() == [errors.BAD_SIGNATURE]


def test_didkit_presentation_verifies_and_tampered_copies_do_not(parties):
    issuer, holder = parties
    credential = issuer.issue(_credential(issuer, holder.did))
    presentation = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": holder.did,
        "verifiableCredential": [credential],
    }
    signed = holder.present(presentation, challenge="c-42", domain="gw.example")
    verifier = Verifier(require_status=False)
    result = verifier.verify_presentation(signed, challenge="c-42", domain="gw.example")
    assert result.verified, result.error_types()
    assert result.holder == holder.did

    tampered = copy.deepcopy(signed)
    tampered["proof"]["challenge"] = "c-43"
    assert verifier.verify_presentation(tampered, challenge="c-43").error_types() == [
        errors.BAD_SIGNATURE
    ]
    inner = copy.deepcopy(signed)
    inner["verifiableCredential"][0]["issuanceDate"] = "2024-01-01T00:00:00Z"
    assert (
        errors.BAD_SIGNATURE in verifier.verify_presentation(inner, challenge="c-42").error_types()
    )
    # Signed by the issuer instead of the subject: holder binding fails.
    other = issuer.present({**presentation, "holder": issuer.did}, challenge="c-42")
    assert verifier.verify_presentation(other, challenge="c-42").error_types() == [
        errors.HOLDER_MISMATCH
    ]


def test_didkit_accepts_what_we_sign():
    issuer, holder = Party.generate(), Party.generate()
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": "urn:uuid:0b6f7f53-4c49-4f6f-8d8b-8f8e2f1b7a01",
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": holder.did},
    }
    signed = issuer.sign(credential, proof_type="Ed25519Signature2018")
    verdict = json.loads(didkit.verifyCredential(json.dumps(signed), json.dumps({})))
    assert verdict["errors"] == [], verdict
    signed["credentialSubject"]["id"] = issuer.did
    verdict = json.loads(didkit.verifyCredential(json.dumps(signed), json.dumps({})))
    assert verdict["errors"], verdict
