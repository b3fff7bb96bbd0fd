"""Trust soundness, attacked from outside: nobody gets in on a credential they were not given.

Each test is an attack an outsider with no key of ours can mount: a forged issuer (a did:peer:4
whose key claims to be "controlled" by the authority), a borrowed holder, a copied status
entry, two credentials sharing an id, a self-issued credential. Each must be refused with the
error type that says why, and the honest path next to it must still pass.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

import did_peer_4
import pytest
from nacl.signing import SigningKey

from gateway.plugin import GatewayApp, Participant, Role, requires
from gateway.requirements import evaluate
from revocation.store import entry_status
from tests.support.gateway import (
    ask_token,
    bearer,
    challenge,
    gateway_app,
    token_for,
    wait_for_status_feed,
)
from verifier import errors
from verifier.dids import DidResolver, find_method
from verifier.encoding import ED25519_PUB, multikey_encode
from verifier.engine import Verifier
from verifier.fetch import FetchPolicy
from verifier.pdp import decide
from verifier.status import StatusListCache
from verifier.suites import sign
from verifier.testing import Party, credgate_credential, loopback_verifier, serving_lists
from verifier.trust import StaticTrustRegistry

pytestmark = pytest.mark.db

AUTHORITY = Party.generate()
COMPANY = Party.generate()
OTHER_COMPANY = Party.generate()
CERTIFIER = Party.generate()
VICTIM = Party.generate()
ATTACKER = Party.generate()


@dataclass(frozen=True)
class PeerImpostor:
    """An attacker's long-form did:peer:4 whose only key says ``"controller": <victim>``."""

    key: SigningKey
    did: str

    @classmethod
    def claiming(cls, victim: str) -> PeerImpostor:
        key = SigningKey.generate()
        document = {
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/suites/ed25519-2020/v1",
            ],
            "verificationMethod": [
                {
                    "id": "#key-0",
                    "type": "Ed25519VerificationKey2020",
                    "controller": victim,
                    "publicKeyMultibase": multikey_encode(bytes(key.verify_key), ED25519_PUB),
                }
            ],
            "assertionMethod": ["#key-0"],
            "authentication": ["#key-0"],
        }
        return cls(key, did_peer_4.encode(document))

    @property
    def method(self) -> str:
        return f"{self.did}#key-0"

    def sign(self, document: dict[str, Any], **options: Any) -> dict[str, Any]:
        return sign(document, self.key, self.method, **options)


def _trust() -> StaticTrustRegistry:
    return StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did,
        companies={COMPANY.did: "active", OTHER_COMPANY.did: "active"},
        accreditations={CERTIFIER.did: ["SoftwareCertificationCredential"]},
    )


@pytest.fixture(scope="module")
def lists():
    yield from serving_lists(
        ("authority", AUTHORITY, "revocation"),
        ("company", COMPANY, "suspension"),
        ("other", OTHER_COMPANY, "suspension"),
        ("certifier", CERTIFIER, "revocation"),
    )


_index = iter(range(1, 100_000))


def verifier(**options: Any) -> Verifier:
    return loopback_verifier(_trust(), **options)


def issued(lists, name: str, issuer, subject: str, list_id: str, **kwargs) -> dict[str, Any]:
    """A credgate credential signed by ``issuer`` (a Party, or an impostor that claims to be
    another DID: then ``issuer=`` names the DID it pretends to be)."""
    pretend = kwargs.pop("as_issuer", None)
    status = lists.entry(list_id, next(_index))
    credential = credgate_credential(name, AUTHORITY, subject, status=status, **kwargs)
    if pretend is None and isinstance(issuer, Party) and issuer is AUTHORITY:
        return credential
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    unsigned["issuer"] = pretend or issuer.did
    if name == "AttorneyCredential":
        unsigned["credentialSubject"]["mandator"]["id"] = unsigned["issuer"]
    return issuer.sign(unsigned)


# -- 1. forged issuer: a did:peer:4 key "controlled" by the authority -------------------------


def test_a_did_document_cannot_lend_its_key_to_another_did():
    impostor = PeerImpostor.claiming(AUTHORITY.did)
    document = DidResolver().resolve(impostor.did)
    method = find_method(document, impostor.method, "assertionMethod")
    assert method.did == impostor.did  # not the controller it claims
    # The authority's own document does not list the impostor's key either.
    with pytest.raises(errors.VerificationError) as refused:
        find_method(DidResolver().resolve(AUTHORITY.did), impostor.method, "assertionMethod")
    assert refused.value.slug == errors.VERIFICATION_METHOD_NOT_FOUND


