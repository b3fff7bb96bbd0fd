"""The gateway tests' fixtures."""

from __future__ import annotations

import pytest


@pytest.fixture
def client(app):
    """A test client with a cookie jar of its own for each test: the gateway's tests sign in,
    hand over and sign out, and no test may find another's session."""
    return app.test_client()
