"""The wallet tests' fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.wallet import ShortLinks


@pytest.fixture(scope="module")
def links() -> Iterator[ShortLinks]:
    """Short links (``/i/<id>``) on a loopback port, as the issuer and the gateway serve them."""
    links = ShortLinks()
    yield links
    links.stop()
