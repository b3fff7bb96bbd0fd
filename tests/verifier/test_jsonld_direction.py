"""``@direction`` signed as the reference libraries sign it (``rdfDirection: 'i18n-datatype'``).

The second implementation is pyld's own ``normalize`` with ``rdfDirection: 'i18n-datatype'``
plus PyNaCl, assembled here into an eddsa-rdfc-2022 signer and verifier that share nothing with
ours but the bundled context documents. A credential it signs verifies with us; one we sign
verifies with it. A signature made the way ACA-Py's signer makes it (direction dropped) does
not verify, and the VC-API issuer refuses ``@direction`` before the agent sees it.
"""

from __future__ import annotations

import copy
from hashlib import sha256

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from pyld import jsonld

from credgate.errors import DomainError
from credgate.problems import problem_of
from issuer.vcapi import check_expansion
from schemas.loader import document_loader
from verifier import errors
from verifier.encoding import multibase_decode, multibase_encode
from verifier.engine import Verifier
from verifier.jsonld import canonize, has_direction, to_quads
from verifier.testing import Party

V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
ISSUER = Party.from_seed(b"\x17" * 32)


def _credential(**members) -> dict:
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "name": [
            {"@value": "Alumni", "@language": "en"},
            {"@value": "خريج", "@language": "ar", "@direction": "rtl"},
        ],
        "credentialSubject": {"id": "did:example:holder", "alumniOf": "Example University"},
        **members,
    }


def _reference_canon(document: dict, rdf_direction: str | None = "i18n-datatype") -> str:
    options = {
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
        "documentLoader": document_loader(),
    }
    if rdf_direction:
        options["rdfDirection"] = rdf_direction
    return jsonld.normalize(copy.deepcopy(document), options)


def _reference_hash(document: dict, proof: dict, rdf_direction: str | None) -> bytes:
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    config["@context"] = document["@context"]
    return (
        sha256(_reference_canon(config, rdf_direction).encode()).digest()
        + sha256(_reference_canon(unsecured, rdf_direction).encode()).digest()
    )


def _reference_sign(document: dict, rdf_direction: str | None = "i18n-datatype") -> dict:
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": ISSUER.method,
        "proofPurpose": "assertionMethod",
    }
    signature = ISSUER.key.sign(_reference_hash(document, proof, rdf_direction)).signature
    return {**document, "proof": {**proof, "proofValue": multibase_encode(signature)}}


def _reference_verify(signed: dict) -> bool:
    proof = signed["proof"]
    data = _reference_hash(signed, proof, "i18n-datatype")
    try:
        VerifyKey(bytes(ISSUER.key.verify_key)).verify(data, multibase_decode(proof["proofValue"]))
    except BadSignatureError:
        return False
    return True


def test_the_direction_is_in_the_signed_graph():
    canonical = canonize(_credential())
    assert '"خريج"^^<https://www.w3.org/ns/i18n#ar_rtl>' in canonical
    assert canonical == _reference_canon(_credential())
    # A default direction in the context goes the same way (language tags lower-cased).
    defaulted = _credential()
    defaulted["@context"] = [V2, EXAMPLES, {"@direction": "rtl", "@language": "AR"}]
    assert '"Example University"^^<https://www.w3.org/ns/i18n#ar_rtl>' in canonize(defaulted)
    assert canonize(defaulted) == _reference_canon(defaulted)


def test_a_reference_signed_credential_with_direction_verifies():
    signed = _reference_sign(_credential())
    result = Verifier(require_status=False).verify_credential(signed)
    assert result.verified, result.error_types()


def test_a_credential_we_sign_with_direction_verifies_in_the_reference():
    signed = ISSUER.sign(
        _credential(), proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
    )
    assert _reference_verify(signed)
    # The reference notices a changed direction: the direction is signed, not decoration.
    flipped = copy.deepcopy(signed)
    flipped["name"][1]["@direction"] = "ltr"
    assert not _reference_verify(flipped)


def test_a_signature_that_dropped_the_direction_is_refused():
    """What ACA-Py's signer makes (no rdfDirection): the direction is not signed, so it could be
    flipped freely; it is not the graph we verify."""
    signed = _reference_sign(_credential(), rdf_direction=None)
    result = Verifier(require_status=False).verify_credential(signed)
    assert result.error_types() == [errors.BAD_SIGNATURE]


@pytest.mark.parametrize(
    "credential",
    [
        _credential(),
        {
            **_credential(name="x"),
            "credentialSubject": {"motto": "x"},
            "@context": [V2, EXAMPLES, {"motto": {"@id": "https://e/m", "@direction": "rtl"}}],
        },
    ],
    ids=["value", "term"],
)
def test_vc_api_issue_refuses_direction_until_the_agent_signs_it(credential):
    assert has_direction(to_quads(credential))
    with pytest.raises(DomainError) as refused:
        check_expansion(credential, with_status=False)
    answer = problem_of(refused.value)
    assert answer.status == 400
    assert answer.type.endswith("unsupported-direction")


def test_vc_api_issue_takes_languages_without_direction():
    credential = _credential(name={"@value": "Alumni", "@language": "en"})
    assert not has_direction(to_quads(credential))
    check_expansion(credential, with_status=False)
