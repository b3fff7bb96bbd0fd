"""The KCIT tests' fixtures."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kcit.models import Company
from kcit.registry import transition


@pytest.fixture(scope="module", autouse=True)
def retired(db):
    """After each module: remove the companies it identified, so that depute (when the session's
    suite runs) does not provision them in the background of later tests."""
    yield
    with db() as session:
        ids = list(
            session.scalars(
                select(Company.id).where(
                    Company.status.in_(("identified", "suspended")), Company.provisioning.is_(None)
                )
            )
        )
    for company_id in ids:
        transition(db, company_id, "remove", actor="test", reason="test teardown")
