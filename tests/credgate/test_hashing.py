"""One ``hash_token`` for every stored bearer secret, byte-identical to the hashes already stored.

Every service used to hash its own secrets (``hashlib.sha256(token.encode()).hexdigest()``, written
five times); rows written then must still be found now. So each lookup is tried on a row whose hash
was made by that old formula, and each write is compared with it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from types import SimpleNamespace
from uuid import uuid4

import pytest
from sqlalchemy import select

from credgate.db import transaction, utcnow
from credgate.hashing import hash_token
from credgate.tokens import ApiToken, find_token
from depute import sessions as depute_sessions
from depute.models import AdminSession
from gateway.grants import GrantStore
from gateway.models import Grant
from issuer import certifiers
from issuer.models import Certifier
from kcit import registry
from kcit.models import Company
from kcit.validation import Registration


def stored_before(token: str) -> str:
    """What every service stored before there was one ``hash_token``."""
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize(
    ("token", "digest"),
    [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("café", "850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f466a7028a9bf4e"),
    ],
)
def test_hash_token_is_the_hex_sha256_of_the_utf8_bytes(token, digest):
    assert hash_token(token) == digest == stored_before(token)


# -- rows stored before are still found ---------------------------------------------------------


@pytest.mark.db
def test_an_operator_token_stored_before_is_found(db):
    token = secrets.token_urlsafe(16)
    with transaction(db) as session:
        session.add(ApiToken(name="before", token_hash=stored_before(token)))
    with db() as session:
        found = find_token(session, token)
    assert found is not None and found.name == "before"


@pytest.mark.db
def test_a_certifier_token_stored_before_is_found(db):
    token, name = secrets.token_urlsafe(16), f"c-{uuid4().hex[:12]}"
    with transaction(db) as session:
        session.add(
            Certifier(
                name=name, tenant="t", did=f"did:example:{name}", token_hash=stored_before(token)
            )
        )
    found = certifiers.authenticate(SimpleNamespace(factory=db), token)
    assert found is not None and found.name == name


@pytest.mark.db
def test_a_depute_session_stored_before_is_found_and_ended(db):
    token = secrets.token_urlsafe(16)
    with transaction(db) as session:
        session.add(
            AdminSession(
                token_hash=stored_before(token),
                company_id="kcit-x",
                holder_did="did:example:h",
                name="Ada",
                credential_id="urn:x",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    depute_sessions.logout(SimpleNamespace(factory=db), token)
    with db() as session:
        assert session.get(AdminSession, stored_before(token)).ended_at is not None


@pytest.mark.db
def test_a_gateway_session_is_stored_as_before_and_found(db):
    grant_id = uuid4().hex
    with transaction(db) as session:
        session.add(
            Grant(
                id=grant_id,
                kind="session",
                holder="did:example:h",
                credentials=[],
                credential_ids=[],
                status_entries=[],
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
    store = GrantStore(db)
    secret = store.attach_session(grant_id)
    assert secret is not None
    with db() as session:
        stored = session.scalar(select(Grant.session_hash).where(Grant.id == grant_id))
    assert stored == stored_before(secret)
    found = store.by_session(secret)
    assert found is not None and found.id == grant_id


@pytest.mark.db
def test_a_kcit_follow_link_is_stored_as_before_and_found(db):
    registration = Registration(
        legal_name="Hash & Co",
        numbers={},
        country="FR",
        subdivision=None,
        addresses=[],
        representatives=[],
        did=None,
        did_key=None,
    )
    company, token = registry.register(db, registration, key_id=None, actor="test")
    with db() as session:
        stored = session.scalar(select(Company.follow_hash).where(Company.id == company.id))
        assert stored == stored_before(token)
        assert registry.by_follow_token(session, token).id == company.id
