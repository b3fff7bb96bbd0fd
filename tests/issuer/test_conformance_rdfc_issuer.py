"""The VC-API's second issuer instance: ``POST /credentials/issue?cryptosuite=eddsa-rdfc-2022``.

ACA-Py 1.7 signs Data Integrity proofs only with ``eddsa-jcs-2022``; credgate's ACA-Py plugin
registers ``eddsa-rdfc-2022`` in its Data Integrity API (hash data from our RDFC-1.0 and JSON-LD
code, ``rdfDirection: 'i18n-datatype'``; the signature by the wallet's key). What it signs is
checked here by a second implementation (pyld's own ``normalize`` with PyNaCl, sharing nothing
with ours but the bundled contexts) and by our verifier: ``@direction`` included, which the
default instance (ACA-Py's linked-data signer) must refuse.
"""

from __future__ import annotations

import copy
from hashlib import sha256

import pytest
import requests
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from pyld import jsonld

from agents.acapy_plugin.rdfc import hash_data as plugin_hash_data
from schemas.loader import document_loader
from tests.support import vc_api
from tests.support.problems import PROBLEMS
from tests.support.vc_api import DI_V2, EXAMPLES, V1, V2, assert_verifies, example_v2, example_v11
from verifier.encoding import multibase_decode
from verifier.testing import Party

RDFC = "eddsa-rdfc-2022"
HOLDER = Party.from_seed(b"\x42" * 32)
NAME = [
    {"@value": "Alumni", "@language": "en"},
    {"@value": "خريج", "@language": "ar", "@direction": "rtl"},
]


# -- the second implementation: pyld normalize (i18n-datatype) + PyNaCl -----------------------


def reference_canon(document: dict) -> str:
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader(),
        "rdfDirection": "i18n-datatype",
    }
    return jsonld.normalize(copy.deepcopy(document), options)


def reference_hash(document: dict, proof: dict) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return (
        sha256(reference_canon(config).encode()).digest()
        + sha256(reference_canon(unsecured).encode()).digest()
    )


def reference_verifies(signed: dict) -> bool:
    proof = signed["proof"]
    assert isinstance(proof, dict), proof
    did, _, fragment = proof["verificationMethod"].partition("#")
    assert did == signed["issuer"] and fragment == did.removeprefix("did:key:")
    multikey = multibase_decode(fragment)
    assert multikey[:2] == b"\xed\x01"  # ed25519-pub
    key = VerifyKey(multikey[2:])
    try:
        key.verify(reference_hash(signed, proof), multibase_decode(proof["proofValue"]))
    except BadSignatureError:
        return False
    return True


# -- no agent: the plugin's hash data is the reference's ---------------------------------------


def test_the_plugin_hashes_what_the_reference_hashes():
    issuer = Party.from_seed(b"\x17" * 32)
    document = {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": issuer.did,
        "name": NAME,
        "credentialSubject": {"id": HOLDER.did, "alumniOf": "Example"},
    }
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": issuer.method,
        "proofPurpose": "assertionMethod",
    }
    assert plugin_hash_data(document, proof) == reference_hash(document, proof)


# -- the real issuer, agent and verifier --------------------------------------------------------


def issue(issuer_url, operator, credential, *, cryptosuite: str | None = RDFC, options=None):
    return vc_api.issue(issuer_url, operator, credential, options, cryptosuite=cryptosuite)


def issued(response) -> dict:
    signed = vc_api.issued(response)
    assert signed["proof"]["type"] == "DataIntegrityProof"
    assert signed["proof"]["cryptosuite"] == "eddsa-rdfc-2022"
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    return signed


@pytest.mark.agents
@pytest.mark.db
def test_a_credential_with_direction_is_signed_and_verifies_in_both(
    issuer_url, verifier_url, operator, authority_did
):
    signed = issued(issue(issuer_url, operator, example_v2(authority_did, HOLDER.did, name=NAME)))
    assert signed["name"] == NAME
    assert reference_verifies(signed)
    assert_verifies(verifier_url, signed)
    # the direction is signed: flipping it breaks the signature in the reference and with us
    flipped = copy.deepcopy(signed)
    flipped["name"][1]["@direction"] = "ltr"
    assert not reference_verifies(flipped)
    response = requests.post(
        f"{verifier_url}/credentials/verify", json={"verifiableCredential": flipped}, timeout=30
    )
    assert response.json()["verified"] is False


