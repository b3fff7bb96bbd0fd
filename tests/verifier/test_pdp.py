"""The policy decision point over real, verified credentials and presentations."""

from __future__ import annotations

import copy

import pytest

from schemas.presentation import presentation_definition, presentation_definition_names
from verifier import pdp
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.testing import Party, credgate_credential
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
COMPANY = Party.generate()
CERTIFIER = Party.generate()
HOLDER = Party.generate()


@pytest.fixture(scope="module")
def verifier():
    trust = StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did,
        companies={COMPANY.did: "active"},
        accreditations={CERTIFIER.did: ["SoftwareCertificationCredential"]},
    )
    return Verifier(DidResolver(), trust=trust, require_status=False)


def presented(verifier, *credentials):
    vp = HOLDER.present(list(credentials), challenge="c")
    result = verifier.verify_presentation(vp, challenge="c")
    assert result.verified, result.error_types()
    return result


def test_role(verifier):
    role = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did)  # DataProvider, ...
    result = presented(verifier, role)
    decision = pdp.decide(result, pdp.Role("DataProvider"))
    assert decision.allow and decision.credentials == (role["id"],)
    denied = pdp.decide(result, pdp.Role("Governance"))
    assert not denied.allow and denied.reasons[0].code == pdp.ROLE_MISSING
    assert denied.to_dict()["reasons"][0]["role"] == "Governance"


def test_attorney_power(verifier):
    attorney = credgate_credential("AttorneyCredential", COMPANY, HOLDER.did)
    result = presented(verifier, attorney)
    decision = pdp.decide(result, pdp.AttorneyPower("marketplace", "purchase"))
    assert decision.allow and decision.acting_for == COMPANY.did
    assert not pdp.decide(result, pdp.AttorneyPower("marketplace", "delete")).allow
    assert pdp.decide(result, pdp.AttorneyPower("compute", "read")).reasons[0].code == (
        pdp.POWER_MISSING
    )


def test_unverified_presentation_is_denied_with_its_error_types(verifier):
    rogue = credgate_credential("AttorneyCredential", Party.generate(), HOLDER.did)
    vp = HOLDER.present([rogue], challenge="c")
    result = verifier.verify_presentation(vp, challenge="c")
    decision = pdp.decide(result, pdp.AttorneyPower("marketplace", "purchase"))
    assert not decision.allow
    assert decision.reasons[0].code == pdp.NOT_VERIFIED
    assert decision.reasons[0].extra["errors"] == ["issuer-not-kcit-company"]


def test_certified_software_digest_and_purpose(verifier):
    certificate = credgate_credential("SoftwareCertificationCredential", CERTIFIER, HOLDER.did)
    digest = "urn:sha256:" + "ab" * 32
    certificate = {k: v for k, v in certificate.items() if k != "proof"}
    certificate["credentialSubject"]["id"] = digest
    certificate = CERTIFIER.sign(certificate)
    purposes = certificate["credentialSubject"]["purposes"]
    # The software is the subject, not a holder: the certificate is verified on its own.
    result = verifier.verify_credential(certificate)
    assert result.verified, result.error_types()
    allowed = pdp.decide_credentials([result], pdp.CertifiedSoftware(digest, purposes[0]))
    assert allowed.allow
    other = pdp.decide_credentials([result], pdp.CertifiedSoftware(digest, "model-training-x"))
    assert other.reasons[0].code == pdp.PURPOSE_NOT_CERTIFIED
    unknown = pdp.decide_credentials(
        [result], pdp.CertifiedSoftware("urn:sha256:" + "cd" * 32, purposes[0])
    )
    assert unknown.reasons[0].code == pdp.SOFTWARE_NOT_CERTIFIED
    rogue = credgate_credential("SoftwareCertificationCredential", Party.generate(), HOLDER.did)
    assert not pdp.decide_credentials(
        [verifier.verify_credential(rogue)], pdp.CertifiedSoftware(digest, purposes[0])
    ).allow


def test_dif_presentation_definitions_from_schemas(verifier):
    role = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did)
    result = presented(verifier, role)
    provider = presentation_definition("data-provider")
    decision = pdp.decide(result, pdp.Definition(provider))
    assert decision.allow and decision.credentials == (role["id"],)

    consumer = presentation_definition("data-consumer")
    roles = role["credentialSubject"]["roles"]
    assert pdp.decide(result, pdp.Definition(consumer)).allow == ("DataConsumer" in roles)

    governance = pdp.decide(result, pdp.Definition(presentation_definition("governance")))
    assert not governance.allow
    assert governance.reasons[0].code == pdp.DESCRIPTOR_UNSATISFIED
    for name in presentation_definition_names():  # every bundled definition is evaluable
        decision = pdp.decide(result, pdp.Definition(presentation_definition(name)))
        assert all(r.code != pdp.UNSUPPORTED_DEFINITION for r in decision.reasons), name


def test_definition_matching_rules():
    credential = {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "RoleCredential"],
        "credentialSubject": {"roles": ["DataProvider", "ModelProvider"]},
    }
    descriptor = copy.deepcopy(presentation_definition("model-provider")["input_descriptors"][0])
    assert pdp.descriptor_matches(credential, descriptor)
    descriptor["schema"] = [{"uri": "https://example.org/other"}]
    assert not pdp.descriptor_matches(credential, descriptor)
    bad = pdp._match_definition([], {"submission_requirements": [{"rule": "all"}]})
    assert bad.reasons[0].code == pdp.UNSUPPORTED_DEFINITION
