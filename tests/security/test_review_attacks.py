"""A hostile review of the trust rules: attacks tried after the trust-soundness fixes landed.

Each test is what an outsider with no key of ours tries next. Where the code held, the test pins
the property cheaply; where it broke, the test was written first (and failed), then the shared
mechanism was fixed.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest
from nacl.signing import SigningKey

from verifier import errors
from verifier.dids import DidResolver
from verifier.encoding import ED25519_PUB, multikey_encode
from verifier.engine import ProofCache, Verifier
from verifier.suites import sign
from verifier.testing import (
    LoopbackServer,
    Party,
    QuietHandler,
    credgate_credential,
    loopback_verifier,
    serving_lists,
)
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
COMPANY = Party.generate()
HOLDER = Party.generate()
VICTIM = Party.generate()
ATTACKER = Party.generate()

V1 = "https://www.w3.org/2018/credentials/v1"
CRED = "https://www.w3.org/2018/credentials#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
STATUS_2021 = "https://w3id.org/vc/status-list/2021/v1"
ED25519_2020 = "https://w3id.org/security/suites/ed25519-2020/v1"


def _trust() -> StaticTrustRegistry:
    return StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did, companies={COMPANY.did: "active"}
    )


@pytest.fixture(scope="module")
def lists():
    yield from serving_lists(
        ("authority", AUTHORITY, "revocation"),
        ("company", COMPANY, "suspension"),
    )


_index = iter(range(1, 100_000))


def verifier(**options: Any) -> Verifier:
    return loopback_verifier(_trust(), **options)


def role(lists, subject: str = HOLDER.did, **kwargs: Any) -> dict[str, Any]:
    entry = lists.entry("authority", next(_index))
    return credgate_credential("RoleCredential", AUTHORITY, subject, status=entry, **kwargs)


def unsigned(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(credential).items() if k != "proof"}


def self_issued(party: Party, **fields: Any) -> dict[str, Any]:
    """A credential of no credgate type that ``party`` signs about itself."""
    return party.sign(
        {
            "@context": [V1, STATUS_2021, ED25519_2020],
            "type": ["VerifiableCredential"],
            "issuer": party.did,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": party.did},
            **fields,
        }
    )


# -- the signed graph vs the JSON the verifier reads ------------------------------------------
#
# Linked-data proofs sign the RDF graph, but the verifier reads JSON keys. A key written as the
# property's IRI (or a compact IRI, or an alias from an inline context) expands to the very same
# triple, so the signature still holds while ``expirationDate`` disappears from the JSON.

EXPIRED = {"valid_from": "2024-01-01T00:00:00Z", "valid_until": "2024-02-01T00:00:00Z"}


def _hide(credential: dict[str, Any], field: str, how: str) -> dict[str, Any]:
    moved = copy.deepcopy(credential)
    value = moved.pop(field)
    typed = {"@value": value, "@type": XSD_DATETIME}
    if how == "iri":
        moved[CRED + field] = typed
    elif how == "compact":
        moved["cred:" + field] = typed
    else:  # an alias term from an inline context
        moved["@context"] = [
            *moved["@context"],
            {"until": {"@id": CRED + field, "@type": XSD_DATETIME}},
        ]
        moved["until"] = value
    return moved


@pytest.mark.parametrize("how", ["iri", "compact", "alias"])
@pytest.mark.parametrize("version", [1, 2])
def test_an_expired_credential_does_not_revive_by_renaming_its_end(lists, how, version):
    expired = role(lists, version=version, **EXPIRED)
    v = verifier()
    assert v.verify_credential(expired).error_types() == [errors.EXPIRED]
    field = "validUntil" if version == 2 else "expirationDate"
    revived = _hide(expired, field, how)
    result = v.verify_credential(revived)
    assert not result.verified and not result.trusted
    assert result.error_types() == [errors.UNSUPPORTED_JSONLD]


def test_a_not_yet_valid_credential_cannot_hide_its_start(lists):
    future = role(lists, version=2, valid_from="2098-01-01T00:00:00Z")
    assert verifier().verify_credential(future).error_types() == [errors.NOT_YET_VALID]
    hidden = _hide(future, "validFrom", "iri")
    assert verifier().verify_credential(hidden).error_types() == [errors.UNSUPPORTED_JSONLD]


def test_the_subject_id_cannot_be_hidden_behind_its_keyword(lists):
    # "@id" is what "id" aliases: same graph, but the JSON names no subject.
    theirs = role(lists, VICTIM.did)
    vp = ATTACKER.present([theirs], challenge="c")
    # Moved after signing: the presentation's graph, and so its signature, are unchanged.
    subject = vp["verifiableCredential"][0]["credentialSubject"]
    subject["@id"] = subject.pop("id")
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified
    assert errors.UNSUPPORTED_JSONLD in result.error_types()


def test_a_presentation_cannot_hide_its_domain(lists):
    # The token API requires the domain: hiding it as an IRI key must not make it "absent but
    # fine" anywhere, nor let a proof for another domain through.
    vp = {
        "@context": [V1],
        "type": ["VerifiablePresentation"],
        "holder": HOLDER.did,
        "verifiableCredential": [role(lists)],
    }
    signed = sign(
        vp,
        HOLDER.key,
        HOLDER.method,
        proof_type="Ed25519Signature2018",
        proof_purpose="authentication",
        challenge="c",
        domain="evil.example",
    )
    moved = copy.deepcopy(signed)
    moved["proof"]["https://w3id.org/security#domain"] = moved["proof"].pop("domain")
    result = verifier().verify_presentation(moved, challenge="c", domain="gateway.example")
    assert not result.verified
    assert errors.UNSUPPORTED_JSONLD in result.error_types()


def test_honest_compact_credentials_still_verify(lists):
    for version in (1, 2):
        result = verifier().verify_credential(role(lists, version=version))
        assert result.verified and result.trusted, result.error_types()


# -- status entries -----------------------------------------------------------------------------


@pytest.mark.parametrize("index", ["²", "٧", "1 ", "+1", "0x1", "-1", "1" * 13])
def test_a_status_index_that_is_not_ascii_digits_is_refused_not_a_crash(lists, index):
    entry = lists.entry("authority", 1) | {"statusListIndex": index}
    mine = self_issued(ATTACKER, credentialStatus=entry)
    fetches = (v := verifier()).status.fetches
    result = v.verify_credential(mine)
    assert result.error_types() == [errors.INVALID_STATUS]
    assert v.status.fetches == fetches  # refused before anything is fetched


def test_a_status_index_with_leading_zeros_names_the_same_bit(lists):
    lists.set("authority", 7)
    revoked = credgate_credential(
        "RoleCredential",
        AUTHORITY,
        HOLDER.did,
        status=lists.entry("authority", 7) | {"statusListIndex": "007"},
    )
    assert verifier().verify_credential(revoked).error_types() == [errors.REVOKED]


def test_an_entry_list_mixing_a_valid_and_a_bogus_entry_is_refused(lists):
    good = lists.entry("authority", next(_index))
    bogus = lists.entry("company", next(_index))  # another issuer's list
    credential = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=[good, bogus])
    assert verifier().verify_credential(credential).error_types() == [errors.INVALID_STATUS]


@pytest.mark.db
def test_entries_of_our_own_tables_need_ascii_digits(db):
    from revocation.store import entry_status

    entry = {"statusListCredential": "http://status.test/x", "statusListIndex": "²"}
    with db() as session:
        assert entry_status(session, entry, "urn:uuid:x") is None


# -- amplification: one anonymous request, many fetches -----------------------------------------


def _many_lists(lists, party: Party, count: int, prefix: str) -> dict[str, Any]:
    entries = [
        {
            "id": f"{lists.url}/status/{prefix}-{i}#1",
            "type": "StatusList2021Entry",
            "statusPurpose": "revocation",
            "statusListIndex": "1",
            "statusListCredential": f"{lists.url}/status/{prefix}-{i}",
        }
        for i in range(count)
    ]
    return self_issued(party, credentialStatus=entries)


def test_a_presentation_that_fails_its_own_proof_fetches_nothing(lists):
    credentials = [_many_lists(lists, ATTACKER, 3, f"noproof-{n}") for n in range(4)]
    vp = ATTACKER.present(credentials, challenge="not-ours")
    before = len(lists.requests)
    v = verifier()
    result = v.verify_presentation(vp, challenge="ours")
    assert not result.verified and errors.CHALLENGE_MISMATCH in result.error_types()
    assert v.status.fetches == 0 and len(lists.requests) == before


def test_one_credential_cannot_name_many_status_lists(lists):
    mine = _many_lists(lists, ATTACKER, 50, "many")
    before = len(lists.requests)
    v = verifier()
    result = v.verify_credential(mine)
    assert result.error_types() == [errors.INVALID_STATUS]
    assert v.status.fetches == 0 and len(lists.requests) == before


def test_an_enormous_presentation_is_refused_quickly(lists):
    credentials = [role(lists) for _ in range(33)]
    vp = HOLDER.present(credentials, challenge="c")
    started = time.monotonic()
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified and errors.INVALID_PRESENTATION in result.error_types()
    assert time.monotonic() - started < 1.0


def test_a_presentation_cannot_name_many_status_lists(lists):
    credentials = [_many_lists(lists, ATTACKER, 3, f"wide-{n}") for n in range(6)]
    vp = ATTACKER.present(credentials, challenge="c")
    v = verifier()
    result = v.verify_presentation(vp, challenge="c")
    assert result.error_types() == [errors.INVALID_STATUS]
    assert v.status.fetches == 0


def test_after_a_refused_credential_nothing_more_is_fetched(lists):
    theirs = role(lists, VICTIM.did)
    mine = [_many_lists(lists, ATTACKER, 2, f"after-{n}") for n in range(3)]
    vp = ATTACKER.present([theirs, *mine], challenge="c")
    v = verifier()
    result = v.verify_presentation(vp, challenge="c")
    assert errors.HOLDER_MISMATCH in result.error_types()
    assert v.status.fetches <= 1  # the victim's own list at most, none of the sender's


# -- the proof cache ----------------------------------------------------------------------------


def test_a_cached_proof_does_not_outlive_its_expiry(lists):
    from datetime import UTC, datetime, timedelta

    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5)
    stamp = expires.strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = AUTHORITY.sign(unsigned(role(lists)), expires=stamp)
    v = verifier()
    assert v.verify_credential(credential).verified
    # Verified again once the proof has expired: at a later ``now``, not after a sleep.
    later = expires + timedelta(seconds=1)
    assert v.verify_credential(credential, now=later).error_types() == [errors.EXPIRED]


def test_a_proof_that_expired_is_refused_at_the_clocks_now(lists):
    """No ``now`` given: the verifier's own clock judges a proof's ``expires`` (a credential's
    proof and the presentation's own), so an old signed copy is not replayed."""
    past = "2024-01-01T00:00:00Z"
    expired = AUTHORITY.sign(unsigned(role(lists)), expires=past)
    assert verifier().verify_credential(expired).error_types() == [errors.EXPIRED]
    presentation = VICTIM.present([role(lists)], challenge="c")
    del presentation["proof"]
    replayed = VICTIM.sign(
        presentation,
        proof_type="Ed25519Signature2018",
        proof_purpose="authentication",
        challenge="c",
        expires=past,
    )
    result = verifier().verify_presentation(replayed, challenge="c")
    assert errors.EXPIRED in result.error_types() and not result.verified


def test_a_cached_proof_is_bound_to_its_issuer_again(lists):
    # The cache remembers keys, not verdicts: the same proofs under another issuer are refused.
    honest = role(lists)
    v = verifier()
    assert v.verify_credential(honest).verified
    other = copy.deepcopy(honest)
    other["issuer"] = COMPANY.did  # changes the JSON, so the cache key too
    assert v.verify_credential(other).error_types() == [errors.BAD_SIGNATURE]
    # And a cache hit still runs the issuer binding: seed the cache with the honest entry under
    # the key of a credential naming another issuer.
    key_other = ProofCache.key(other)
    methods = v.proof_cache.get(ProofCache.key(honest))
    v.proof_cache.put(key_other, methods)
    result = v.verify_credential(other)
    assert result.proof_cached and result.error_types() == [errors.ISSUER_MISMATCH]


def test_an_expiration_alias_in_the_proof_is_refused(lists):
    credential = role(lists)
    proof = credential["proof"]
    proof["expiration"] = "2024-01-01T00:00:00Z"  # security#expiration, the IRI "expires" means
    assert verifier().verify_credential(credential).error_types() == [errors.UNSUPPORTED_JSONLD]


# -- keys belong to the DID whose own document lists them ---------------------------------------


class DidWebHost(LoopbackServer):
    """A loopback host serving did:web documents by path (``/.well-known/did.json``, ...)."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.requests: list[str] = []
        host = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                host.requests.append(self.path)
                body = json.dumps(host.documents.get(self.path, {})).encode()
                self.reply(200 if self.path in host.documents else 404, body, "application/json")

        super().__init__(Handler)
        self.start()

    def publish(self, path: str, did: str, methods: list[dict], assertion: list[str]) -> None:
        """At ``path``, a DID document naming itself ``did``, listing ``methods`` and the
        method ids ``assertion`` for assertionMethod."""
        self.documents[path] = {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": did,
            "verificationMethod": methods,
            "assertionMethod": assertion,
        }


@pytest.fixture(scope="module")
def web():
    host = DidWebHost()
    yield host
    host.stop()


def _method(method_id: str, key: SigningKey, controller: str) -> dict[str, Any]:
    return {
        "id": method_id,
        "type": "Ed25519VerificationKey2020",
        "controller": controller,
        "publicKeyMultibase": multikey_encode(bytes(key.verify_key), ED25519_PUB),
    }


def web_verifier(web: DidWebHost) -> Verifier:
    return loopback_verifier(_trust(), DidResolver(web_override={"web.test": web.url}))


def test_a_did_web_document_cannot_list_the_authoritys_key_id(web, lists):
    # The attacker's did:web lists a method under the authority's own DID URL, with the
    # attacker's key, "controlled" by the authority.
    key = SigningKey.generate()
    did = "did:web:web.test:mallory"
    web.publish(
        "/mallory/did.json",
        did,
        [_method(AUTHORITY.method, key, AUTHORITY.did), _method(f"{did}#k", key, AUTHORITY.did)],
        [AUTHORITY.method, f"{did}#k"],
    )
    forged = unsigned(role(lists))
    v = web_verifier(web)
    # Signed with the method id of the authority: resolved from the authority's did:key, whose
    # key is not the attacker's.
    by_name = sign(forged, key, AUTHORITY.method)
    assert v.verify_credential(by_name).error_types() == [errors.BAD_SIGNATURE]
    # Signed with the attacker's own method: the key is did:web:...:mallory's, not the issuer's.
    by_own = sign(forged, key, f"{did}#k")
    assert v.verify_credential(by_own).error_types() == [errors.ISSUER_MISMATCH]


@pytest.mark.parametrize(
    "written",
    [
        "did:web:WEB.test:eve",
        "did:web:web.test:eve:",
        "did:web:web.test:Eve",
        "did:web:web.test:eve#k",
        "did:web:web.test:eve?x=1",
    ],
)
def test_a_did_web_document_must_name_exactly_its_did(web, written):
    key = SigningKey.generate()
    did = "did:web:web.test:eve"
    web.publish("/eve/did.json", written, [_method("#k", key, did)], ["#k"])
    credential = sign(self_issued_unsigned(did), key, f"{did}#k")
    result = web_verifier(web).verify_credential(credential)
    assert result.error_types() == [errors.DID_RESOLUTION_FAILED]


def self_issued_unsigned(did: str) -> dict[str, Any]:
    return {
        "@context": [V1, ED25519_2020],
        "type": ["VerifiableCredential"],
        "issuer": did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": did},
    }


def test_a_did_web_document_served_for_one_did_is_not_another_dids(web):
    # did:web:web.test:eve%3Ax and friends name other paths: each must serve its own document.
    key = SigningKey.generate()
    did = "did:web:web.test:eve"
    web.publish("/eve/did.json", did, [_method("#k", key, did)], ["#k"])
    v = web_verifier(web)
    assert v.verify_credential(sign(self_issued_unsigned(did), key, f"{did}#k")).verified
    for other in (
        "did:web:web.test:eve%2F..%2Feve",
        "did:web:web.test%2Feve",
        "did:web:web.test:eve%23k",
        "did:web:web.test:eve%3Fx",
    ):
        credential = sign(self_issued_unsigned(other), key, f"{other}#k")
        result = v.verify_credential(credential)
        assert not result.verified, other
        assert result.error_types() in (
            [errors.DID_RESOLUTION_FAILED],
            [errors.VERIFICATION_METHOD_NOT_FOUND],
        ), other


def test_duplicate_method_entries_stay_within_their_own_did():
    # A did:peer:4 whose document lists "#key-0" twice (different keys) and embeds another in
    # assertionMethod: whichever entry counts, the key is the peer DID's, never a victim's.
    import did_peer_4

    first, second, embedded = SigningKey.generate(), SigningKey.generate(), SigningKey.generate()
    document = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "verificationMethod": [
            _method("#key-0", first, VICTIM.did),
            _method("#key-0", second, VICTIM.did),
        ],
        "assertionMethod": [_method("#key-0", embedded, VICTIM.did)],
        "authentication": ["#key-0"],
    }
    did = did_peer_4.encode(document, validate=False)
    resolver = DidResolver()
    method = resolver.verification_method(f"{did}#key-0", "assertionMethod")
    assert method.did == did
    assert method.public_key == bytes(embedded.verify_key)  # the relationship's own entry
    assert resolver.verification_method(f"{did}#key-0", "authentication").public_key == bytes(
        first.verify_key
    )
    # Absolute ids naming the victim inside the peer document are not the peer's methods,
    # and resolving the victim's DID never reads the peer's document.
    absolute = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "verificationMethod": [_method(VICTIM.method, first, VICTIM.did)],
        "assertionMethod": [VICTIM.method],
    }
    peer = did_peer_4.encode(absolute, validate=False)
    with pytest.raises(errors.VerificationError) as refused:
        resolver.verification_method(f"{peer}#{VICTIM.method.split('#')[1]}", "assertionMethod")
    assert refused.value.slug == errors.VERIFICATION_METHOD_NOT_FOUND
    assert resolver.verification_method(VICTIM.method, "assertionMethod").public_key == bytes(
        VICTIM.key.verify_key
    )


# -- issuer and holder binding ------------------------------------------------------------------


def test_a_proof_set_with_a_strangers_proof_is_refused(lists):
    honest = role(lists)
    stranger = ATTACKER.sign(unsigned(honest))
    both = copy.deepcopy(honest)
    both["proof"] = [honest["proof"], stranger["proof"]]
    assert verifier().verify_credential(both).error_types() == [errors.ISSUER_MISMATCH]


def test_an_issuer_object_is_read_by_its_id(lists):
    credential = unsigned(role(lists, version=2))
    credential["issuer"] = {"id": AUTHORITY.did, "name": "Onboarding authority"}
    signed = AUTHORITY.sign(
        credential, proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
    )
    result = verifier().verify_credential(signed)
    assert result.verified and result.trusted, result.error_types()
    credential["issuer"] = {"id": AUTHORITY.did}
    forged = ATTACKER.sign(
        credential, proof_type="DataIntegrityProof", cryptosuite="eddsa-jcs-2022"
    )
    assert verifier().verify_credential(forged).error_types() == [errors.ISSUER_MISMATCH]


def test_a_subject_list_mixing_holder_and_victim_binds_both(lists):
    mixed = unsigned(role(lists))
    mixed["credentialSubject"] = [
        mixed["credentialSubject"],
        {"id": VICTIM.did, "roles": ["Governance"]},
    ]
    credential = AUTHORITY.sign(mixed)
    vp = HOLDER.present([credential], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    assert errors.HOLDER_MISMATCH in result.error_types()


def test_a_victims_non_did_subject_credential_grants_the_presenter_nothing(lists):
    from gateway.requirements import Participant, evaluate

    # A credential about a non-DID subject binds no holder, so it may ride along, but it makes
    # nobody a participant or anything else.
    digest = credgate_credential(
        "SoftwareCertificationCredential",
        AUTHORITY,
        "urn:sha256:" + "b" * 64,
        status=lists.entry("authority", next(_index)),
    )
    vp = ATTACKER.present([digest], challenge="c")
    result = verifier().verify_presentation(vp, challenge="c")
    assert not evaluate(Participant(), result.credentials).allow


def test_a_presentation_cannot_make_the_verifier_resolve_many_did_webs(web):
    # Each credential signed by another did:web of an allowed host: every one a fetch.
    key = SigningKey.generate()
    credentials = []
    for n in range(12):
        did = f"did:web:web.test:swarm{n}"
        about_me = self_issued_unsigned(did) | {"credentialSubject": {"id": ATTACKER.did}}
        credentials.append(sign(about_me, key, f"{did}#k"))
    vp = ATTACKER.present(credentials, challenge="c")
    seen = len(web.requests)
    result = web_verifier(web).verify_presentation(vp, challenge="c")
    assert result.error_types() == [errors.INVALID_PRESENTATION]
    assert len(web.requests) == seen


@pytest.mark.parametrize("url", [{"a": 1}, ["x"], 7, None])
def test_a_status_list_url_of_another_json_type_is_refused_not_a_crash(lists, url):
    entry = lists.entry("authority", 1) | {"statusListCredential": url}
    credential = self_issued(ATTACKER) | {"credentialStatus": entry}
    vp = {
        "@context": [V1],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential],
    }
    result = verifier().verify_presentation(vp, challenge="c")
    assert not result.verified


# -- a depute admin session after KCIT withdraws the power --------------------------------------


@pytest.mark.agents
@pytest.mark.db
def test_a_depute_admin_session_ends_when_kcit_withdraws_the_admin_power(
    urls, operator, wallet_cli
):
    import secrets

    import requests

    from tests.support.depute import log_in, register_and_approve, registration, wallet_prover

    def run(*args: str) -> str:
        code, out = wallet_cli(*args)
        assert code == 0, out
        return out

    suffix = secrets.token_hex(3)
    company, followed = register_and_approve(
        urls,
        operator,
        registration(
            f"Powerless {suffix} GmbH", "DE136695976", "Rita Ohm", "rita@powerless.example"
        ),
    )
    wallet = f"rita-{suffix}"
    run("create", wallet)
    invitation = followed["provisioning"]["adminInvitation"]["invitation_url"]
    run("scan", invitation, "-w", wallet, "--accept", "--trust-issuer")
    (admin,) = json.loads(run("credentials", "-w", wallet, "--json"))

    prove = wallet_prover(wallet_cli, wallet, admin["record_id"])
    headers = {"Authorization": f"Bearer {log_in(urls, prove)}"}
    company_url = f"{urls['depute']}/depute/api/companies/{company['id']}"
    assert requests.get(company_url, headers=headers, timeout=10).status_code == 200

    # KCIT's operator keeps the company active but withdraws depute:admin from what it may
    # delegate: its admins' mandates no longer hold, so their sessions end.
    changed = requests.put(
        f"{urls['kcit']}/kcit/admin/companies/{company['id']}/powers",
        json={"powers": ["marketplace:read"], "reason": "no more self-administration"},
        headers=operator,
        timeout=10,
    )
    assert changed.status_code == 200, changed.text
    assert requests.get(company_url, headers=headers, timeout=10).status_code == 401


# -- small pins ---------------------------------------------------------------------------------


def test_a_status_index_must_be_a_string(lists):
    entry = lists.entry("authority", 1) | {"statusListIndex": 1}
    result = verifier().verify_credential(self_issued(ATTACKER, credentialStatus=entry))
    assert result.error_types() == [errors.INVALID_STATUS]


def test_a_method_id_with_a_query_is_not_the_plain_methods():
    resolver = DidResolver()
    fingerprint = VICTIM.method.split("#", 1)[1]
    for written in (f"{VICTIM.did}?service=x#{fingerprint}", f"{VICTIM.did}/path#{fingerprint}"):
        with pytest.raises(errors.VerificationError) as refused:
            resolver.verification_method(written, "assertionMethod")
        assert refused.value.slug in (
            errors.VERIFICATION_METHOD_NOT_FOUND,
            errors.DID_RESOLUTION_FAILED,
        )


def test_dids_are_compared_exactly_never_normalised():
    import unicodedata

    from verifier.credentials import check_credential
    from verifier.engine import holder_binding

    composed = unicodedata.normalize("NFC", "did:web:web.test:café")
    decomposed = unicodedata.normalize("NFD", composed)
    assert composed != decomposed
    facts = check_credential(self_issued_unsigned(composed))
    assert holder_binding(composed, facts) is None
    for signer in (decomposed, composed.upper(), composed.replace("did:", "DID:")):
        problem = holder_binding(signer, facts)
        assert problem is not None and problem.slug == errors.HOLDER_MISMATCH


def test_an_expired_credential_cannot_switch_data_model_to_drop_its_end(lists):
    # VCDM 2.0 reads only validUntil: a 1.1 credential relabelled 2.0 must not lose its
    # expirationDate (the contexts are not signed, only the graph they produce).
    expired = role(lists, **EXPIRED)
    v2 = "https://www.w3.org/ns/credentials/v2"
    for contexts in ([v2, *expired["@context"]], [v2, *expired["@context"][1:]]):
        relabelled = copy.deepcopy(expired) | {"@context": contexts}
        result = verifier().verify_credential(relabelled)
        assert not result.verified and not result.trusted, contexts


def test_the_issuer_signs_nothing_the_verifier_would_refuse_as_not_compact():
    # The VC-API issuer runs our verifier's checks before its agent signs: a key written as an
    # IRI (or an inline context) would give a signature every verifier of ours refuses.
    from credgate.errors import DomainError
    from issuer.vcapi import check_expansion

    base = self_issued_unsigned(AUTHORITY.did)
    check_expansion(base, with_status=False)  # compact: fine
    hidden = copy.deepcopy(base)
    hidden[CRED + "expirationDate"] = {"@value": "2030-01-01T00:00:00Z", "@type": XSD_DATETIME}
    inline = copy.deepcopy(base) | {"@context": [*base["@context"], {"x": CRED + "x"}]}
    for credential in (hidden, inline):
        with pytest.raises(DomainError) as refused:
            check_expansion(credential, with_status=False)
        assert refused.value.slug == errors.UNSUPPORTED_JSONLD


def test_the_issuer_does_not_sign_a_credgate_type_written_as_its_iri():
    # Typed by the IRI, a RoleCredential is "not one of ours" to a check that reads type terms,
    # so none of our issuance rules would run; yet it is the very graph of a RoleCredential,
    # and presented with the term "RoleCredential" it verifies as one.
    from credgate.errors import DomainError
    from issuer.vcapi import check_expansion

    credential = self_issued_unsigned(AUTHORITY.did) | {
        "@context": [V1, "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "https://w3id.org/credgate/vocab#RoleCredential"],
        "credentialSubject": {"id": ATTACKER.did, "roles": ["Governance"]},
    }
    with pytest.raises(DomainError) as refused:
        check_expansion(credential, with_status=False)
    assert refused.value.slug == errors.UNSUPPORTED_JSONLD
