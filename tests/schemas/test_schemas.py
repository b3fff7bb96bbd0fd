"""schemas/: JSON-LD context, JSON Schemas, type registry, examples, presentation definitions.

The JSON-LD tests run real pyld expansion, compaction and URDNA2015 over the frozen loader, because
what matters is what a signature covers: a property the context does not define is dropped on
expansion and would travel unsigned.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import uuid
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pyld import jsonld
from pyld.jsonld import JsonLdError

from schemas import registry
from schemas.loader import CREDGATE_CONTEXT_V1, document_loader, load_context
from schemas.presentation import (
    UnknownPresentationDefinition,
    presentation_definition,
    presentation_definition_names,
)
from schemas.registry import (
    VOCAB,
    CredentialType,
    SchemaViolation,
    TrustedIssuerRule,
    UnknownCredentialType,
    credential_type,
    credential_types,
    example_credential,
    validate,
)

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
STATUS_LIST_2021 = "https://w3id.org/vc/status-list/2021/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
TYPES = sorted(credential_types())
OPTIONS = {"documentLoader": document_loader()}

ROLES = [
    "DataProvider",
    "DataConsumer",
    "ModelProvider",
    "ModelConsumer",
    "InfrastructureProvider",
    "DataIntermediary",
    "Certifier",
    "Governance",
]


def expand(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return jsonld.expand(copy.deepcopy(doc), OPTIONS)


def round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    """compact(expand(doc)) with the document's own context: equal to doc iff nothing dropped."""
    return jsonld.compact(expand(doc), {"@context": doc["@context"]}, OPTIONS)


def as_vcdm2(credential: dict[str, Any], *, bitstring: bool = False) -> dict[str, Any]:
    """The same credential in a VCDM 2.0 envelope, as the VC-API may issue it."""
    cred = copy.deepcopy(credential)
    cred["@context"][0] = V2
    cred["validFrom"] = cred.pop("issuanceDate")
    if "expirationDate" in cred:
        cred["validUntil"] = cred.pop("expirationDate")
    if bitstring:
        cred["@context"].remove(STATUS_LIST_2021)
        cred["credentialStatus"]["type"] = "BitstringStatusListEntry"
    return cred


def iris_in(node: Any) -> list[str]:
    """Every property IRI, @type value and @vocab-typed @id in an expanded JSON-LD tree."""
    found: list[str] = []
    if isinstance(node, list):
        for item in node:
            found.extend(iris_in(item))
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@type":
                found.extend(value if isinstance(value, list) else [value])
            elif not key.startswith("@"):
                found.append(key)
            if key != "@value":
                found.extend(iris_in(value))
    return found


def paths(violations: list[SchemaViolation]) -> set[str]:
    return {v.path for v in violations}


# --- examples against their schemas -------------------------------------------------------------