@pytest.mark.agents
@pytest.mark.db
def test_the_default_instance_still_refuses_direction(issuer_url, operator, authority_did):
    response = issue(
        issuer_url, operator, example_v2(authority_did, HOLDER.did, name=NAME), cryptosuite=None
    )
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEMS + "unsupported-direction"


@pytest.mark.agents
@pytest.mark.db
def test_a_vcdm_11_credential_gets_the_data_integrity_context(
    issuer_url, verifier_url, operator, authority_did
):
    signed = issued(issue(issuer_url, operator, example_v11(authority_did, HOLDER.did)))
    assert signed["@context"] == [V1, DI_V2]
    assert reference_verifies(signed)
    assert_verifies(verifier_url, signed)


@pytest.mark.agents
@pytest.mark.db
def test_several_subjects_one_with_only_an_id(issuer_url, verifier_url, operator, authority_did):
    """ACA-Py's linked-data signer crashes on it (refused as subject-without-claims on the
    default instance); this signer does not."""
    subjects = [
        {"id": HOLDER.did, "alumniOf": "The School of Examples"},
        {"id": "did:example:other"},
    ]
    credential = example_v2(authority_did, HOLDER.did, credentialSubject=subjects)
    default = issue(issuer_url, operator, credential, cryptosuite=None)
    assert default.status_code == 400
    assert default.json()["type"] == PROBLEMS + "subject-without-claims"
    signed = issued(issue(issuer_url, operator, credential))
    assert reference_verifies(signed)
    assert_verifies(verifier_url, signed)


@pytest.mark.agents
@pytest.mark.db
def test_a_status_entry_on_request(issuer_url, verifier_url, operator, authority_did):
    options = {"credentialStatus": {"type": "BitstringStatusListEntry"}}
    signed = issued(
        issue(issuer_url, operator, example_v2(authority_did, HOLDER.did), options=options)
    )
    assert signed["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert reference_verifies(signed)
    assert_verifies(verifier_url, signed)


@pytest.mark.agents
@pytest.mark.db
def test_reissuing_the_same_id_is_idempotent_per_instance(issuer_url, operator, authority_did):
    credential = example_v2(
        authority_did, HOLDER.did, id="urn:uuid:5f1c2a6e-6b51-4c55-9c0e-2ad0f1d3e001"
    )
    first = issued(issue(issuer_url, operator, credential))
    assert issued(issue(issuer_url, operator, credential)) == first
    other = issue(issuer_url, operator, credential, cryptosuite=None)
    assert other.status_code == 409
    assert other.json()["type"] == PROBLEMS + "credential-exists"


@pytest.mark.agents
@pytest.mark.db
def test_an_unknown_cryptosuite_is_refused(issuer_url, operator, authority_did):
    response = issue(
        issuer_url, operator, example_v2(authority_did, HOLDER.did), cryptosuite="ecdsa-rdfc-2019"
    )
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEMS + "unsupported-cryptosuite"


@pytest.mark.agents
@pytest.mark.db
def test_an_idempotency_key_names_one_instance(issuer_url, operator, authority_did):
    """The query selects the instance: the same key and body on the other instance is another
    request (422), not a replay of the first instance's credential."""
    headers = {**operator, "Idempotency-Key": "rdfc-instance-key-1"}
    body = {"credential": example_v2(authority_did, HOLDER.did)}
    url = f"{issuer_url}/credentials/issue"
    first = requests.post(
        f"{url}?cryptosuite=eddsa-rdfc-2022", json=body, headers=headers, timeout=60
    )
    signed = issued(first)
    again = requests.post(
        f"{url}?cryptosuite=eddsa-rdfc-2022", json=body, headers=headers, timeout=60
    )
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert issued(again) == signed
    other = requests.post(url, json=body, headers=headers, timeout=60)
    assert other.status_code == 422, other.text
    assert other.json()["type"] == PROBLEMS + "idempotency-key-reused"
