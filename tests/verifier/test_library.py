"""The verification library end to end, with real keys, a real loopback status-list server and
(for challenges) the real database: every reason a verification fails has its own error type."""

from __future__ import annotations

import copy
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import did_peer_2
import did_peer_4
import pytest

from tests.support.waits import eventually, timed
from verifier import errors
from verifier.challenges import ChallengeStore
from verifier.dids import DidResolver
from verifier.encoding import b64url_encode, multikey_encode
from verifier.engine import ProofCache, Verifier
from verifier.fetch import FetchPolicy
from verifier.status import ChangeFeed, StatusListCache
from verifier.testing import Party, StatusListServer, credgate_credential
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
COMPANY = Party.generate()
CERTIFIER = Party.generate()
HOLDER = Party.generate()
STRANGER = Party.generate()
# The status server runs on loopback: fetched only because it is allow-listed here.
LOOPBACK = FetchPolicy()


@pytest.fixture(scope="module")
def server():
    server = StatusListServer().start()
    LOOPBACK.allow(server.url)
    for issuer, name in ((AUTHORITY, "authority"), (COMPANY, "company")):
        server.add_list(f"{name}-revocation", issuer, "revocation")
        server.add_list(f"{name}-suspension", issuer, "suspension")
        server.add_list(f"v2-{name}-revocation", issuer, "revocation")
    server.add_list("stranger-revocation", STRANGER, "revocation")
    yield server
    server.stop()


def _trust(**changes) -> StaticTrustRegistry:
    data = {
        "onboarding_authority": AUTHORITY.did,
        "companies": {COMPANY.did: "active"},
        "accreditations": {CERTIFIER.did: ["SoftwareCertificationCredential"]},
    }
    data.update(changes)
    return StaticTrustRegistry.from_dict(data)


def make_verifier(trust=None, *, cache=True, **status_options) -> Verifier:
    verifier = Verifier(
        DidResolver(), trust=trust or _trust(), proof_cache=ProofCache() if cache else None
    )
    verifier.status = StatusListCache(
        verifier.verify_status_list, **{"policy": LOOPBACK, **status_options}
    )
    return verifier


_next_index = iter(range(1, 100_000))


def status_entry(server, list_id, entry_type="StatusList2021Entry"):
    return server.entry(list_id, next(_next_index), entry_type)


def role(server, subject=HOLDER.did, **kwargs):
    status = kwargs.pop("status", None) or status_entry(server, "authority-revocation")
    return credgate_credential("RoleCredential", AUTHORITY, subject, status=status, **kwargs)


def attorney(server, issuer=COMPANY, **kwargs):
    status = [
        status_entry(server, "company-revocation"),
        status_entry(server, "company-suspension"),
    ]
    return credgate_credential("AttorneyCredential", issuer, HOLDER.did, status=status, **kwargs)


def index_of(credential, purpose="revocation"):
    for entry in (
        credential["credentialStatus"]
        if isinstance(credential["credentialStatus"], list)
        else [credential["credentialStatus"]]
    ):
        if entry["statusPurpose"] == purpose:
            return entry["statusListCredential"].rsplit("/", 1)[1], int(entry["statusListIndex"])
    raise KeyError(purpose)


# -- credentials ------------------------------------------------------------------------------


def test_a_well_issued_credential_verifies_with_every_check(server):
    verifier = make_verifier()
    result = verifier.verify_credential(attorney(server))
    assert result.verified, result.error_types()
    assert result.checks == ["structure", "proof", "issuer", "validity", "trust", "status"]
    assert result.to_vc_api() == {
        "verified": True,
        "checks": result.checks,
        "warnings": [],
        "errors": [],
    }


def test_bad_signature(server):
    credential = role(server)
    credential["credentialSubject"]["roles"] = ["Governance"]
    result = make_verifier().verify_credential(credential)
    assert result.error_types() == [errors.BAD_SIGNATURE]
    problem = result.to_vc_api()["errors"][0]
    assert problem["type"] == "https://w3id.org/credgate/problems/bad-signature"


def test_signature_by_someone_else_than_the_issuer(server):
    credential = role(server)
    forged = STRANGER.sign({k: v for k, v in credential.items() if k != "proof"})
    assert make_verifier().verify_credential(forged).error_types() == [errors.ISSUER_MISMATCH]


