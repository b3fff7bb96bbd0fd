"""Status while the list's signer is down: a stale list must never let a revoked credential in.

While the issuer agent cannot sign, the revocation service serves the last signed list (without
the newest bits) until it expires, and the verifier learns the newest revocations from the change
feed it was configured to follow. These tests attack that:

* a credential revoked after the last signature, presented against that stale list, is refused as
  ``revoked`` (the old verifier dropped the list and fetched the stale one again: it verified);
* the feed can only add set bits: a change saying ``active`` does not clear a bit the signed list
  sets, and a change to one entry of one list touches no other entry or list;
* the revocation service serves a stale list only while it is valid: an expired one is a 503.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

import revocation
from credgate.db import transaction, utcnow
from credgate.web import shutdown
from revocation.models import StatusListCredential
from revocation.status import change_status
from tests.support.status_entries import live_entry
from verifier import errors
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.fetch import FetchPolicy
from verifier.status import ChangeFeed, StatusListCache
from verifier.testing import Party, StatusListServer, credgate_credential
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
HOLDER = Party.generate()
LOOPBACK = FetchPolicy()


@pytest.fixture(scope="module")
def server():
    server = StatusListServer().start()
    LOOPBACK.allow(server.url)
    server.add_list("stale", AUTHORITY, "revocation")
    server.add_list("other", AUTHORITY, "revocation")
    yield server
    server.stop()


def verifier_following(server, clock=time.monotonic) -> tuple[Verifier, ChangeFeed]:
    trust = StaticTrustRegistry.from_dict({"onboarding_authority": AUTHORITY.did, "companies": {}})
    verifier = Verifier(DidResolver(), trust=trust)
    verifier.status = StatusListCache(
        verifier.verify_status_list, policy=LOOPBACK, short_ttl=0.0, clock=clock
    )
    # Not started: the changes below are what its long poll would hand over.
    return verifier, ChangeFeed(server.url, verifier.status)


def role(server, list_id: str, index: int) -> dict:
    status = server.entry(list_id, index)
    return credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=status)


def feed_change(server, list_id: str, index: int, status: str) -> dict:
    return {
        "seq": 1,
        "list_id": list_id,
        "url": server.list_url(list_id),
        "index": index,
        "status": status,
    }


def test_a_revocation_the_stale_list_does_not_show_is_refused(server, clock):
    verifier, feed = verifier_following(server, clock)
    revoked, neighbour = role(server, "stale", 10), role(server, "stale", 11)
    assert verifier.verify_credential(revoked).verified

    # The revocation service could not sign again: the list it serves still has bit 10 clear.
    feed.apply(feed_change(server, "stale", 10, "revoked"))
    result = verifier.verify_credential(revoked)
    assert result.error_types() == [errors.REVOKED]
    assert verifier.verify_credential(neighbour).verified  # only the revoked holder is affected

    # Fetched again (its TTL is 0 here) and still stale: still refused.
    clock.advance(0.01)
    assert verifier.verify_credential(revoked).error_types() == [errors.REVOKED]


def test_the_feed_cannot_clear_a_bit_the_signed_list_sets(server):
    verifier, feed = verifier_following(server)
    credential = role(server, "stale", 20)
    server.set("stale", 20)
    assert verifier.verify_credential(credential).error_types() == [errors.REVOKED]
    feed.apply(feed_change(server, "stale", 20, "active"))
    assert verifier.verify_credential(credential).error_types() == [errors.REVOKED]


def test_a_change_touches_only_its_own_entry_and_list(server):
    verifier, feed = verifier_following(server)
    feed.apply(feed_change(server, "stale", 30, "revoked"))
    assert verifier.verify_credential(role(server, "other", 30)).verified
    assert verifier.verify_credential(role(server, "stale", 31)).verified
    # An unknown status or a malformed index adds nothing (the list is fetched again instead).
    for index, status in ((40, "cleared-by-attacker"), ("40", "revoked"), (-1, "revoked")):
        feed.apply(feed_change(server, "stale", index, status))
    assert verifier.verify_credential(role(server, "stale", 40)).verified


def test_a_bit_is_forgotten_once_a_fetched_list_shows_it(server):
    verifier, feed = verifier_following(server)
    feed.apply(feed_change(server, "stale", 50, "suspended"))
    assert verifier.status.known_set(server.list_url("stale"), 50)
    assert verifier.verify_credential(role(server, "stale", 50)).error_types() == [errors.REVOKED]
    server.set("stale", 50)  # signed again with the bit
    assert verifier.verify_credential(role(server, "stale", 51)).verified  # fetches the list
    assert not verifier.status.known_set(server.list_url("stale"), 50)
    assert verifier.verify_credential(role(server, "stale", 50)).error_types() == [errors.REVOKED]


# -- the revocation service ----------------------------------------------------------------------


@pytest.mark.db
def test_the_last_signed_list_is_served_only_until_it_expires(settings, db, request):
    app = revocation.create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "AGENT_URL": "http://127.0.0.1:9",
            "AGENT_API_KEY": "unused",  # the signer is down
        }
    )
    # Its signing job would retry against the down signer for the rest of the session.
    request.addfinalizer(lambda: shutdown(app))
    client = app.test_client()
    got = live_entry(db, "http://status.test")
    signed_body = json.dumps({"id": got.list_url, "proof": {"note": "the last signature"}})
    with transaction(db) as session:
        session.add(
            StatusListCredential(
                list_id=got.list_id,
                version=0,
                body=signed_body,
                etag="e" * 40,
                valid_until=utcnow() + timedelta(minutes=5),
                signed_at=utcnow(),
            )
        )
    change_status(db, got.entry_id, "revoke", reason="while the signer is down", actor="t")

    served = client.get(f"/status/{got.list_id}")
    assert served.status_code == 200
    assert served.get_data(as_text=True) == signed_body

    with transaction(db) as session:
        stored = session.get(StatusListCredential, got.list_id)
        stored.valid_until = utcnow() - timedelta(seconds=1)
    expired = client.get(f"/status/{got.list_id}")
    assert expired.status_code == 503
    assert expired.get_json()["type"].endswith("/status-list-unavailable")
    assert expired.headers["Retry-After"]