def test_schema_files_are_valid_draft_2020_12() -> None:
    for path in sorted(registry.SCHEMAS_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema["$id"].endswith("/" + path.name)


@pytest.mark.parametrize("name", TYPES)
def test_example_validates(name: str) -> None:
    example = example_credential(name)
    assert validate(example) == []
    assert example["@context"][0] == V1
    assert CREDGATE_CONTEXT_V1 in example["@context"]
    assert example["type"] == ["VerifiableCredential", name]
    assert example["credentialStatus"]["type"] == "StatusList2021Entry"
    assert example["issuer"].startswith("did:key:z6Mk")
    assert "proof" not in example


@pytest.mark.parametrize("name", TYPES)
def test_example_in_vcdm2_envelope_validates(name: str) -> None:
    assert validate(as_vcdm2(example_credential(name))) == []
    assert validate(as_vcdm2(example_credential(name), bitstring=True)) == []


def test_example_is_a_fresh_copy() -> None:
    first = example_credential("RoleCredential")
    first["credentialSubject"]["roles"].clear()
    assert example_credential("RoleCredential")["credentialSubject"]["roles"]


def test_software_example_digests_agree() -> None:
    subject = example_credential("SoftwareCertificationCredential")["credentialSubject"]
    hex_digest = subject["id"].removeprefix("urn:sha256:")
    sri = base64.b64decode(subject["digestSRI"].removeprefix("sha256-"))
    assert sri.hex() == hex_digest


def test_example_lei_check_digits() -> None:
    lei = example_credential("OnboardingCredential")["credentialSubject"][
        "legalRegistrationNumber"
    ]["lei"]
    assert int("".join(str(int(c, 36)) for c in lei)) % 97 == 1  # ISO 7064 MOD 97-10


# --- targeted invalid variants ------------------------------------------------------------------


def test_missing_credential_status() -> None:
    cred = example_credential("RoleCredential")
    del cred["credentialStatus"]
    violations = validate(cred)
    assert violations == [
        SchemaViolation(
            "/credentialStatus", "'credentialStatus' is a required property", "required"
        )
    ]


@pytest.mark.parametrize("name", TYPES)
def test_credential_status_is_required_for_every_family(name: str) -> None:
    cred = example_credential(name)
    del cred["credentialStatus"]
    assert paths(validate(cred)) == {"/credentialStatus"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("digestSRI", "sha256-not-base64"),
        ("digestSRI", "sha512-" + "A" * 86 + "=="),
        ("id", "urn:sha256:" + "AB" * 32),
        ("id", "urn:sha256:abc"),
        ("md5", "5f369b7faa4cd22490a933631a015cf"),
    ],
)
def test_bad_digest(field: str, value: str) -> None:
    cred = example_credential("SoftwareCertificationCredential")
    cred["credentialSubject"][field] = value
    violations = validate(cred)
    assert paths(violations) == {f"/credentialSubject/{field}"}
    assert violations[0].keyword == "pattern"


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("/issuer", "z6MkkEe37unHnQ7qofMcx9nnqLDpJecXxLbCSwUPt6jVXaDv"),
        ("/issuer", "did:key:"),
        ("/issuer", "did:KEY:z6Mk"),
        ("/credentialSubject/id", "https://example.org/alice"),
        ("/credentialSubject/id", "did:key:z6Mk has spaces"),
    ],
)
def test_bad_did(pointer: str, value: str) -> None:
    cred = example_credential("RoleCredential")
    if pointer == "/issuer":
        cred["issuer"] = value
    else:
        cred["credentialSubject"]["id"] = value
    assert paths(validate(cred)) == {pointer}


def test_issuer_may_be_an_object_with_a_did() -> None:
    cred = example_credential("RoleCredential")
    cred["issuer"] = {"id": cred["issuer"]}
    assert validate(cred) == []
    cred["issuer"] = {"id": "not-a-did"}
    assert paths(validate(cred)) == {"/issuer/id"}
    cred["issuer"] = {"name": "Operator"}
    assert paths(validate(cred)) == {"/issuer/id"}


def test_empty_powers() -> None:
    cred = example_credential("AttorneyCredential")
    cred["credentialSubject"]["powers"] = []
    violations = validate(cred)
    assert paths(violations) == {"/credentialSubject/powers"}
    assert violations[0].keyword == "minItems"


def test_power_needs_app_and_non_empty_actions() -> None:
    cred = example_credential("AttorneyCredential")
    cred["credentialSubject"]["powers"][1] = {"app": "catalogue", "actions": []}
    assert paths(validate(cred)) == {"/credentialSubject/powers/1/actions"}
    cred["credentialSubject"]["powers"][1] = {"actions": ["read"]}
    assert paths(validate(cred)) == {"/credentialSubject/powers/1/app"}


def test_unknown_role() -> None:
    cred = example_credential("RoleCredential")
    cred["credentialSubject"]["roles"] = ["DataProvider", "Superuser"]
    violations = validate(cred)
    assert paths(violations) == {"/credentialSubject/roles/1"}
    assert violations[0].keyword == "enum"


def test_every_role_is_accepted() -> None:
    cred = example_credential("RoleCredential")
    cred["credentialSubject"]["roles"] = list(ROLES)
    assert validate(cred) == []


