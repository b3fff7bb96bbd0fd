"""Conformance of the VC-API endpoints with the W3C VC Data Model 2.0, Data Integrity 1.0 and the
VC-API: proof sets and previousProof chains, the data model's member rules at verify and at issue,
the VC-API's issue and verify options. Real servers, real agents and databases; every bad input
is a 4xx problem document with a stable type."""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import os

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support.gateway import verifier_client
from tests.support.problems import PROBLEMS
from tests.support.vc_api import (
    DI_V2,
    EXAMPLES,
    V1,
    V2,
    assert_verifies,
    example_v2,
    example_v11,
    issue,
    issued,
)
from verifier import errors
from verifier.challenges import GATEWAY_TOKEN, ChallengeStore
from verifier.credentials import as_list
from verifier.encoding import b58encode, b64url_encode
from verifier.suites import suite_for
from verifier.testing import Party, credgate_credential, serving_lists
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
HOLDER = Party.generate()
STRANGER = Party.generate()
DOMAIN = "verifier.credgate.example"

_SHA256 = hashlib.sha256(b"resource").digest()
SRI = "sha256-" + base64.b64encode(_SHA256).decode()
MULTIHASH = "u" + b64url_encode(bytes([0x12, 0x20]) + _SHA256)


#: (members, JSON pointer of the first violation): the data model's member rules.
MEMBER_CASES = [
    ({"termsOfUse": {"id": "https://example.com/tou"}}, "/termsOfUse/type"),
    ({"termsOfUse": [{"type": "Policy"}, "https://example.com/tou"]}, "/termsOfUse/1"),
    ({"evidence": [{"id": "https://example.com/e/1"}]}, "/evidence/0/type"),
    ({"refreshService": {"id": "https://example.com/refresh"}}, "/refreshService/type"),
    ({"credentialSchema": {"type": "JsonSchema"}}, "/credentialSchema/id"),
    ({"credentialSchema": {"id": "https://example.com/s.json"}}, "/credentialSchema/type"),
    ({"credentialSchema": {"id": "schema.json", "type": "JsonSchema"}}, "/credentialSchema/id"),
    ({"evidence": {"id": "not a url", "type": "Evidence"}}, "/evidence/id"),
    ({"relatedResource": "https://example.com/r"}, "/relatedResource"),
    ({"relatedResource": [{"digestSRI": SRI}]}, "/relatedResource/0/id"),
    (
        {
            "relatedResource": [
                {"id": "https://example.com/r", "digestSRI": SRI},
                {"id": "https://example.com/r", "digestSRI": SRI},
            ]
        },
        "/relatedResource/1/id",
    ),
    ({"relatedResource": [{"id": "https://example.com/r"}]}, "/relatedResource/0"),
    (
        {"relatedResource": [{"id": "https://example.com/r", "digestSRI": "sha256-nope"}]},
        "/relatedResource/0/digestSRI",
    ),
    (
        {"relatedResource": [{"id": "https://example.com/r", "digestSRI": "md5-" + SRI[7:]}]},
        "/relatedResource/0/digestSRI",
    ),
    (
        {"relatedResource": [{"id": "https://example.com/r", "digestMultibase": "uAAAA"}]},
        "/relatedResource/0/digestMultibase",
    ),
    ({"name": {"@value": "Alumni", "@language": "en", "extra": 1}}, "/name"),
    ({"description": 7}, "/description"),
    ({"issuer": {"id": AUTHORITY.did, "name": {"@language": "en"}}}, "/issuer/name"),
]


# -- helpers ---------------------------------------------------------------------------------------


def unsigned_v2(issuer: Party = AUTHORITY, **members) -> dict:
    return example_v2(
        issuer.did,
        HOLDER.did,
        **{
            "id": f"urn:uuid:{os.urandom(16).hex()}",
            "validFrom": "2025-01-01T00:00:00Z",
            **members,
        },
    )