def test_expired_and_not_yet_valid(server):
    verifier = make_verifier()
    expired = role(server, valid_from="2024-01-01T00:00:00Z", valid_until="2024-06-01T00:00:00Z")
    assert verifier.verify_credential(expired).error_types() == [errors.EXPIRED]
    future = role(server, valid_from="2090-01-01T00:00:00Z")
    assert verifier.verify_credential(future).error_types() == [errors.NOT_YET_VALID]
    now = datetime(2095, 1, 1, tzinfo=UTC)
    assert verifier.verify_credential(future, now=now).verified


def test_unknown_context_and_undefined_term(server):
    verifier = make_verifier()
    credential = role(server)
    unknown = {k: v for k, v in credential.items() if k != "proof"}
    unknown["@context"] = [*unknown["@context"], "https://contexts.example.org/v9"]
    result = verifier.verify_credential(
        AUTHORITY.sign(unknown) if False else {**unknown, "proof": credential["proof"]}
    )
    assert result.error_types() == [errors.UNKNOWN_CONTEXT]
    undefined = {**credential, "nickname": "x"}
    assert verifier.verify_credential(undefined).error_types() == [errors.UNDEFINED_TERM]


def test_malformed_credentials_and_proofs(server):
    verifier = make_verifier()
    assert verifier.verify_credential([]).error_types() == [errors.INVALID_CREDENTIAL]
    credential = role(server)
    no_issuer = {k: v for k, v in credential.items() if k != "issuer"}
    assert verifier.verify_credential(no_issuer).error_types() == [errors.INVALID_CREDENTIAL]
    unsigned = {k: v for k, v in credential.items() if k != "proof"}
    assert verifier.verify_credential(unsigned).error_types() == [errors.PROOF_MISSING]
    odd = copy.deepcopy(credential)
    odd["proof"]["type"] = "RsaSignature2018"
    assert verifier.verify_credential(odd).error_types() == [errors.UNSUPPORTED_PROOF]
    purpose = copy.deepcopy(credential)
    purpose["proof"]["proofPurpose"] = "authentication"
    assert verifier.verify_credential(purpose).error_types() == [errors.PROOF_PURPOSE_MISMATCH]
    method = copy.deepcopy(credential)
    method["proof"]["verificationMethod"] = credential["issuer"] + "#nope"
    assert verifier.verify_credential(method).error_types() == [
        errors.VERIFICATION_METHOD_NOT_FOUND
    ]


def test_jws_with_alg_none_is_refused(server):
    credential = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, proof_type="Ed25519Signature2018"
    )
    none_header = b64url_encode(json.dumps({"alg": "none", "b64": False, "crit": ["b64"]}).encode())
    credential["proof"]["jws"] = none_header + ".." + credential["proof"]["jws"].split(".")[2]
    assert make_verifier().verify_credential(credential).error_types() == [errors.ALG_NONE]


# -- status -----------------------------------------------------------------------------------


def test_revoked_and_suspended(server):
    verifier = make_verifier(short_ttl=0.0)
    credential = attorney(server)
    assert verifier.verify_credential(credential).verified
    server.set(*index_of(credential, "suspension"))
    assert verifier.verify_credential(credential).error_types() == [errors.SUSPENDED]
    server.set(*index_of(credential, "suspension"), False)
    server.set(*index_of(credential, "revocation"))
    assert verifier.verify_credential(credential).error_types() == [errors.REVOKED]


def test_bitstring_status_list_of_vcdm_2(server):
    verifier = make_verifier(short_ttl=0.0)
    entry = status_entry(server, "v2-authority-revocation", "BitstringStatusListEntry")
    credential = role(server, status=entry, version=2)
    # The list itself is a VCDM 2.0 credential signed with eddsa-rdfc-2022.
    assert verifier.verify_credential(credential).verified
    server.set("v2-authority-revocation", int(entry["statusListIndex"]))
    assert verifier.verify_credential(credential).error_types() == [errors.REVOKED]


