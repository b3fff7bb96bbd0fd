"""The issuer tests' fixtures: the issuer's own DID, and a guard that a refused request left
nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.support.issuer_wallet import totals


@pytest.fixture(scope="module")
def authority_did(issuer_url: str) -> str:
    """The DID the issuer signs with (the suite's onboarding authority)."""
    return requests.get(f"{issuer_url}/issuer/did", timeout=10).json()["did"]


@pytest.fixture
def unchanged(db) -> Iterator[None]:
    """Asserts, after the test, that no record was made and no status index spent."""
    before = totals(db)
    yield
    assert totals(db) == before