def di_proof(party: Party, proof_id: str, previous=None, cryptosuite="eddsa-rdfc-2022") -> dict:
    proof = {
        "id": proof_id,
        "type": "DataIntegrityProof",
        "cryptosuite": cryptosuite,
        "created": "2025-06-01T00:00:00Z",
        "verificationMethod": party.method,
        "proofPurpose": "assertionMethod",
    }
    if previous is not None:
        proof["previousProof"] = previous
    return proof


def add_proof(
    document: dict,
    party: Party,
    proof_id: str,
    previous=None,
    *,
    over=None,
    cryptosuite="eddsa-rdfc-2022",
) -> dict:
    """``document`` with one more proof; a chained proof signs the document with the proofs it
    names (``over`` forces what is signed, to build forgeries)."""
    existing = as_list(document.get("proof"))
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof = di_proof(party, proof_id, previous, cryptosuite)
    if cryptosuite == "eddsa-jcs-2022":
        proof["@context"] = unsecured["@context"]
    if over is None:
        names = as_list(previous)
        chained = [p for p in existing if p.get("id") in names]
        over = {**unsecured, "proof": chained} if chained else unsecured
    suite = suite_for(proof)
    signed = suite.attach(proof, suite.hash_data(over, proof), party.key)
    return {**unsecured, "proof": [*existing, signed] if existing else signed}


def error_types(body: dict) -> list[str]:
    return [e["type"].removeprefix(PROBLEMS) for e in body.get("errors", [])]


def assert_problem(response, status: int, slug: str) -> dict:
    body = response.json if not callable(getattr(response, "json", None)) else response.json()
    assert response.status_code == status, body
    assert body["type"] == PROBLEMS + slug, body
    return body


# -- the verifier's VC-API (in-process app, real database) -----------------------------------------


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(("roles", AUTHORITY, "revocation"))


@pytest.fixture(scope="module")
def client(settings, db, status_server, clock):
    return verifier_client(
        settings,
        db,
        trust=StaticTrustRegistry(onboarding_authority=AUTHORITY.did),
        FETCH_ALLOW=[status_server.url],
        VERIFIER_DOMAIN=DOMAIN,
        VERIFIER_CLOCK=clock,
    )


_indexes = iter(range(1, 10_000))


def role(status_server, subject: str = HOLDER.did) -> dict:
    entry = status_server.entry("roles", next(_indexes))
    return credgate_credential("RoleCredential", AUTHORITY, subject, status=entry)


def verify_credential(client, credential, options=None):
    body = {"verifiableCredential": credential}
    if options is not None:
        body["options"] = options
    return client.post("/credentials/verify", json=body)


def verify_presentation(client, presentation, options=None):
    body = {"verifiablePresentation": presentation}
    if options is not None:
        body["options"] = options
    return client.post("/presentations/verify", json=body)


@pytest.mark.db
def test_proof_set_with_the_data_integrity_context_verifies(client):
    document = {**unsigned_v2(), "@context": [V2, EXAMPLES, DI_V2]}
    both = add_proof(add_proof(document, AUTHORITY, "urn:proof:1"), AUTHORITY, "urn:proof:2")
    response = verify_credential(client, both)
    assert response.status_code == 200, response.json
    assert response.json["verified"] is True
    # A proof set verifies as a whole: one bad member fails it.
    broken = copy.deepcopy(both)
    broken["proof"][1]["proofValue"] = both["proof"][0]["proofValue"]
    assert error_types(verify_credential(client, broken).json) == [errors.BAD_SIGNATURE]


@pytest.mark.db
@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022"])
def test_previous_proof_chains_verify_over_the_proofs_they_name(client, cryptosuite):
    document = {**unsigned_v2(), "@context": [V2, EXAMPLES, DI_V2]}
    first = add_proof(document, AUTHORITY, "urn:proof:a", cryptosuite=cryptosuite)
    chain = add_proof(first, AUTHORITY, "urn:proof:b", "urn:proof:a", cryptosuite=cryptosuite)
    response = verify_credential(client, chain)
    assert response.status_code == 200 and response.json["verified"], response.json
    longer = add_proof(
        chain, AUTHORITY, "urn:proof:c", ["urn:proof:a", "urn:proof:b"], cryptosuite=cryptosuite
    )
    assert verify_credential(client, longer).json["verified"] is True
    tampered = copy.deepcopy(longer)
    tampered["proof"][0]["created"] = "2025-06-02T00:00:00Z"  # A changed: A and B, C fail
    assert errors.BAD_SIGNATURE in error_types(verify_credential(client, tampered).json)