def test_status_unavailable_and_foreign_lists(server):
    verifier = make_verifier(short_ttl=0.0)
    credential = role(server)
    server.fail = True
    try:
        assert verifier.verify_credential(credential).error_types() == [errors.STATUS_UNAVAILABLE]
    finally:
        server.fail = False
    # A list published by someone else than the credential's issuer does not count.
    foreign = role(server, status=status_entry(server, "stranger-revocation"))
    assert verifier.verify_credential(foreign).error_types() == [errors.INVALID_STATUS]
    # ... unless the trust configuration names that someone as a publisher of this issuer's
    # lists; a publisher named for another issuer counts for nothing here.
    elsewhere = make_verifier(_trust(status_list_signers={COMPANY.did: [STRANGER.did]}))
    assert elsewhere.verify_credential(foreign).error_types() == [errors.INVALID_STATUS]
    trusting = make_verifier(
        _trust(status_list_signers={AUTHORITY.did: [STRANGER.did]}), short_ttl=0.0
    )
    assert trusting.verify_credential(foreign).verified


def test_proof_cache_never_holds_status(server):
    verifier = make_verifier(short_ttl=0.0)
    credential = attorney(server)
    first = verifier.verify_credential(credential)
    second = verifier.verify_credential(credential)
    assert first.verified and second.verified
    assert not first.proof_cached and second.proof_cached
    server.set(*index_of(credential, "revocation"))
    third = verifier.verify_credential(credential)
    assert third.proof_cached and third.error_types() == [errors.REVOKED]


def test_change_feed_invalidates_cached_lists_at_once(server):
    """Lists are cached for a minute here, so only the feed can make a revocation visible."""
    verifier = make_verifier(short_ttl=60.0, long_ttl=60.0)
    # Short long polls: the feed sees the server fail when the poll in flight returns.
    feed = ChangeFeed(server.url, verifier.status, wait=0.5, retry=0.1).start()
    try:
        eventually(lambda: verifier.status.feed_healthy, 5, 0.01, what="the change feed")
        credential = attorney(server)
        assert verifier.verify_credential(credential).verified
        fetches = verifier.status.fetches
        assert verifier.verify_credential(credential).verified
        assert verifier.status.fetches == fetches  # served from the cache

        server.set(*index_of(credential, "revocation"))
        took, _ = timed(
            lambda: verifier.verify_credential(credential).error_types(),
            1.0,
            interval=0.01,
            until=lambda found: found == [errors.REVOKED],
        )
        assert took < 1.0

        # A lost feed falls back to the short TTL and forgets what it cached.
        server.fail = True
        eventually(lambda: not verifier.status.feed_healthy, 5, 0.01, what="the feed's loss")
    finally:
        server.fail = False
        feed.stop()


# -- trust ------------------------------------------------------------------------------------


def test_untrusted_issuers_say_which_rule_failed(server):
    verifier = Verifier(DidResolver(), trust=_trust(), require_status=False)  # trust alone
    rogue_role = credgate_credential("RoleCredential", STRANGER, HOLDER.did)
    result = verifier.verify_credential(rogue_role)
    assert result.error_types() == [errors.UNTRUSTED_ISSUER]
    assert result.errors[0].extra["rule"] == "onboarding-authority"

    rogue_attorney = credgate_credential("AttorneyCredential", STRANGER, HOLDER.did)
    result = verifier.verify_credential(rogue_attorney)
    assert result.error_types() == [errors.ISSUER_NOT_KCIT_COMPANY]
    assert result.errors[0].extra["rule"] == "kcit-company"

    suspended = Verifier(
        DidResolver(), trust=_trust(companies={COMPANY.did: "suspended"}), require_status=False
    )
    assert suspended.verify_credential(attorney(server)).error_types() == [errors.COMPANY_INACTIVE]

    rogue_cert = credgate_credential("SoftwareCertificationCredential", STRANGER, HOLDER.did)
    result = verifier.verify_credential(rogue_cert)
    assert result.error_types() == [errors.UNTRUSTED_ISSUER]
    assert result.errors[0].extra["rule"] == "accredited-certifier"
    good_cert = credgate_credential("SoftwareCertificationCredential", CERTIFIER, HOLDER.did)
    assert verifier.verify_credential(good_cert).verified