@pytest.mark.parametrize("email", ["ana.petrovic", "ana@", "ana petrovic@helix.example", ""])
def test_bad_email(email: str) -> None:
    cred = example_credential("AttorneyCredential")
    cred["credentialSubject"]["mandatee"]["email"] = email
    assert paths(validate(cred)) == {"/credentialSubject/mandatee/email"}


def test_attorney_needs_its_life_span() -> None:
    cred = example_credential("AttorneyCredential")
    del cred["validUntil"]
    assert paths(validate(cred)) == {"/validUntil"}


def test_missing_nested_claim_points_at_it() -> None:
    cred = example_credential("AttorneyCredential")
    del cred["credentialSubject"]["mandator"]["registrationNumber"]
    assert paths(validate(cred)) == {"/credentialSubject/mandator/registrationNumber"}


def test_undefined_property_is_refused() -> None:
    """The schemas are closed: a property the context may not define never reaches signing."""
    cred = example_credential("RoleCredential")
    cred["credentialSubject"]["clearance"] = "top"
    assert paths(validate(cred)) == {"/credentialSubject"}
    cred = example_credential("RoleCredential")
    cred["evidence"] = [{"id": "urn:x"}]
    assert paths(validate(cred)) == {""}


def test_onboarding_legal_and_natural_person() -> None:
    org = example_credential("OnboardingCredential")
    del org["credentialSubject"]["kcitRecordId"]
    assert paths(validate(org)) == {"/credentialSubject/kcitRecordId"}

    person = example_credential("OnboardingCredential")
    person["credentialSubject"] = {
        "id": "did:key:z6MknnLKGV9Ydoa5sWxFF49XNLGf4JTcsbBAxjY95B7aEDDc",
        "kind": "natural-person",
        "givenName": "Léa",
        "familyName": "Moreau",
        "name": "Léa Moreau",
        "country": "FR",
        "levelOfAssurance": "self-registration",
    }
    assert validate(person) == []
    assert round_trip(person) == person
    person["credentialSubject"]["legalName"] = "Moreau SARL"
    assert paths(validate(person)) == {"/credentialSubject/legalName"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("country", "de"),
        ("country", "DEU"),
        ("kind", "company"),
        ("levelOfAssurance", "high"),
    ],
)
def test_onboarding_formats(field: str, value: str) -> None:
    cred = example_credential("OnboardingCredential")
    cred["credentialSubject"][field] = value
    assert f"/credentialSubject/{field}" in paths(validate(cred))


@pytest.mark.parametrize(
    ("field", "value"),
    [("lei", "529900HXDC0OP4R7QZ9"), ("lei", "529900hxdc0op4r7qz95"), ("vatId", "814592367")],
)
def test_registration_numbers(field: str, value: str) -> None:
    cred = example_credential("OnboardingCredential")
    cred["credentialSubject"]["legalRegistrationNumber"][field] = value
    assert paths(validate(cred)) == {f"/credentialSubject/legalRegistrationNumber/{field}"}


def test_dates_need_a_time_zone() -> None:
    cred = example_credential("RoleCredential")
    cred["issuanceDate"] = "2025-03-03T09:16:00"
    assert paths(validate(cred)) == {"/issuanceDate"}
    del cred["issuanceDate"]
    assert paths(validate(cred)) == {"/issuanceDate"}


def test_context_rules() -> None:
    cred = example_credential("RoleCredential")
    cred["@context"].remove(CREDGATE_CONTEXT_V1)
    assert paths(validate(cred)) == {"/@context"}

    cred = example_credential("RoleCredential")
    cred["@context"].remove(STATUS_LIST_2021)
    assert paths(validate(cred)) == {"/@context"}  # StatusList2021Entry would be undefined

    cred = example_credential("RoleCredential")
    cred["@context"] = [CREDGATE_CONTEXT_V1, V1, STATUS_LIST_2021]
    assert paths(validate(cred)) == {"/@context/0"}

    cred = example_credential("RoleCredential")
    cred["@context"].append({"roles": "https://evil.example/roles"})
    assert paths(validate(cred)) == {"/@context/3"}