@pytest.mark.parametrize(
    ("name", "victim", "list_id"),
    [
        ("RoleCredential", AUTHORITY, "authority"),
        ("OnboardingCredential", AUTHORITY, "authority"),
        ("AttorneyCredential", COMPANY, "company"),
        ("SoftwareCertificationCredential", CERTIFIER, "certifier"),
    ],
)
def test_forged_issuer_is_refused(lists, name, victim, list_id):
    impostor = PeerImpostor.claiming(victim.did)
    software = name == "SoftwareCertificationCredential"
    subject = "urn:sha256:" + "a" * 64 if software else ATTACKER.did
    forged = issued(lists, name, impostor, subject, list_id, as_issuer=victim.did)
    result = verifier().verify_credential(forged)
    assert not result.verified and not result.trusted
    assert result.error_types() == [errors.ISSUER_MISMATCH]


def test_forged_governance_role_gets_no_token(gateway, lists):
    client = gateway.test_client()
    impostor = PeerImpostor.claiming(AUTHORITY.did)
    forged = issued(
        lists, "RoleCredential", impostor, ATTACKER.did, "authority", as_issuer=AUTHORITY.did
    )
    response = ask_token(client, ATTACKER, [forged])
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/issuer-mismatch")


def test_vc_api_answers_verified_false_for_a_forged_issuer(gateway, lists):
    impostor = PeerImpostor.claiming(AUTHORITY.did)
    forged = issued(
        lists, "RoleCredential", impostor, ATTACKER.did, "authority", as_issuer=AUTHORITY.did
    )
    response = gateway.test_client().post(
        "/credentials/verify", json={"verifiableCredential": forged}
    )
    body = response.get_json()
    assert body["verified"] is False
    assert [e["type"].rsplit("/", 1)[1] for e in body["errors"]] == [errors.ISSUER_MISMATCH]


# -- 2. borrowed holder: the victim's credential under an impostor's key ----------------------


def test_someone_elses_credential_cannot_be_presented(gateway, lists):
    client = gateway.test_client()
    theirs = issued(lists, "OnboardingCredential", AUTHORITY, VICTIM.did, "authority")
    impostor = PeerImpostor.claiming(VICTIM.did)

    def presentation(**holder: str) -> dict[str, Any]:
        issued_challenge = challenge(client)
        vp = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": [theirs],
            **holder,
        }
        return impostor.sign(
            vp,
            proof_type="Ed25519Signature2018",
            proof_purpose="authentication",
            challenge=issued_challenge["challenge"],
            domain=issued_challenge["domain"],
        )

    for vp in (presentation(holder=VICTIM.did), presentation()):
        # Naming the victim as holder, or not: the signer (the impostor) is not the subject.
        response = client.post("/auth/token", json={"verifiablePresentation": vp})
        assert response.status_code == 400
        assert response.get_json()["type"].endswith("/holder-mismatch")


