"""What the conformance work must not loosen, and what it newly refuses: each attack below was
accepted by the verifier before (or is the invariant the gateway relies on)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from tests.support.gateway import verifier_client
from tests.support.problems import PROBLEMS
from tests.support.vc_api import DI_V2, EXAMPLES, V2, example_v2
from verifier import errors
from verifier.challenges import GATEWAY_TOKEN, ChallengeStore
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.suites import suite_for
from verifier.testing import Party
from verifier.trust import StaticTrustRegistry

pytestmark = pytest.mark.db

V1 = "https://www.w3.org/2018/credentials/v1"
ISSUER = Party.generate()
HOLDER = Party.generate()
THIEF = Party.generate()


@pytest.fixture(scope="module")
def client(settings, db):
    return verifier_client(settings, db, trust=StaticTrustRegistry(onboarding_authority=ISSUER.did))


def credential(**members) -> dict:
    return example_v2(
        ISSUER.did,
        HOLDER.did,
        **{"@context": [V2, EXAMPLES, DI_V2], "validFrom": "2025-01-01T00:00:00Z", **members},
    )


def signed(document: dict, proof_id: str = "urn:proof:1", **extra) -> dict:
    return ISSUER.sign(
        document,
        proof_type="DataIntegrityProof",
        cryptosuite="eddsa-rdfc-2022",
        id=proof_id,
        **extra,
    )


def error_types(response) -> list[str]:
    return [e["type"].removeprefix(PROBLEMS) for e in response.json.get("errors", [])]


def test_a_proof_claiming_a_chain_it_never_signed_is_refused(client):
    # B signed the bare document, then was dressed up as chained to A: a chain that does not
    # protect A, so A could be swapped for anything. Before: verified.
    document = credential()
    first = signed(document)
    lone = signed(document, "urn:proof:2")["proof"]
    suite = suite_for(lone)
    claim = {k: v for k, v in lone.items() if k != "proofValue"} | {"previousProof": "urn:proof:1"}
    forged = suite.attach(claim, suite.hash_data(document, claim), ISSUER.key)
    chain = {**document, "proof": [first["proof"], forged]}
    response = client.post("/credentials/verify", json={"verifiableCredential": chain})
    assert response.status_code == 400 and error_types(response) == [errors.BAD_SIGNATURE]


@pytest.mark.parametrize(
    "members",
    [
        {
            "relatedResource": [
                {
                    "id": "https://example.com/model.bin",
                    "digestSRI": "sha256-" + base64.b64encode(b"short").decode(),
                }
            ]
        },
        {
            "relatedResource": [
                {
                    "id": "https://example.com/a",
                    "digestSRI": "sha256-"
                    + base64.b64encode(hashlib.sha256(b"a").digest()).decode(),
                },
                {
                    "id": "https://example.com/a",
                    "digestSRI": "sha256-"
                    + base64.b64encode(hashlib.sha256(b"b").digest()).decode(),
                },
            ]
        },
        {"termsOfUse": {"id": "https://example.com/terms"}},
        {"evidence": {"id": "https://example.com/evidence/1"}},
    ],
)
def test_signed_credentials_breaking_the_data_model_are_refused(client, members):
    # Validly signed by the issuer, but the data model's MUSTs are broken: a relying party
    # cannot tell which digest pins a resource, or what kind of terms bind it. Before: verified.
    body = {"verifiableCredential": signed(credential(**members))}
    response = client.post("/credentials/verify", json=body)
    assert response.status_code == 400 and error_types(response) == [errors.INVALID_CREDENTIAL]


def _presentation(signer: Party, challenge: str, domain: str | None = None) -> dict:
    vc = ISSUER.sign(
        {
            "@context": [V1],
            "type": ["VerifiableCredential"],
            "issuer": ISSUER.did,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": HOLDER.did},
        },
        proof_type="Ed25519Signature2018",
    )
    return signer.present([vc], challenge=challenge, domain=domain)


def test_a_presentation_signed_for_no_domain_does_not_meet_a_callers_domain(client):
    # Before: accepted with a warning, so a proof made for anyone passed a domain-bound check.
    vp = _presentation(HOLDER, "rp-challenge")
    response = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": vp,
            "options": {"challenge": "rp-challenge", "domain": "rp.example"},
        },
    )
    assert response.status_code == 400 and error_types(response) == [errors.DOMAIN_MISMATCH]


def test_the_library_and_gateway_still_require_holder_binding():
    # Only the generic VC-API route relaxes it, explicitly; the default stays strict.
    vp = _presentation(THIEF, "c1")
    result = Verifier(DidResolver()).verify_presentation(vp, challenge="c1")
    assert result.error_types() == [errors.HOLDER_MISMATCH]


def test_the_vc_api_neither_accepts_nor_spends_the_gateways_challenges(client, db):
    gateway = ChallengeStore(db, GATEWAY_TOKEN)
    issued = gateway.issue("gateway.example")
    vp = _presentation(HOLDER, issued.challenge, "gateway.example")
    response = client.post("/presentations/verify", json={"verifiablePresentation": vp})
    assert error_types(response) == [errors.CHALLENGE_UNKNOWN]
    compared = client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": vp,
            "options": {"challenge": issued.challenge},
        },
    )
    assert compared.status_code == 200, compared.json
    gateway.consume(issued.challenge, "gateway.example")  # still the gateway's to spend, once