def test_vcdm2_envelope_rules() -> None:
    cred = as_vcdm2(example_credential("RoleCredential"))
    cred["issuanceDate"] = "2025-03-03T09:16:00Z"  # not defined by credentials/v2
    assert paths(validate(cred)) == {"/issuanceDate"}

    cred = example_credential("RoleCredential")
    cred["credentialStatus"]["type"] = "BitstringStatusListEntry"  # not defined by credentials/v1
    assert paths(validate(cred)) == {"/credentialStatus/type"}


def test_status_entry_shape_and_purposes() -> None:
    cred = example_credential("RoleCredential")
    cred["credentialStatus"]["statusListIndex"] = 1043
    assert paths(validate(cred)) == {"/credentialStatus/statusListIndex"}

    cred = example_credential("RoleCredential")
    del cred["credentialStatus"]["statusListCredential"]
    assert paths(validate(cred)) == {"/credentialStatus/statusListCredential"}

    cred = example_credential("RoleCredential")
    cred["credentialStatus"]["statusPurpose"] = "suspension"  # onboarding/role: revocation only
    assert paths(validate(cred)) == {"/credentialStatus/statusPurpose"}

    cred = example_credential("RoleCredential")
    cred["credentialStatus"] = []
    assert paths(validate(cred)) == {"/credentialStatus"}


def test_suspendable_families_take_a_status_array() -> None:
    cred = example_credential("AttorneyCredential")
    suspension = cred["credentialStatus"]
    revocation = {
        "id": "https://issuer.credgate.example/status/revocation/7#311",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "311",
        "statusListCredential": "https://issuer.credgate.example/status/revocation/7",
    }
    cred["credentialStatus"] = [revocation, suspension]
    assert validate(cred) == []
    assert round_trip(cred) == cred
    cred["credentialStatus"][1] = dict(suspension, statusPurpose="expiry")
    assert paths(validate(cred)) == {"/credentialStatus/1/statusPurpose"}


def test_unknown_credential_type_is_an_error() -> None:
    cred = example_credential("RoleCredential")
    cred["type"] = ["VerifiableCredential", "MembershipCredential"]
    with pytest.raises(UnknownCredentialType) as raised:
        validate(cred)
    assert "MembershipCredential" in str(raised.value)
    assert "RoleCredential" in str(raised.value)  # lists what we do issue
    assert isinstance(raised.value, KeyError)
    del cred["type"]
    with pytest.raises(UnknownCredentialType):
        validate(cred)


def test_type_needs_verifiable_credential_and_one_family() -> None:
    cred = example_credential("RoleCredential")
    cred["type"] = ["RoleCredential"]
    assert paths(validate(cred)) == {"/type"}
    cred["type"] = ["VerifiableCredential", "RoleCredential", "AttorneyCredential"]
    assert [v.path for v in validate(cred)] == ["/type"]


def test_non_object_credential() -> None:
    assert paths(validate(["not", "a", "credential"])) == {""}  # type: ignore[arg-type]


# --- registry -----------------------------------------------------------------------------------


def test_registry_entries() -> None:
    assert TYPES == [
        "AttorneyCredential",
        "OnboardingCredential",
        "RoleCredential",
        "SoftwareCertificationCredential",
    ]
    expected = {
        "OnboardingCredential": (("revocation",), "onboarding-authority"),
        "RoleCredential": (("revocation",), "onboarding-authority"),
        "AttorneyCredential": (("revocation", "suspension"), "kcit-company"),
        "SoftwareCertificationCredential": (("revocation", "suspension"), "accredited-certifier"),
    }
    for name, (purposes, rule) in expected.items():
        ct = credential_type(name)
        assert isinstance(ct, CredentialType)
        assert ct.name == name
        assert ct.context_url == CREDGATE_CONTEXT_V1
        assert ct.status_purposes == purposes
        assert ct.trusted_issuer_rule == rule
        assert isinstance(ct.trusted_issuer_rule, TrustedIssuerRule)
        assert ct.schema["title"] == name
        assert ct.type_iri == VOCAB + name
        hash(ct)  # usable as a dict key / in sets despite carrying the schema dict
    with pytest.raises(TypeError):
        credential_types()["X"] = credential_type("RoleCredential")  # type: ignore[index]


