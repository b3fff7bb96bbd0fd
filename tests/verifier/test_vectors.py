"""The W3C vc-di-eddsa and did:key test vectors (tests/vectors), byte for byte.

Every signed vector verifies, every intermediate value (canonical document and proof
configuration, their hashes, the signature) matches, and changing any claim value or any
character of any proof field makes verification fail.
"""

from __future__ import annotations

import copy
import json

import pytest
from nacl.signing import SigningKey

from tests.conftest import VECTORS
from verifier import errors
from verifier.dids import DidResolver, did_key_document, did_key_from_public_key
from verifier.encoding import multibase_decode
from verifier.engine import Verifier
from verifier.errors import VerificationError
from verifier.suites import sign, suite_for

EDDSA = VECTORS / "vc-di-eddsa"

# (folder, signed file, file-name suffix of the intermediate values, unsigned input)
CASES = [
    ("eddsa-rdfc-2022", "signedDataInt.json", "DataInt", "unsigned.json"),
    ("eddsa-rdfc-2022/employ", "signedDataInt.json", "DataInt", "employmentAuth.json"),
    ("eddsa-jcs-2022", "signedJCS.json", "JCS", "unsigned.json"),
    ("Ed25519Signature2020", "signedEdSig.json", "EdSig", None),
]
IDS = [c[0] for c in CASES]


def _read(path) -> str:
    return path.read_text(encoding="utf-8")


def _signed(folder: str, name: str) -> dict:
    return json.loads(_read(EDDSA / folder / name))


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(DidResolver(), require_status=False)


@pytest.fixture(scope="module")
def key() -> SigningKey:
    pair = json.loads(_read(EDDSA / "keyPair.json"))
    secret = multibase_decode(pair["privateKeyMultibase"])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv
    key = SigningKey(secret[2:])
    public = multibase_decode(pair["publicKeyMultibase"])[2:]
    assert bytes(key.verify_key) == public
    return key


@pytest.mark.parametrize(("folder", "signed", "suffix", "unsigned"), CASES, ids=IDS)
def test_vector_verifies(verifier, folder, signed, suffix, unsigned):
    document = _signed(folder, signed)
    methods = verifier.verify_proofs(document, "assertionMethod")
    assert [m.id for m in methods] == [document["proof"]["verificationMethod"]]


@pytest.mark.parametrize(("folder", "signed", "suffix", "unsigned"), CASES, ids=IDS)
def test_vector_intermediate_values_match(folder, signed, suffix, unsigned):
    document = _signed(folder, signed)
    proof = document.pop("proof")
    suite = suite_for(proof)
    data = suite.hash_data(document, proof)
    base = EDDSA / folder
    assert data.canonical_document == _read(base / f"canonDoc{suffix}.txt")
    assert data.canonical_proof_config == _read(base / f"proofCanon{suffix}.txt")
    assert data.document_hash.hex() == _read(base / f"docHash{suffix}.txt").strip()
    assert data.proof_hash.hex() == _read(base / f"proofHash{suffix}.txt").strip()
    assert data.combined.hex() == _read(base / f"combinedHash{suffix}.txt").strip()
    assert suite.signature(proof).hex() == _read(base / f"sigHex{suffix}.txt").strip()
    assert proof["proofValue"] == _read(base / f"sigBTC58{suffix}.txt").strip()
    # The proof configuration file is the proof without its value, with the document's context.
    config = json.loads(_read(base / f"proofConfig{suffix}.json"))
    assert config == {
        **{k: v for k, v in proof.items() if k != "proofValue"},
        "@context": document["@context"],
    }


def signed_like(document: dict, key, proof: dict, **options) -> dict:
    """``document`` signed by ``key`` with the method, proof type and cryptosuite of a vector's
    ``proof``."""
    return sign(
        document,
        key,
        proof["verificationMethod"],
        proof_type=proof["type"],
        cryptosuite=proof.get("cryptosuite"),
        **options,
    )


@pytest.mark.parametrize(("folder", "signed", "suffix", "unsigned"), CASES, ids=IDS)
def test_signing_the_unsigned_input_reproduces_the_vector(key, folder, signed, suffix, unsigned):
    expected = _signed(folder, signed)
    source = {k: v for k, v in expected.items() if k != "proof"}
    if unsigned is not None:
        assert json.loads(_read(EDDSA / unsigned)) == source
    proof = expected["proof"]
    produced = signed_like(source, key, proof, created=proof["created"])
    assert produced == expected


def _leaf_paths(value, path=()):
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaf_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaf_paths(child, (*path, index))
    else:
        yield path


def _tampered(document, path, new_value):
    copied = copy.deepcopy(document)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new_value
    return copied


def _fails(verifier, document) -> str:
    with pytest.raises(VerificationError) as failure:
        verifier.verify_proofs(document, "assertionMethod")
    return failure.value.slug