@pytest.mark.db
@pytest.mark.parametrize(
    ("forge", "slug"),
    [
        ("previous proof removed", errors.MALFORMED_PROOF),
        ("previous proof swapped", errors.BAD_SIGNATURE),
        ("chain to itself", errors.MALFORMED_PROOF),
        ("previousProof not a string", errors.MALFORMED_PROOF),
        ("two proofs with one id", errors.MALFORMED_PROOF),
        ("claims a chain it did not sign", errors.BAD_SIGNATURE),
        ("too many proofs", errors.MALFORMED_PROOF),
    ],
)
def test_broken_chains_are_refused(client, forge, slug):
    document = {**unsigned_v2(), "@context": [V2, EXAMPLES, DI_V2]}
    first = add_proof(document, AUTHORITY, "urn:proof:a")
    chain = add_proof(first, AUTHORITY, "urn:proof:b", "urn:proof:a")
    if forge == "previous proof removed":
        chain["proof"] = [chain["proof"][1]]
    elif forge == "previous proof swapped":
        other = add_proof(document, AUTHORITY, "urn:proof:a")["proof"]
        other["created"] = "2025-07-01T00:00:00Z"
        suite = suite_for(other)
        other = suite.attach(
            {k: v for k, v in other.items() if k != "proofValue"},
            suite.hash_data(document, other),
            AUTHORITY.key,
        )
        chain["proof"][0] = other  # a valid proof, not the one B signed over
    elif forge == "chain to itself":
        chain = add_proof(first, AUTHORITY, "urn:proof:b", "urn:proof:b")
    elif forge == "previousProof not a string":
        chain = add_proof(first, AUTHORITY, "urn:proof:b", [7])
    elif forge == "two proofs with one id":
        chain = add_proof(first, AUTHORITY, "urn:proof:a")
    elif forge == "claims a chain it did not sign":
        # Signed over the bare document (a lone proof), then presented as chained to A.
        chain = add_proof(first, AUTHORITY, "urn:proof:b", "urn:proof:a", over=document)
    elif forge == "too many proofs":
        for i in range(8):
            chain = add_proof(chain, AUTHORITY, f"urn:proof:x{i}")
    response = verify_credential(client, chain)
    assert response.status_code == 400
    assert error_types(response.json) == [slug], response.json


@pytest.mark.db
@pytest.mark.parametrize(("members", "pointer"), MEMBER_CASES)
def test_member_rules_at_verify(client, members, pointer):
    # Signed before the change (some cannot even be expanded): the data model is checked first.
    signed = AUTHORITY.sign(
        unsigned_v2(), proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
    )
    signed.update(members)
    response = verify_credential(client, signed)
    assert response.status_code == 400
    assert error_types(response.json) == [errors.INVALID_CREDENTIAL], response.json
    assert response.json["errors"][0]["path"] == pointer


@pytest.mark.db
def test_well_formed_members_verify(client):
    members = {
        "termsOfUse": {"type": "TrustFrameworkPolicy", "id": "https://example.com/tou"},
        "evidence": [{"type": ["Evidence"], "id": "https://example.com/evidence/1"}],
        "credentialSchema": {"id": "https://example.com/schema.json", "type": "JsonSchema"},
        "relatedResource": [
            {"id": "https://example.com/a", "digestSRI": SRI},
            {"id": "https://example.com/b", "digestMultibase": MULTIHASH},
            {
                "id": "https://example.com/c",
                "digestMultibase": "z" + b58encode(bytes([0x12, 0x20]) + _SHA256),
            },
        ],
        "name": [
            {"@value": "Alumni", "@language": "en"},
            {"@value": "خريج", "@language": "ar", "@direction": "rtl"},
        ],
        "description": "An example",
        "credentialSubject": [{"id": HOLDER.did, "alumniOf": "A"}, {"alumniOf": "B"}],
    }
    signed = AUTHORITY.sign(
        unsigned_v2(**members), proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
    )
    response = verify_credential(client, signed)
    assert response.status_code == 200, response.json