def test_unknown_credential_type_name() -> None:
    with pytest.raises(UnknownCredentialType) as raised:
        credential_type("Onboarding")
    assert raised.value.name == "Onboarding"
    message = str(raised.value)
    assert message.startswith("unknown credential type 'Onboarding'")
    assert "OnboardingCredential" in message
    with pytest.raises(KeyError):
        credential_type("")


def test_schema_refs_resolve_offline() -> None:
    registry_ = registry.schema_registry()
    for path in registry.SCHEMAS_DIR.glob("*.schema.json"):
        uri = json.loads(path.read_text())["$id"]
        assert registry_.contents(uri)["$id"] == uri


# --- JSON-LD: the context -----------------------------------------------------------------------


def test_context_is_protected_json_ld_1_1() -> None:
    context = load_context(CREDGATE_CONTEXT_V1)["@context"]
    assert context["@version"] == 1.1
    assert context["@protected"] is True
    assert "@vocab" not in context  # undefined terms must be dropped, not silently mapped


@pytest.mark.parametrize("name", TYPES)
def test_expansion_keeps_every_property(name: str) -> None:
    example = example_credential(name)
    assert round_trip(example) == example


@pytest.mark.parametrize("name", TYPES)
def test_every_term_expands_to_an_absolute_iri(name: str) -> None:
    expanded = expand(example_credential(name))
    assert len(expanded) == 1
    iris = iris_in(expanded)
    assert iris
    for iri in iris:
        assert iri.startswith(("https://", "http://")), iri
    assert VOCAB + name in expanded[0]["@type"]
    assert any(iri.startswith(VOCAB) for iri in iris if iri != VOCAB + name)


def test_enumerated_values_expand_to_vocab_iris() -> None:
    subject_key = "https://www.w3.org/2018/credentials#credentialSubject"
    role = expand(example_credential("RoleCredential"))[0][subject_key][0]
    assert role[VOCAB + "roles"] == [
        {"@id": VOCAB + "DataProvider"},
        {"@id": VOCAB + "ModelConsumer"},
    ]
    software = expand(example_credential("SoftwareCertificationCredential"))[0][subject_key][0]
    assert {"@id": VOCAB + "anonymisation"} in software[VOCAB + "purposes"]
    sri = software["https://www.w3.org/2018/credentials#digestSRI"][0]
    assert sri["@type"] == "https://www.w3.org/2018/credentials#sriString"
    org = expand(example_credential("OnboardingCredential"))[0][subject_key][0]
    assert org[VOCAB + "kind"] == [{"@id": VOCAB + "legal-person"}]
    assert org[VOCAB + "levelOfAssurance"] == [{"@id": VOCAB + "verified"}]


@pytest.mark.parametrize("role", ROLES)
def test_every_role_value_is_a_defined_term(role: str) -> None:
    cred = example_credential("RoleCredential")
    cred["credentialSubject"]["roles"] = [role]
    subject = expand(cred)[0]["https://www.w3.org/2018/credentials#credentialSubject"][0]
    assert subject[VOCAB + "roles"] == [{"@id": VOCAB + role}]


@pytest.mark.parametrize("name", TYPES)
@pytest.mark.parametrize("bitstring", [False, True])
def test_expansion_with_credentials_v2(name: str, bitstring: bool) -> None:
    """No protected-term clash with VCDM 2.0: name, description, digestSRI are identical."""
    cred = as_vcdm2(example_credential(name), bitstring=bitstring)
    assert round_trip(cred) == cred
    for iri in iris_in(expand(cred)):
        assert iri.startswith(("https://", "http://")), iri


def test_our_context_before_or_after_v2_top_level_terms() -> None:
    """Our top-level terms shared with credentials/v2 are identical, so either order loads."""
    doc = {
        "@context": [V2, CREDGATE_CONTEXT_V1],
        "name": "x",
        "description": "y",
        "digestSRI": "sha256-eTInv2//7645/8i/SGHduT6Lql54gdHhPvtWVAFt1KM=",
    }
    assert round_trip(doc) == doc
    doc["@context"] = [CREDGATE_CONTEXT_V1, V2]
    assert round_trip(doc) == doc


