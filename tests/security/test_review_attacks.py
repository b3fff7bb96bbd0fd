"""A hostile review of the trust rules: attacks tried after the trust-soundness fixes landed.

Each test is what an outsider with no key of ours tries next. Where the code held, the test pins
the property cheaply; where it broke, the test was written first (and failed), then the shared
mechanism was fixed.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest

from verifier import errors
from verifier.dids import DidResolver
from verifier.engine import ProofCache, Verifier
from verifier.fetch import FetchPolicy
from verifier.status import StatusListCache
from verifier.suites import sign
from verifier.testing import Party, StatusListServer, credgate_credential
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
    server = StatusListServer().start()
    server.add_list("authority", AUTHORITY, "revocation")
    server.add_list("company", COMPANY, "suspension")
    yield server
    server.stop()


_index = iter(range(1, 100_000))


def verifier(**options: Any) -> Verifier:
    v = Verifier(DidResolver(), trust=_trust(), proof_cache=ProofCache(), **options)
    v.status = StatusListCache(v.verify_status_list, policy=FetchPolicy(["127.0.0.1"]))
    return v


def role(lists, subject: str = HOLDER.did, **kwargs: Any) -> dict[str, Any]:
    entry = lists.entry("authority", next(_index))
    return credgate_credential("RoleCredential", AUTHORITY, subject, status=entry, **kwargs)


def unsigned(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in copy.deepcopy(credential).items() if k != "proof"}


def self_issued(party: Party, **fields: Any) -> dict[str, Any]:
    """A credential of no credgate type that ``party`` signs about itself."""
    return party.sign({
        "@context": [V1, STATUS_2021, ED25519_2020],
        "type": ["VerifiableCredential"], "issuer": party.did,
        "issuanceDate": "2025-01-01T00:00:00Z", "credentialSubject": {"id": party.did},
        **fields,
    })  # fmt: skip


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
        moved["@context"] = [*moved["@context"], {"until": {"@id": CRED + field,
                                                            "@type": XSD_DATETIME}}]  # fmt: skip
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
    vp = {"@context": [V1], "type": ["VerifiablePresentation"], "holder": HOLDER.did,
          "verifiableCredential": [role(lists)]}  # fmt: skip
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
    entries = [{"id": f"{lists.url}/status/{prefix}-{i}#1", "type": "StatusList2021Entry",
                "statusPurpose": "revocation", "statusListIndex": "1",
                "statusListCredential": f"{lists.url}/status/{prefix}-{i}"}
               for i in range(count)]  # fmt: skip
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

    expires = (datetime.now(UTC) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    credential = AUTHORITY.sign(unsigned(role(lists)), expires=expires)
    v = verifier()
    assert v.verify_credential(credential).verified
    deadline = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    time.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()) + 0.2)
    assert v.verify_credential(credential).error_types() == [errors.EXPIRED]


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