@pytest.mark.db
def test_enveloped_forms_are_unsupported_format(client, status_server):
    enveloped = {
        "@context": [V2],
        "id": "data:application/vc+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
        "type": "EnvelopedVerifiableCredential",
    }
    response = verify_credential(client, enveloped)
    assert response.status_code == 400
    assert error_types(response.json) == [errors.UNSUPPORTED_FORMAT]
    vp = {"@context": [V2], "type": "VerifiablePresentation", "verifiableCredential": [enveloped]}
    assert error_types(verify_presentation(client, vp).json) == [errors.UNSUPPORTED_FORMAT]
    enveloped_vp = {
        **enveloped,
        "type": "EnvelopedVerifiablePresentation",
        "id": "data:application/vp+jwt,eyJhbGciOiJFUzI1NiJ9.e30.c2ln",
    }
    assert error_types(verify_presentation(client, enveloped_vp).json) == [
        errors.UNSUPPORTED_FORMAT
    ]


@pytest.mark.db
@pytest.mark.parametrize(
    ("options", "detail"),
    [
        ({"checks": "proof"}, "list"),
        ({"checks": ["proof", 3]}, "list"),
        ({"checks": ["proof", "telepathy"]}, "telepathy"),
    ],
)
def test_unknown_or_malformed_checks_are_refused(client, status_server, options, detail):
    body = assert_problem(
        verify_credential(client, role(status_server), options), 400, errors.INVALID_REQUEST
    )
    assert detail in body["detail"]
    vp = HOLDER.present([role(status_server)], challenge="c")
    assert_problem(verify_presentation(client, vp, options), 400, errors.INVALID_REQUEST)


@pytest.mark.db
def test_checks_select_status_and_trust(client, status_server, clock):
    credential = role(status_server)
    full = verify_credential(client, credential)
    assert full.status_code == 200
    assert {"proof", "validity", "status", "trust"} <= set(full.json["checks"])
    entry = credential["credentialStatus"]
    status_server.set("roles", int(entry["statusListIndex"]))
    clock.advance(1.05)  # no change feed here: past the list cache's short TTL
    revoked = copy.deepcopy(credential)  # a new body: no proof-cache shortcut either way
    assert error_types(verify_credential(client, revoked).json) == [errors.REVOKED]
    proof_only = verify_credential(client, revoked, {"checks": ["proof"]})
    assert proof_only.status_code == 200, proof_only.json
    assert "status" not in proof_only.json["checks"] and "trust" not in proof_only.json["checks"]
    expired = credgate_credential(
        "RoleCredential",
        AUTHORITY,
        HOLDER.did,
        valid_until=None,
        valid_from="2099-01-01T00:00:00Z",
        status=entry,
    )
    # Validity is always checked, whatever the caller asks.
    assert error_types(verify_credential(client, expired, {"checks": ["proof"]}).json) == [
        errors.NOT_YET_VALID
    ]


@pytest.mark.db
def test_holder_binding_is_a_check_the_caller_asks_for(client, status_server):
    credential = role(status_server)  # issued to HOLDER
    vp = STRANGER.present([credential], challenge=f"caller-{os.urandom(4).hex()}")
    challenge = vp["proof"]["challenge"]
    reported = verify_presentation(client, vp, {"challenge": challenge})
    assert reported.status_code == 200, reported.json
    assert "holder" not in reported.json["checks"]
    assert PROBLEMS + errors.HOLDER_MISMATCH in [w["type"] for w in reported.json["warnings"]]
    required = verify_presentation(client, vp, {"challenge": challenge, "checks": ["holder"]})
    assert required.status_code == 400
    assert error_types(required.json) == [errors.HOLDER_MISMATCH]
    bound = HOLDER.present([role(status_server)], challenge=challenge)
    ok = verify_presentation(client, bound, {"challenge": challenge, "checks": ["holder"]})
    assert ok.status_code == 200 and "holder" in ok.json["checks"], ok.json


