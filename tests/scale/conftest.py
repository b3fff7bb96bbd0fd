"""The scale tests' fixtures: the database's notifier, settled."""

from __future__ import annotations

import pytest

from credgate.notify import Notifier, notifier_for
from tests.support.waits import eventually


@pytest.fixture
def notifier(db) -> Notifier:
    """The notifier, its listener connected on PostgreSQL (connecting wakes every waiter)."""
    notifier = notifier_for(db)
    notifier.listen()
    eventually(
        lambda: not notifier.postgres or notifier.listening,
        10,
        0.02,
        what="the listener to connect",
    )
    return notifier