@pytest.mark.parametrize(("folder", "signed", "suffix", "unsigned"), CASES, ids=IDS)
def test_changing_any_claim_fails(verifier, folder, signed, suffix, unsigned):
    document = _signed(folder, signed)
    claims = [p for p in _leaf_paths(document) if p[0] != "proof"]
    assert len(claims) >= 8
    for path in claims:
        original = document
        for step in path:
            original = original[step]
        changed = original + "x" if isinstance(original, str) else f"{original}x"
        slug = _fails(verifier, _tampered(document, path, changed))
        assert slug in {
            errors.BAD_SIGNATURE,
            errors.UNKNOWN_CONTEXT,
            errors.UNDEFINED_TERM,
            errors.MALFORMED_PROOF,  # eddsa-jcs-2022: the proof's @context no longer a prefix
        }, path
    # An added claim fails too.
    assert _fails(verifier, {**document, "description": "changed"}) == errors.BAD_SIGNATURE


@pytest.mark.parametrize(("folder", "signed", "suffix", "unsigned"), CASES, ids=IDS)
def test_changing_any_proof_character_fails(verifier, folder, signed, suffix, unsigned):
    document = _signed(folder, signed)
    proof = document["proof"]
    value = proof["proofValue"]
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    for index in range(len(value)):
        replacement = alphabet[(alphabet.find(value[index]) + 1) % len(alphabet)]
        changed = value[:index] + replacement + value[index + 1 :]
        tampered = _tampered(document, ("proof", "proofValue"), changed)
        assert _fails(verifier, tampered) in {errors.BAD_SIGNATURE, errors.MALFORMED_PROOF}
    for field in ("created", "verificationMethod", "proofPurpose", "type", "cryptosuite"):
        if field not in proof:
            continue
        tampered = _tampered(document, ("proof", field), proof[field][:-1] + "X")
        assert _fails(verifier, tampered) != ""
    assert _fails(verifier, _tampered(document, ("proof",), {})) == errors.UNSUPPORTED_PROOF


def test_vector_credentials_are_not_bound_to_their_issuer(verifier):
    """The vectors sign with a did:key that is not their issuer: the proofs verify, and the full
    credential verification reports exactly that, with its own error type (and checks nothing
    more of a credential its issuer did not sign)."""
    for folder, signed, _suffix, _unsigned in CASES:
        result = verifier.verify_credential(_signed(folder, signed))
        assert result.error_types() == [errors.ISSUER_MISMATCH], folder
        assert result.checks == ["structure"]


def test_vector_signed_by_its_issuer_verifies_fully(verifier, key):
    """The same suites end to end, with the issuer set to the signing key's DID."""
    did = did_key_from_public_key(bytes(key.verify_key))
    for folder, signed, _suffix, _unsigned in CASES:
        document = {k: v for k, v in _signed(folder, signed).items() if k != "proof"}
        document["issuer"] = did
        proof = _signed(folder, signed)["proof"]
        resigned = signed_like(document, key, proof)
        result = verifier.verify_credential(resigned)
        assert result.verified, (folder, result.error_types())


# -- did:key ----------------------------------------------------------------------------------

DID_KEY_VECTORS = json.loads(_read(VECTORS / "did-key" / "ed25519-x25519.json"))


@pytest.mark.parametrize("did", sorted(DID_KEY_VECTORS))
def test_did_key_vectors_resolve_to_their_documents(did):
    vector = DID_KEY_VECTORS[did]
    expected = vector["didDocument"]
    key_format = expected["verificationMethod"][0]["type"]
    if key_format != "JsonWebKey2020":
        key_format = "Ed25519VerificationKey2018"
    assert did_key_document(did, key_format) == expected
    seed = bytes.fromhex(vector["seed"])
    assert did_key_from_public_key(bytes(SigningKey(seed).verify_key)) == did


@pytest.mark.parametrize("did", sorted(DID_KEY_VECTORS))
def test_did_key_vectors_give_their_keys_to_verification(did):
    vector = DID_KEY_VECTORS[did]
    seed = bytes.fromhex(vector["seed"])
    method_id = vector["didDocument"]["assertionMethod"][0]
    method = DidResolver().verification_method(method_id, "assertionMethod")
    assert method.public_key == bytes(SigningKey(seed).verify_key)
    assert method.did == did
    with pytest.raises(VerificationError) as failure:
        DidResolver().verification_method(
            vector["didDocument"]["keyAgreement"][0], "assertionMethod"
        )
    assert failure.value.slug == errors.PROOF_PURPOSE_MISMATCH


def test_did_key_that_is_not_ed25519_is_refused():
    with pytest.raises(VerificationError) as failure:
        DidResolver().resolve("did:key:zDnaegE6RR3atJtHKwTRTWHsJ3kNHqFwv7n9YjTgmU7TyfU76")
    assert failure.value.slug == errors.DID_RESOLUTION_FAILED
    with pytest.raises(VerificationError) as failure:
        DidResolver().resolve("did:example:123")
    assert failure.value.slug == errors.UNSUPPORTED_DID_METHOD