def test_a_bearer_credential_binds_no_holder(lists):
    credential = credgate_credential(
        "RoleCredential", AUTHORITY, VICTIM.did, status=lists.entry("authority", next(_index))
    )
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    del unsigned["credentialSubject"]["id"]
    bearer_credential = AUTHORITY.sign(unsigned)
    vp = ATTACKER.present([bearer_credential], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified and errors.HOLDER_MISMATCH in result.error_types()


# -- 3. status entries are bound to their credential ------------------------------------------


def test_a_copied_status_entry_is_not_the_forgerys(db):
    from credgate.db import transaction
    from revocation.models import StatusEntry, StatusList

    url = "http://status.test/status/security-copy"
    with transaction(db) as session:
        session.add(
            StatusList(
                id="security-copy",
                issuer_did=AUTHORITY.did,
                purpose="revocation",
                model="StatusList2021",
                base_url="http://status.test",
                seq=0,
                url=url,
            )
        )
        session.flush()
        session.add(
            StatusEntry(
                list_id="security-copy",
                list_index=7,
                credential_id="urn:uuid:honest",
                state="issued",
            )
        )
    entry = {
        "id": f"{url}#7",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }
    with db() as session:
        assert entry_status(session, entry, "urn:uuid:honest", AUTHORITY.did) == "active"
        assert entry_status(session, entry, "urn:uuid:forged", AUTHORITY.did) is None
        assert entry_status(session, entry, "urn:uuid:honest", ATTACKER.did) is None
        assert entry_status(session, entry, None) is None


def test_a_status_list_of_another_issuer_does_not_count(lists):
    # A company points its mandate at the authority's (valid, signed, never-set) list, where
    # its own revocations would never show: the list is not the company's.
    mandate = issued(lists, "AttorneyCredential", COMPANY, VICTIM.did, "authority")
    assert verifier().verify_credential(mandate).error_types() == [errors.INVALID_STATUS]
    # An untrusted issuer's credential is refused before any list of it is fetched.
    fetches = (v := verifier()).status.fetches
    own = issued(lists, "RoleCredential", ATTACKER, ATTACKER.did, "authority")
    assert v.verify_credential(own).error_types() == [errors.UNTRUSTED_ISSUER]
    assert v.status.fetches == fetches


def test_a_credgate_credential_without_status_is_refused(lists):
    credential = credgate_credential("RoleCredential", AUTHORITY, VICTIM.did, status=None)
    result = verifier().verify_credential(credential)
    assert result.error_types() == [errors.STATUS_MISSING]


# -- 4. two credentials with one id -----------------------------------------------------------


def test_a_presentation_with_two_credentials_sharing_an_id_is_refused(lists):
    mine = issued(lists, "AttorneyCredential", OTHER_COMPANY, VICTIM.did, "other")
    theirs = issued(lists, "AttorneyCredential", COMPANY, VICTIM.did, "company")
    unsigned = {k: v for k, v in theirs.items() if k != "proof"}
    unsigned["id"] = mine["id"]
    theirs = COMPANY.sign(unsigned)
    vp = VICTIM.present([mine, theirs], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified
    assert errors.DUPLICATE_CREDENTIAL in result.error_types()


def test_a_decision_carries_the_credential_that_granted_it(lists):
    from verifier.pdp import AttorneyPower

    mandate = issued(lists, "AttorneyCredential", COMPANY, VICTIM.did, "company")
    vp = VICTIM.present([mandate], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    power = mandate["credentialSubject"]["powers"][0]
    decision = decide(result, AttorneyPower(power["app"], power["actions"][0]))
    assert decision.allow and decision.granted_by == (mandate,)


# -- 5. self-issued credentials are not participants ------------------------------------------


def test_a_self_issued_credential_is_nobody(gateway, lists):
    client = gateway.test_client()
    mine = ATTACKER.sign(
        {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                "https://w3id.org/security/suites/ed25519-2020/v1",
            ],
            "type": ["VerifiableCredential"],
            "issuer": ATTACKER.did,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": ATTACKER.did},
        }
    )
    result = verifier().verify_credential(mine)
    assert result.verified and not result.trusted  # reported...
    assert not evaluate(Participant(), [result]).allow  # ...never counted
    response = ask_token(client, ATTACKER, [mine])
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/untrusted-issuer")


def test_a_role_credential_alone_is_not_a_participant_but_onboarding_is(gateway, lists):
    client = gateway.test_client()
    role = issued(lists, "RoleCredential", AUTHORITY, VICTIM.did, "authority")
    token = token_for(client, VICTIM, [role])
    assert client.get("/apps/probe/participant", headers=bearer(token)).status_code == 403
    onboarding = issued(lists, "OnboardingCredential", AUTHORITY, VICTIM.did, "authority")
    token = token_for(client, VICTIM, [onboarding])
    response = client.get("/apps/probe/participant", headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)


# -- the gateway these attacks are tried against ----------------------------------------------

from flask import Blueprint  # noqa: E402

probe = Blueprint("security_probe", __name__)


@probe.get("/participant")
@requires(Participant())
def participant_only():
    return {"ok": True}


@probe.get("/governance")
@requires(Role("Governance"))
def governance_only():
    return {"ok": True}


PROBE = GatewayApp("probe", "Probe", probe)


@pytest.fixture(scope="module")
def gateway(settings, db, lists):
    app = gateway_app(settings, db, trust=_trust(), status_url=lists.url, apps=[PROBE])
    wait_for_status_feed(app)
    yield app
    app.extensions["credgate.status_feed"].stop()


# -- what a reviewer tries next ---------------------------------------------------------------


def _token_parts(gateway, lists) -> tuple[Any, str, dict[str, Any]]:
    """A real token of VICTIM's, its gateway's public key, and its claims."""
    from jwcrypto import jwk, jwt

    client = gateway.test_client()
    onboarding = issued(lists, "OnboardingCredential", AUTHORITY, VICTIM.did, "authority")
    token = token_for(client, VICTIM, [onboarding])
    public = client.get("/.well-known/jwks.json").get_json()["keys"][0]
    claims = json.loads(jwt.JWT(jwt=token, key=jwk.JWK(**public)).claims)
    return client, public, claims


def _refused(client, token: str) -> str:
    response = client.get("/apps/probe/participant", headers=bearer(token))
    assert response.status_code == 401, response.get_data(as_text=True)
    return response.get_json()["type"].rsplit("/", 1)[1]


def test_token_alg_confusion_is_refused(gateway, lists):
    """HS256 keyed with the gateway's *public* key (the classic RS/HS confusion), and alg none."""
    from jwcrypto import jwk, jwt

    client, public, claims = _token_parts(gateway, lists)
    secret = jwk.JWK(kty="oct", k=public["x"])  # the public key bytes as an HMAC secret
    confused = jwt.JWT(header={"alg": "HS256", "kid": public["kid"]}, claims=claims)
    confused.make_signed_token(secret)
    assert _refused(client, confused.serialize()) == "invalid-token"
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert _refused(client, f"{none}.{body}.") == "alg-none"


def test_tokens_of_another_audience_or_issuer_or_not_yet_valid_are_refused(gateway, lists):
    from jwcrypto import jwt

    client, _public, claims = _token_parts(gateway, lists)
    key = gateway.extensions["credgate.gateway"].tokens.key

    def signed(**changes: Any) -> str:
        token = jwt.JWT(header={"alg": "EdDSA"}, claims={**claims, **changes})
        token.make_signed_token(key)
        return token.serialize()

    assert _refused(client, signed(aud="https://elsewhere.example")) == "invalid-token"
    assert _refused(client, signed(iss="https://elsewhere.example")) == "invalid-token"
    assert _refused(client, signed(nbf=int(time.time()) + 600)) == "invalid-token"
    assert _refused(client, signed(exp=int(time.time()) - 60)) == "token-expired"


@pytest.mark.parametrize(
    ("window", "slug"),
    [
        ({"valid_from": "2020-01-01T00:00:00Z", "valid_until": "2021-01-01T00:00:00Z"}, "expired"),
        ({"valid_from": "2098-01-01T00:00:00Z"}, "not-yet-valid"),
    ],
)
def test_expired_and_not_yet_valid_credentials_get_no_token(gateway, lists, window, slug):
    client = gateway.test_client()
    onboarding = issued(lists, "OnboardingCredential", AUTHORITY, VICTIM.did, "authority", **window)
    response = ask_token(client, VICTIM, [onboarding])
    assert response.status_code == 400
    assert response.get_json()["type"].endswith("/" + slug)


def test_a_certificate_of_a_certifier_no_longer_accredited_counts_for_nothing(lists):
    """The issuer of the issuer revoked: the certifier's accreditation is withdrawn."""
    software = "urn:sha256:" + "b" * 64
    certificate = issued(lists, "SoftwareCertificationCredential", CERTIFIER, software, "certifier")
    assert verifier().verify_credential(certificate).trusted
    trust = StaticTrustRegistry(onboarding_authority=AUTHORITY.did)  # no accreditation left
    withdrawn = Verifier(DidResolver(), trust=trust)
    withdrawn.status = StatusListCache(
        withdrawn.verify_status_list, policy=FetchPolicy(["127.0.0.1"])
    )
    result = withdrawn.verify_credential(certificate)
    assert not result.trusted and result.error_types() == [errors.UNTRUSTED_ISSUER]


def test_a_mandate_beyond_the_companys_kcit_powers_is_refused(lists):
    class KcitPowers(StaticTrustRegistry):
        def company_powers(self, did: str) -> frozenset[str]:
            return frozenset({"catalogue:read"})

    trust = KcitPowers(onboarding_authority=AUTHORITY.did, companies={COMPANY.did: "active"})
    mandate = issued(lists, "AttorneyCredential", COMPANY, VICTIM.did, "company")
    result = Verifier(DidResolver(), trust=trust, require_status=False).verify_credential(mandate)
    assert not result.trusted and errors.POWER_NOT_GRANTED in result.error_types()


def test_a_credential_about_a_urn_binds_no_holder(lists):
    """An onboarding credential whose subject is not a DID would make anyone who carries it a
    participant: only credentials about things (software certificates) may be carried."""
    about_urn = issued(lists, "OnboardingCredential", AUTHORITY, "urn:uuid:someone", "authority")
    vp = ATTACKER.present([about_urn], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified and errors.HOLDER_MISMATCH in result.error_types()
    software = "urn:sha256:" + "c" * 64
    certificate = issued(lists, "SoftwareCertificationCredential", CERTIFIER, software, "certifier")
    carried = verifier().verify_presentation(
        ATTACKER.present([certificate], challenge="c"), challenge="c"
    )
    assert errors.HOLDER_MISMATCH not in carried.error_types()