def test_protected_terms_cannot_be_redefined() -> None:
    cred = example_credential("RoleCredential")
    cred["@context"].append({"roles": "https://evil.example/roles"})
    with pytest.raises(JsonLdError) as raised:
        expand(cred)
    assert "protected term redefinition" in str(raised.value.code)


def test_signed_shape_with_ed25519_2020_context() -> None:
    """ACA-Py appends the suite context and a proof when it signs; that must still expand whole."""
    cred = example_credential("AttorneyCredential")
    cred["@context"].append(ED25519_2020)
    cred["proof"] = {
        "type": "Ed25519Signature2020",
        "created": "2025-04-01T08:00:01Z",
        "verificationMethod": cred["issuer"] + "#" + cred["issuer"].removeprefix("did:key:"),
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + "3" * 86,
    }
    assert validate(cred) == []
    assert round_trip(cred) == cred


@pytest.mark.parametrize("name", TYPES)
def test_urdna2015_canonicalization(name: str) -> None:
    options = {"algorithm": "URDNA2015", "format": "application/n-quads", **OPTIONS}
    nquads = jsonld.normalize(example_credential(name), options)
    lines = nquads.splitlines()
    assert len(lines) >= 10
    assert all(line.endswith(" .") for line in lines)
    assert f"<{VOCAB}{name}>" in nquads
    # canonical: key order of the input does not matter
    shuffled = dict(reversed(list(example_credential(name).items())))
    assert jsonld.normalize(shuffled, options) == nquads


@pytest.mark.parametrize("name", TYPES)
def test_aca_py_finds_no_property_without_context(name: str) -> None:
    """The check ACA-Py runs before it signs an ld_proof credential."""
    check = pytest.importorskip("acapy_agent.vc.ld_proofs.check")
    assert check.get_properties_without_context(example_credential(name), document_loader()) == []


@pytest.mark.parametrize("name", TYPES)
def test_aca_py_accepts_the_example_as_an_ld_proof_offer(name: str) -> None:
    """The issuer hands the validated credential to ACA-Py's issue-credential v2 ld_proof."""
    detail_mod = pytest.importorskip(
        "acapy_agent.protocols.issue_credential.v2_0.formats.ld_proof.models.cred_detail"
    )
    example = example_credential(name)
    options = {
        "proofType": "Ed25519Signature2020",
        "proofPurpose": "assertionMethod",
        "credentialStatus": {"type": example["credentialStatus"]["type"]},
    }
    detail = detail_mod.LDProofVCDetail.deserialize({"credential": example, "options": options})
    assert detail.serialize()["credential"] == example


# --- presentation definitions -------------------------------------------------------------------

PORTALS = {
    "data-provider": ("RoleCredential", "DataProvider"),
    "data-consumer": ("RoleCredential", "DataConsumer"),
    "model-provider": ("RoleCredential", "ModelProvider"),
    "governance": ("RoleCredential", "Governance"),
    "company-access": ("AttorneyCredential", None),
}


def test_presentation_definition_names() -> None:
    assert set(presentation_definition_names()) == set(PORTALS)


@pytest.mark.parametrize("portal", sorted(PORTALS))
def test_presentation_definition_shape(portal: str) -> None:
    definition = presentation_definition(portal)
    assert uuid.UUID(definition["id"]).version == 4
    assert str(uuid.UUID(definition["id"])) == definition["id"]
    # No proof-type restriction: ACA-Py holders read an ldp_vp list naming Ed25519Signature2018
    # as "credentials signed with 2018", and ours are 2020; the verifier accepts both anyway.
    assert "format" not in definition
    type_name, role = PORTALS[portal]
    (descriptor,) = definition["input_descriptors"]
    assert uuid.UUID(descriptor["id"]).version == 4
    # the schema IRI is exactly what our context expands the example's type to
    expanded_types = expand(example_credential(type_name))[0]["@type"]
    uris = [entry["uri"] for entry in descriptor["schema"]]
    assert uris == [credential_type(type_name).type_iri, CREDGATE_CONTEXT_V1]
    # ACA-Py holders require every schema entry unless marked optional, and a credential matches
    # by type, never by context: the context entry (for wallets that match contexts) is optional.
    assert [entry.get("required", True) for entry in descriptor["schema"]] == [True, False]
    assert uris[0] in expanded_types
    filters = [f["filter"] for f in descriptor["constraints"]["fields"]]
    if role is not None:
        assert {"type": "string", "const": role} in filters


