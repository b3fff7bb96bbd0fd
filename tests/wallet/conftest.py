"""The wallet tests' fixtures: short links, and a wallet service of the module's own (over the
session's holder agent and hub) with an onboarding authority it trusts, a stranger it does not,
and a status-list server whose lists the authority's publisher signs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.wallet import ShortLinks, publisher_trust, serving_wallet
from verifier.testing import Party, serving_lists

PUBLISHER = Party.generate()


@pytest.fixture(scope="module")
def links() -> Iterator[ShortLinks]:
    """Short links (``/i/<id>``) on a loopback port, as the issuer and the gateway serve them."""
    links = ShortLinks()
    yield links
    links.stop()


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(
        ("wallet-revocation", PUBLISHER, "revocation"),
        ("wallet-suspension", PUBLISHER, "suspension"),
    )


@pytest.fixture(scope="module")
def authority(tenant):
    """The onboarding authority: an issuer tenant the wallet's trust registry names."""
    return tenant("issuer", "wallet-authority")


@pytest.fixture(scope="module")
def stranger(tenant):
    """An issuer nobody vouches for."""
    return tenant("issuer", "wallet-stranger")


@pytest.fixture(scope="module")
def service(suite, settings, db, authority, links, status_server, clock):
    """A wallet service over the session's holder agent and hub, with a trust registry of its
    own (the suite's shares the verifier's trust file with other tests)."""
    yield from serving_wallet(
        suite,
        settings,
        db,
        publisher_trust(authority, PUBLISHER),
        # Loopback hosts are opened only when allow-listed: the short links and status lists.
        [links.url, status_server.url],
        WALLET_CLOCK=clock,  # advanced past the status-list cache's lifetime
    )
