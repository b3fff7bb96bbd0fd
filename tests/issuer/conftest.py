"""The issuer tests' fixtures: a guard that a refused request left
nothing behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.issuer_wallet import totals


@pytest.fixture
def unchanged(db) -> Iterator[None]:
    """Asserts, after the test, that no record was made and no status index spent."""
    before = totals(db)
    yield
    assert totals(db) == before