@pytest.mark.db
def test_a_callers_challenge_is_compared_and_ours_spent_once(client, status_server, db):
    # The caller's own challenge: compared with the proof, never spent (verifiable again).
    vp = HOLDER.present([role(status_server)], challenge="rp-challenge-1", domain="rp.example")
    options = {"challenge": "rp-challenge-1", "domain": "rp.example"}
    for _ in range(2):
        response = verify_presentation(client, vp, options)
        assert response.status_code == 200, response.json
        assert {"proof", "challenge", "domain", "holder"} <= set(response.json["checks"])
        warned = [w["type"] for w in response.json["warnings"]]
        assert warned == [PROBLEMS + errors.CHALLENGE_UNKNOWN]  # compared, not ours, not spent
    assert error_types(verify_presentation(client, vp, {"challenge": "other"}).json) == [
        errors.CHALLENGE_MISMATCH
    ]
    assert error_types(
        verify_presentation(client, vp, {**options, "domain": "x.example"}).json
    ) == [errors.DOMAIN_MISMATCH]
    # Without options.challenge, only one of ours counts.
    assert error_types(verify_presentation(client, vp).json) == [errors.CHALLENGE_UNKNOWN]

    # One of ours, named by the caller or not: spent once.
    for named in (True, False):
        issued = client.post("/challenges", json={"domain": "rp.example"}).json
        vp = HOLDER.present(
            [role(status_server)], challenge=issued["challenge"], domain="rp.example"
        )
        options = {"challenge": issued["challenge"]} if named else {}
        assert verify_presentation(client, vp, options).status_code == 200
        again = verify_presentation(client, vp, options)
        assert error_types(again.json) == [errors.CHALLENGE_REUSED]


@pytest.mark.db
def test_options_domain_must_be_in_the_proof(client, status_server):
    vp = HOLDER.present([role(status_server)], challenge="rp-challenge-2")  # no domain signed
    response = verify_presentation(
        client, vp, {"challenge": "rp-challenge-2", "domain": "rp.example"}
    )
    assert response.status_code == 400
    assert error_types(response.json) == [errors.DOMAIN_MISMATCH]
    # Without options.domain, the caller asked for none: accepted.
    assert verify_presentation(client, vp, {"challenge": "rp-challenge-2"}).status_code == 200


@pytest.mark.db
def test_another_consumers_challenge_is_neither_accepted_nor_spent_here(client, status_server, db):
    gateway = ChallengeStore(db, GATEWAY_TOKEN)
    issued = gateway.issue(DOMAIN)
    vp = HOLDER.present([role(status_server)], challenge=issued.challenge, domain=DOMAIN)
    assert error_types(verify_presentation(client, vp).json) == [errors.CHALLENGE_UNKNOWN]
    # Named by the caller, it is only compared: the gateway can still spend it once.
    assert verify_presentation(client, vp, {"challenge": issued.challenge}).status_code == 200
    gateway.consume(issued.challenge, DOMAIN)


# -- the issuer's VC-API (real suite and agents) ---------------------------------------------------


@pytest.mark.agents
@pytest.mark.db
def test_issuer_is_required(issuer_url, operator, authority_did, unchanged):
    credential = example_v2(authority_did, HOLDER.did)
    del credential["issuer"]
    body = assert_problem(issue(issuer_url, operator, credential), 400, "invalid-credential")
    assert body["errors"][0]["path"] == "/issuer"


@pytest.mark.agents
@pytest.mark.db
def test_member_rules_at_issue(issuer_url, operator, authority_did, unchanged):
    for members, pointer in MEMBER_CASES:
        response = issue(issuer_url, operator, example_v2(authority_did, HOLDER.did, **members))
        body = assert_problem(response, 400, "invalid-credential")
        assert pointer in [e["path"] for e in body["errors"]], (members, body)