def test_trust_file_is_reloaded_when_it_changes(tmp_path):
    from verifier.trust import CompanyStatus, FileTrustRegistry

    path = tmp_path / "trust.json"
    path.write_text(json.dumps({"companies": {COMPANY.did: "active"}}))
    registry = FileTrustRegistry(path)
    assert registry.company_status(COMPANY.did) is CompanyStatus.ACTIVE
    path.write_text(json.dumps({"companies": {COMPANY.did: "suspended"}}))
    import os

    os.utime(path, (time.time() + 5, time.time() + 5))
    assert registry.company_status(COMPANY.did) is CompanyStatus.SUSPENDED
    assert registry.company_status(STRANGER.did) is CompanyStatus.UNKNOWN


# -- presentations ----------------------------------------------------------------------------


def test_presentation_verifies_and_binds_the_holder(server):
    verifier = make_verifier()
    credentials = [role(server), attorney(server)]
    for proof_type in ("Ed25519Signature2018", "Ed25519Signature2020"):
        vp = HOLDER.present(credentials, challenge="c1", domain="gw.example", proof_type=proof_type)
        result = verifier.verify_presentation(vp, challenge="c1", domain="gw.example")
        assert result.verified, result.error_types()
        assert result.holder == HOLDER.did
        assert {"proof", "challenge", "domain", "holder"} <= set(result.checks)
    # Aries wallets omit the domain: accepted, with a warning.
    vp = HOLDER.present(credentials, challenge="c2")
    result = verifier.verify_presentation(vp, challenge="c2", domain="gw.example")
    assert result.verified and [w.slug for w in result.warnings] == [errors.DOMAIN_MISMATCH]


def test_presentation_failures(server):
    verifier = make_verifier()
    credentials = [role(server)]
    vp = HOLDER.present(credentials, challenge="c1", domain="gw.example")
    assert verifier.verify_presentation(vp, challenge="other").error_types() == [
        errors.CHALLENGE_MISMATCH
    ]
    assert verifier.verify_presentation(
        vp, challenge="c1", domain="evil.example"
    ).error_types() == [errors.DOMAIN_MISMATCH]
    no_challenge = HOLDER.present(credentials, challenge=None)
    assert verifier.verify_presentation(no_challenge).error_types() == [errors.CHALLENGE_MISSING]
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    assert verifier.verify_presentation(unsigned).error_types() == [errors.PROOF_MISSING]
    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][0]["credentialSubject"]["roles"] = ["Governance"]
    assert (
        errors.BAD_SIGNATURE in verifier.verify_presentation(tampered, challenge="c1").error_types()
    )
    assert verifier.verify_presentation({"type": "x"}).error_types() == [
        errors.INVALID_PRESENTATION
    ]


def test_holder_not_the_subject(server):
    verifier = make_verifier()
    stolen = [role(server)]  # issued to HOLDER
    vp = STRANGER.present(stolen, challenge="c1")
    result = verifier.verify_presentation(vp, challenge="c1")
    assert result.error_types() == [errors.HOLDER_MISMATCH]
    # Naming the subject as holder while signing with another key does not help.
    vp = STRANGER.present(stolen, challenge="c1", holder=False)
    vp_named = STRANGER.sign(
        {**{k: v for k, v in vp.items() if k != "proof"}, "holder": HOLDER.did},
        proof_type="Ed25519Signature2018",
        proof_purpose="authentication",
        challenge="c1",
    )
    assert verifier.verify_presentation(vp_named, challenge="c1").error_types() == [
        errors.HOLDER_MISMATCH
    ]


def test_presentation_proof_must_be_for_authentication(server):
    vp = HOLDER.present([role(server)], challenge="c1")
    wrong = HOLDER.sign(
        {k: v for k, v in vp.items() if k != "proof"},
        proof_type="Ed25519Signature2018",
        proof_purpose="assertionMethod",
        challenge="c1",
    )
    assert make_verifier().verify_presentation(wrong, challenge="c1").error_types() == [
        errors.PROOF_PURPOSE_MISMATCH
    ]


