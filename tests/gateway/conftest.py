"""The gateway tests' fixtures."""

from __future__ import annotations

import pytest

from tests.support.gateway import AUTHORITY, COMPANY
from verifier.trust import StaticTrustRegistry


@pytest.fixture(scope="module")
def trust():
    """A module's trust registry: AUTHORITY onboards, COMPANY is active (a test may change it)."""
    return StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did, companies={COMPANY.did: "active"}
    )


@pytest.fixture
def client(app):
    """A test client with a cookie jar of its own for each test: the gateway's tests sign in,
    hand over and sign out, and no test may find another's session."""
    return app.test_client()