@pytest.mark.agents
@pytest.mark.db
@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("undefined property (the agent answered 500)", errors.UNDEFINED_TERM),
        ("undefined type (was signed, then refused by our verifier)", errors.UNDEFINED_TERM),
        ("protected term redefined", errors.INVALID_JSONLD),
        ("name with extra properties (the agent answered 500)", "invalid-credential"),
    ],
)
def test_nothing_is_signed_that_our_verifier_refuses(
    issuer_url, operator, authority_did, unchanged, name, slug
):
    credential = {
        "undefined property (the agent answered 500)": example_v11(
            authority_did, HOLDER.did, foo=1
        ),
        "undefined type (was signed, then refused by our verifier)": example_v11(
            authority_did, HOLDER.did, type=["VerifiableCredential", "NoSuchType"]
        ),
        "protected term redefined": example_v2(
            authority_did, HOLDER.did, **{"@context": [V2, EXAMPLES, V1]}
        ),
        "name with extra properties (the agent answered 500)": example_v2(
            authority_did, HOLDER.did, name={"@value": "Alumni", "@language": "en", "note": "x"}
        ),
    }[name]
    response = issue(issuer_url, operator, credential)
    assert_problem(response, 400, slug)


@pytest.mark.agents
@pytest.mark.db
def test_several_subjects_are_issued_and_verify(issuer_url, verifier_url, operator, authority_did):
    subjects = [{"id": HOLDER.did, "alumniOf": "A"}, {"id": STRANGER.did, "alumniOf": "B"}]
    signed = issued(
        issue(
            issuer_url, operator, example_v2(authority_did, HOLDER.did, credentialSubject=subjects)
        )
    )
    assert signed["credentialSubject"] == subjects
    assert_verifies(verifier_url, signed)
    # A subject with nothing but an id among several: ACA-Py 1.7's signer fails on it (the W3C
    # VCDM 2.0 harness found it), so it is a clear 400 before the agent sees it.
    bare = [{"id": HOLDER.did}, {"id": STRANGER.did, "alumniOf": "B"}]
    refused = issue(
        issuer_url, operator, example_v2(authority_did, HOLDER.did, credentialSubject=bare)
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["type"].endswith("/subject-without-claims")


@pytest.mark.agents
@pytest.mark.db
def test_status_entry_only_when_asked_except_for_credgate_types(
    issuer_url, verifier_url, operator, authority_did, db
):
    plain = issued(issue(issuer_url, operator, example_v2(authority_did, HOLDER.did)))
    assert "credentialStatus" not in plain
    assert_verifies(verifier_url, plain)

    # Asked for, each data model gets its own kind of entry (and the 1.1 one its context).
    for example, entry, context in (
        (example_v2(authority_did, HOLDER.did), "BitstringStatusListEntry", V2),
        (
            example_v11(authority_did, HOLDER.did),
            "StatusList2021Entry",
            "https://w3id.org/vc/status-list/2021/v1",
        ),
    ):
        asked = issued(issue(issuer_url, operator, example, {"credentialStatus": {"type": entry}}))
        assert asked["credentialStatus"]["type"] == entry
        assert context in asked["@context"]
        assert_verifies(verifier_url, asked)

    # Policy: a credgate type always carries its entry (the gateway refuses one without).
    role_credential = {
        "@context": [V2, "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "RoleCredential"],
        "issuer": authority_did,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": HOLDER.did, "roles": ["DataIntermediary"]},
    }
    assert issued(issue(issuer_url, operator, role_credential))["credentialStatus"]["type"] == (
        "BitstringStatusListEntry"
    )


@pytest.mark.agents
@pytest.mark.db
@pytest.mark.parametrize(
    ("option", "status", "slug"),
    [
        ({"type": "StatusList2021Entry"}, 400, "unsupported-status-type"),  # for a 2.0 credential
        ({"type": "RevocationList2020Status"}, 400, "unsupported-status-type"),
        ({"type": "BitstringStatusListEntry", "statusPurpose": "x"}, 400, "invalid-request"),
        ("BitstringStatusListEntry", 400, "invalid-request"),
    ],
)
def test_bad_status_options(issuer_url, operator, authority_did, unchanged, option, status, slug):
    response = issue(
        issuer_url, operator, example_v2(authority_did, HOLDER.did), {"credentialStatus": option}
    )
    assert_problem(response, status, slug)


@pytest.mark.agents
@pytest.mark.db
def test_reissuing_the_same_id_and_content_is_idempotent(issuer_url, operator, authority_did, db):
    from tests.support.issuer_wallet import totals

    credential_id = f"urn:uuid:{os.urandom(16).hex()}"
    options = {"credentialId": credential_id}
    first = issued(issue(issuer_url, operator, example_v11(authority_did, HOLDER.did), options))
    assert first["id"] == credential_id
    before = totals(db)
    again = issue(issuer_url, operator, example_v11(authority_did, HOLDER.did), options)
    assert again.status_code == 201 and again.json()["verifiableCredential"] == first
    # Same id, given in the credential this time: the same request.
    named = issue(issuer_url, operator, example_v11(authority_did, HOLDER.did, id=credential_id))
    assert named.json()["verifiableCredential"] == first
    assert totals(db) == before
    for changed in (
        example_v11(authority_did, HOLDER.did, credentialSubject={"id": STRANGER.did}),
        example_v11(authority_did, HOLDER.did, expirationDate="2099-01-01T00:00:00Z"),
    ):
        assert_problem(issue(issuer_url, operator, changed, options), 409, "credential-exists")
    asked = {**options, "credentialStatus": {"type": "StatusList2021Entry"}}
    assert_problem(
        issue(issuer_url, operator, example_v11(authority_did, HOLDER.did), asked),
        409,
        "credential-exists",
    )
    assert totals(db) == before


def test_agent_refusals_are_the_clients_problem_unless_the_agent_is_away():
    from agents.client import AgentError, AgentUnavailable
    from credgate.problems import problem_of
    from issuer.vcapi import signing_problem

    refused = problem_of(signing_problem(AgentError("POST", "/vc/credentials/issue", 500, "boom")))
    assert (refused.status, refused.slug) == (400, "signing-refused")
    assert problem_of(signing_problem(AgentError("POST", "/x", 422, "no"))).status == 400
    away = signing_problem(AgentUnavailable("POST", "/vc/credentials/issue", "timed out"))
    assert problem_of(away).status == 503


@pytest.mark.agents
@pytest.mark.db
def test_the_agents_serve_the_data_integrity_context(
    suite, issuer_url, verifier_url, operator, authority_did
):
    from agents.acapy_plugin import OfflineDocumentLoader  # noqa: F401 (the plugin the agents load)
    from schemas.loader import document_loader

    assert "previousProof" in json.dumps(document_loader()(DI_V2)["document"])
    credential = example_v2(authority_did, HOLDER.did, **{"@context": [V2, EXAMPLES, DI_V2]})
    signed = issued(issue(issuer_url, operator, credential))
    assert DI_V2 in signed["@context"]
    assert_verifies(verifier_url, signed)


_json = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=8)
    | st.sampled_from(["https://example.com/a", "urn:proof:1", SRI, MULTIHASH, "u", "z"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(
                [
                    "id",
                    "type",
                    "@value",
                    "@language",
                    "@direction",
                    "digestSRI",
                    "digestMultibase",
                    "previousProof",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
_members = st.dictionaries(
    st.sampled_from(
        [
            "termsOfUse",
            "evidence",
            "refreshService",
            "credentialSchema",
            "credentialStatus",
            "relatedResource",
            "name",
            "description",
            "issuer",
        ]
    ),
    _json,
    max_size=4,
)


@hsettings(max_examples=300, deadline=None)
@given(members=_members, proofs=st.lists(_json, max_size=4))
def test_member_rules_and_chains_fail_only_with_their_own_errors(members, proofs):
    from verifier.credentials import member_violations
    from verifier.engine import chained_input, proofs_by_id
    from verifier.errors import VerificationError

    for path, message in member_violations(members):
        assert path.startswith("/") and message
    try:
        by_id = proofs_by_id(proofs)
        for proof in proofs:
            chained_input({"id": "urn:x"}, proof, by_id)
    except VerificationError as exc:
        assert exc.slug == errors.MALFORMED_PROOF