def test_did_peer_holders(server):
    verifier = make_verifier()
    key = HOLDER.key
    multikey = multikey_encode(bytes(key.verify_key))
    peer2 = did_peer_2.generate([did_peer_2.KeySpec.verification(multikey)], [])
    peer4 = did_peer_4.encode(
        {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "verificationMethod": [
                {"id": "#key-1", "type": "Multikey", "publicKeyMultibase": multikey}
            ],
            "authentication": ["#key-1"],
            "assertionMethod": ["#key-1"],
        }
    )
    from verifier.suites import sign

    for did, fragment in ((peer2, "#key-1"), (peer4, "#key-1")):
        credential = role(server, subject=did)
        presentation = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": did,
            "verifiableCredential": [credential],
        }
        vp = sign(
            presentation,
            key,
            did + fragment,
            proof_type="Ed25519Signature2018",
            proof_purpose="authentication",
            challenge="c1",
        )
        result = verifier.verify_presentation(vp, challenge="c1")
        assert result.verified, (did[:12], result.error_types())


def test_did_web_issuer_through_the_loopback_override():
    issuer = Party.generate()
    document = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": "did:web:issuer.credgate.example%3A8443:org",
        "verificationMethod": [
            {
                "id": "did:web:issuer.credgate.example%3A8443:org#key-1",
                "type": "Ed25519VerificationKey2020",
                "controller": "did:web:issuer.credgate.example%3A8443:org",
                "publicKeyMultibase": multikey_encode(bytes(issuer.key.verify_key)),
            }
        ],
        "assertionMethod": ["did:web:issuer.credgate.example%3A8443:org#key-1"],
    }
    hits = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            hits.append(self.path)
            body = json.dumps(document).encode()
            self.send_response(200 if self.path == "/org/did.json" else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{httpd.server_address[1]}"
        resolver = DidResolver(web_override={"issuer.credgate.example%3A8443": base})
        verifier = Verifier(resolver, require_status=False)
        from verifier.suites import sign

        credential = credgate_credential("RoleCredential", issuer, HOLDER.did)
        credential = {k: v for k, v in credential.items() if k != "proof"}
        credential["issuer"] = document["id"]
        signed = sign(credential, issuer.key, document["id"] + "#key-1")
        assert verifier.verify_credential(signed).verified
        assert verifier.verify_credential(signed).verified
        assert hits == ["/org/did.json"]  # resolved once, then cached
        missing = DidResolver(web_override={"nobody.example": base})
        with pytest.raises(errors.VerificationError) as failure:
            missing.resolve("did:web:nobody.example")
        assert failure.value.slug == errors.DID_RESOLUTION_FAILED
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- challenges (database) --------------------------------------------------------------------


@pytest.mark.db
def test_challenges_are_single_use_expiring_and_ours(server, db):
    store = ChallengeStore(db, "library-test", ttl=timedelta(minutes=1))
    verifier = make_verifier()
    verifier.challenges = store
    credentials = [role(server)]

    issued = store.issue("gw.example")
    vp = HOLDER.present(credentials, challenge=issued.challenge)  # no domain, as Aries sends
    assert verifier.verify_presentation(vp, domain="gw.example").verified
    assert verifier.verify_presentation(vp, domain="gw.example").error_types() == [
        errors.CHALLENGE_REUSED
    ]

    made_up = HOLDER.present(credentials, challenge="not-from-us")
    assert verifier.verify_presentation(made_up).error_types() == [errors.CHALLENGE_UNKNOWN]

    old = store.issue("gw.example", now=datetime.now(UTC) - timedelta(minutes=5))
    late = HOLDER.present(credentials, challenge=old.challenge)
    assert verifier.verify_presentation(late).error_types() == [errors.CHALLENGE_EXPIRED]

    elsewhere = store.issue("other.example")
    vp = HOLDER.present(credentials, challenge=elsewhere.challenge, domain="gw.example")
    assert verifier.verify_presentation(vp).error_types() == [errors.DOMAIN_MISMATCH]


@pytest.mark.db
def test_a_challenge_is_spent_once_under_concurrency(server, db):
    store = ChallengeStore(db, "library-test")
    issued = store.issue(None)
    outcomes = []

    def spend():
        try:
            store.consume(issued.challenge, None)
            outcomes.append("ok")
        except errors.VerificationError as exc:
            outcomes.append(exc.slug)

    threads = [threading.Thread(target=spend) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(outcomes) == sorted(["ok"] + [errors.CHALLENGE_REUSED] * 5)