def test_presentation_definition_ids_are_unique() -> None:
    ids = [presentation_definition(p)["id"] for p in PORTALS]
    ids += [presentation_definition(p)["input_descriptors"][0]["id"] for p in PORTALS]
    assert len(set(ids)) == len(ids)


def test_presentation_definition_is_a_fresh_copy() -> None:
    presentation_definition("governance")["input_descriptors"].clear()
    assert presentation_definition("governance")["input_descriptors"]


def test_unknown_presentation_definition() -> None:
    with pytest.raises(UnknownPresentationDefinition) as raised:
        presentation_definition("admin")
    assert isinstance(raised.value, KeyError)
    assert "'admin'" in str(raised.value)
    assert "governance" in str(raised.value)


def _aca_py_selects(portal: str, credential: dict[str, Any]) -> bool:
    """Whether ACA-Py's DIF handler would pick the credential for the portal's one descriptor."""
    pres_exch = pytest.importorskip("acapy_agent.protocols.present_proof.dif.pres_exch")
    handler_mod = pytest.importorskip("acapy_agent.protocols.present_proof.dif.pres_exch_handler")
    vc_record = pytest.importorskip("acapy_agent.storage.vc_holder.vc_record")

    definition = pres_exch.PresentationDefinition.deserialize(presentation_definition(portal))
    (descriptor,) = definition.input_descriptors
    record = vc_record.VCRecord(  # what ACA-Py stores for a received ld_proof credential
        contexts=credential["@context"],
        expanded_types=expand(credential)[0]["@type"],
        issuer_id=credential["issuer"],
        subject_ids=[credential["credentialSubject"]["id"]],
        schema_ids=[],
        proof_types=[],
        cred_value=credential,
    )
    handler = handler_mod.DIFPresExchHandler(profile=None)  # type: ignore[arg-type]

    async def selects() -> bool:
        if not await handler.filter_schema([record], descriptor.schemas):
            return False
        for field in descriptor.constraint._fields:
            if not await handler.filter_by_field(field, record):
                return False
        return True

    return asyncio.run(selects())


@pytest.mark.parametrize("portal", sorted(PORTALS))
def test_aca_py_matches_the_right_credentials(portal: str) -> None:
    type_name, role = PORTALS[portal]
    for name in TYPES:
        credential = example_credential(name)
        if name == "RoleCredential":
            credential["credentialSubject"]["roles"] = [role or "DataProvider"]
        assert _aca_py_selects(portal, credential) is (name == type_name), name
    if role is not None:
        other = example_credential("RoleCredential")
        other["credentialSubject"]["roles"] = [r for r in ROLES if r != role]
        assert not _aca_py_selects(portal, other)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\b", "\f", "\x1b", "\x7f"])
@pytest.mark.parametrize("name", sorted(credential_types()))
def test_a_control_character_anywhere_is_a_violation(name: str, char: str) -> None:
    # ACA-Py's signer (pyld) writes these raw where RDFC-1.0 escapes them: a credential holding
    # one would be signed and then refused by every verifier. Every issuance path schema-checks.
    credential = example_credential(name)
    subject = credential["credentialSubject"]
    subject["note" if "note" in subject else next(k for k in subject if k != "id")] = f"a{char}b"
    assert any("control character" in v.message for v in validate(credential))
    credential = example_credential(name)
    credential["credentialSubject"][f"odd{char}key"] = "x"
    assert any("control character" in v.message for v in validate(credential))


def test_tab_line_feed_and_carriage_return_are_not_control_violations() -> None:
    credential = example_credential("OnboardingCredential")
    credential["credentialSubject"]["legalName"] += "\t\n\r"
    assert not any("control character" in v.message for v in validate(credential))
