"""The verifier under KCIT trust (verifier/trust_kcit.py against a KCIT served on loopback):
attorney credentials of an identified company verify; from a DID KCIT does not know, from a
suspended company, or with a power the company was never given, they fail with their own error
types; suspension reaches a verifier whose cache holds the company within one second."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from credgate.serving import serve
from kcit import create_app
from tests.support.kcit import company_action
from tests.support.waits import eventually
from verifier.engine import Verifier
from verifier.testing import Party, credgate_credential
from verifier.trust import CombinedTrustRegistry, StaticTrustRegistry
from verifier.trust_kcit import TRUST_UNAVAILABLE, KcitChangeFeed, KcitTrustRegistry

pytestmark = pytest.mark.db


POWERS = ["marketplace:read", "marketplace:purchase", "catalogue:read", "catalogue:publish"]


@pytest.fixture(scope="module")
def authority():
    return Party.generate()


@pytest.fixture(scope="module")
def kcit(settings, db, authority):
    app = create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "SECRET_KEY": "test",
            "KCIT_ONBOARDING_AUTHORITY": authority.did,
        }
    )
    server = serve(app)
    yield server.url
    server.stop()


@pytest.fixture(scope="module")
def trust(kcit):
    # A long TTL: only the change feed can make a suspension visible within a second.
    registry = KcitTrustRegistry(kcit, long_ttl=300.0)
    feed = KcitChangeFeed(registry, wait=5.0).start()
    eventually(lambda: registry.feed_healthy, 5, 0.02, what="KCIT's change feed to connect")
    yield registry
    feed.stop()


@pytest.fixture(scope="module")
def verifier(trust):
    return Verifier(trust=trust, require_status=False)  # status: tests/security


def identified_company(kcit: str, operator: dict, powers=POWERS) -> tuple[Party, str]:
    company = Party.generate()
    body = {
        "legalName": "Attorney Test SA",
        "legalRegistrationNumber": {"vatId": "FR40303265045"},
        "country": "FR",
        "representatives": [{"name": "Rep", "email": "rep@example.org"}],
        "did": company.did,
    }
    created = requests.post(f"{kcit}/kcit/registrations", json=body, timeout=5).json()
    company_action(kcit, created["id"], "approve", operator, powers=powers)
    return company, created["id"]


def attorney(company: Party, powers=None) -> dict:
    credential = credgate_credential("AttorneyCredential", company, Party.generate().did)
    if powers is not None:
        unsigned = {k: v for k, v in credential.items() if k != "proof"}
        unsigned["credentialSubject"]["powers"] = powers
        credential = company.sign(unsigned, proof_type="Ed25519Signature2020")
    return credential


def error_types(result) -> list[str]:
    return [e.slug for e in result.errors]


def test_attorney_from_an_identified_company_verifies(verifier, kcit, operator):
    company, _ = identified_company(kcit, operator)
    result = verifier.verify_credential(attorney(company))
    assert result.verified, error_types(result)
    assert "trust" in result.checks


def test_attorney_from_a_did_kcit_does_not_know_is_rejected(verifier):
    result = verifier.verify_credential(attorney(Party.generate()))
    assert error_types(result) == ["issuer-not-kcit-company"]


def test_attorney_with_a_power_the_company_was_never_given_is_rejected(verifier, kcit, operator):
    company, _ = identified_company(kcit, operator, powers=["marketplace:read"])
    ok = verifier.verify_credential(
        attorney(company, [{"app": "marketplace", "actions": ["read"]}])
    )
    assert ok.verified, error_types(ok)
    extra = [{"app": "marketplace", "actions": ["read", "purchase"]}]
    result = verifier.verify_credential(attorney(company, extra))
    assert error_types(result) == ["power-not-granted"]
    assert result.errors[0].extra["power"] == "marketplace:purchase"


def test_a_trust_file_entry_does_not_lift_the_powers_kcit_gave(trust, kcit, operator):
    """The gateway's combined trust: a company in the operator's file and in KCIT keeps only
    the powers KCIT gave it (a file tracks no powers; only a company KCIT does not know is left
    unrestricted by it)."""
    company, _ = identified_company(kcit, operator, powers=["marketplace:read"])
    stranger = Party.generate()
    file = StaticTrustRegistry(companies={company.did: "active", stranger.did: "active"})
    for combined in (CombinedTrustRegistry(file, trust), CombinedTrustRegistry(trust, file)):
        assert combined.company_powers(company.did) == {"marketplace:read"}
        assert combined.company_powers(stranger.did) is None
        extra = [{"app": "marketplace", "actions": ["read", "purchase"]}]
        unchecked = Verifier(trust=combined, require_status=False)
        result = unchecked.verify_credential(attorney(company, extra))
        assert error_types(result) == ["power-not-granted"]


def test_suspending_the_company_is_refused_within_a_second(verifier, trust, kcit, operator):
    company, kcit_id = identified_company(kcit, operator)
    credential = attorney(company)

    # Cached for 300 s once the feed has also delivered the identification itself (which drops
    # the entry once more if it arrives after the first look): then served from the cache.
    def served_from_cache() -> bool:
        assert verifier.verify_credential(credential).verified
        fetches = trust.fetches
        assert verifier.verify_credential(credential).verified
        return trust.fetches == fetches

    eventually(served_from_cache, 3, what="the trust facts served from the cache")

    began = time.monotonic()
    company_action(kcit, kcit_id, "suspend", operator, reason="under review")
    result = eventually(
        lambda: verifier.verify_credential(credential),
        3,
        0.02,
        until=lambda result: not result.verified,
    )
    elapsed = time.monotonic() - began
    assert error_types(result) == ["company-inactive"]
    assert elapsed < 1.0, elapsed

    company_action(kcit, kcit_id, "reinstate", operator, reason="cleared")
    eventually(lambda: verifier.verify_credential(credential).verified, 2, 0.02)


def test_onboarding_authority_comes_from_kcit_and_no_list_publisher_does(trust, authority):
    assert trust.is_onboarding_authority(authority.did)
    assert not trust.is_onboarding_authority(Party.generate().did)
    # Every list counts only when signed by its own credentials' issuer, the authority's too.
    assert trust.status_list_signers(Party.generate().did) == frozenset()


def test_kcit_unreachable_is_a_bounded_trust_error_not_a_crash():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed once the block ends: nobody listens there
    registry = KcitTrustRegistry(f"http://127.0.0.1:{port}")
    began = time.monotonic()
    unchecked = Verifier(trust=registry, require_status=False)
    result = unchecked.verify_credential(attorney(Party.generate()))
    assert error_types(result) == [TRUST_UNAVAILABLE]
    assert time.monotonic() - began < 5
    # Asked again at once (each gateway request does): no new connection attempt is made.
    fetches = registry.fetches
    again = unchecked.verify_credential(attorney(Party.generate()))
    assert error_types(again) == [TRUST_UNAVAILABLE] and registry.fetches == fetches


def test_a_kcit_without_an_authority_yet_is_asked_again_after_a_moment(settings, db):
    app = create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "SECRET_KEY": "test",
            "KCIT_AUTHORITY_TENANT": "nobody-yet",
        }
    )
    server = serve(app)
    try:
        now = [100.0]
        registry = KcitTrustRegistry(server.url, clock=lambda: now[0])
        registry.feed_healthy = True  # long-lived entries, as behind a healthy feed
        assert not registry.is_onboarding_authority(Party.generate().did)
        fetches = registry.fetches
        registry.is_onboarding_authority("did:key:z")
        assert registry.fetches == fetches  # within short_ttl: from the cache
        now[0] += registry.short_ttl + 0.01
        registry.is_onboarding_authority("did:key:z")
        assert registry.fetches == fetches + 1  # then asked again
    finally:
        server.stop()
