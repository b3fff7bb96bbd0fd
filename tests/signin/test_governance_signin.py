"""A service's governance sign-in over what the gateway handed over (signin/governance.py),
without agents, against the real status tables (revocation.store): the Governance role from the
onboarding authority opens a session, anything else is refused with its own error type, and the
session ends as soon as the credential's status entry is no longer active. The full flow with
agents and Chromium is tests/signin/test_governance_login.py."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest
from flask import Flask

from credgate.problems import Problem
from revocation.status import change_status
from revocation.store import status_reader
from signin.governance import authority_admins
from signin.handoff import SignedIn
from tests.support.status_entries import live_entry
from verifier.testing import Party, credgate_credential

pytestmark = pytest.mark.db

AUTHORITY = Party.generate()
STRANGER = Party.generate()
ADMIN = Party.generate()


def role_credential(
    issuer: Party,
    subject: str,
    roles: list[str],
    status: dict | None,
    credential_id: str | None = None,
) -> dict:
    credential = credgate_credential("RoleCredential", issuer, subject, status=status)
    credential.pop("proof")
    credential["credentialSubject"]["roles"] = roles
    if credential_id is not None:
        credential["id"] = credential_id
    return issuer.sign(credential)


@pytest.fixture()
def app():
    app = Flask(__name__)
    app.secret_key = "test"
    return app


@pytest.fixture()
def entry(db):
    """A live status entry of ours (reserved, then marked issued) for one credential."""
    credential_id = f"urn:uuid:{uuid4()}"
    got = live_entry(
        db,
        "http://status.test",
        issuer_did=AUTHORITY.did,
        purpose="suspension",
        credential_id=credential_id,
    )
    return Entry(got.entry_id, credential_id, got.credential_status())


@dataclass(frozen=True)
class Entry:
    entry_id: int
    credential_id: str
    status: dict


@pytest.fixture()
def admins(db):
    return authority_admins(lambda: AUTHORITY.did, status_reader(db), "test_governance")


def handed(credential: dict, holder: Party = ADMIN) -> SignedIn:
    return SignedIn(holder.did, "governance", (credential,))


def governance(
    entry,
    issuer: Party = AUTHORITY,
    subject: str = ADMIN.did,
    roles: tuple[str, ...] = ("Governance",),
) -> dict:
    return role_credential(issuer, subject, list(roles), entry.status, entry.credential_id)


def test_governance_role_from_the_authority_signs_in_until_suspended(app, db, admins, entry):
    with app.test_request_context():
        actor = admins.sign_in(handed(governance(entry)))
        assert actor == f"governance:{ADMIN.did}"
        assert admins.signed_in() == actor
        change_status(db, entry.entry_id, "suspend", reason="audit", actor="token:test")
        assert admins.signed_in() is None
        change_status(db, entry.entry_id, "reinstate", reason="audit done", actor="token:test")
        assert admins.signed_in() is None  # the session is gone, not paused


@pytest.mark.parametrize(
    ("changes", "slug", "http"),
    [
        pytest.param({"issuer": STRANGER}, "untrusted-issuer", 401, id="not-the-authority"),
        pytest.param({"roles": ("DataProvider",)}, "role-missing", 403, id="another-role"),
        pytest.param({"subject": STRANGER.did}, "role-missing", 403, id="someone-elses-credential"),
    ],
)
def test_anything_else_is_refused_with_its_type(app, admins, entry, changes, slug, http):
    with app.test_request_context():
        with pytest.raises(Problem) as refused:
            admins.sign_in(handed(governance(entry, **changes)))
        assert (refused.value.slug, refused.value.status) == (slug, http)
        assert admins.signed_in() is None


def test_a_governance_credential_without_a_status_entry_of_ours_cannot_sign_in(app, admins):
    """Fail closed: a credential the service could never see revoked does not open a session."""
    elsewhere = {
        "id": "https://status.elsewhere.test/status/1#7",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://status.elsewhere.test/status/1",
    }
    with app.test_request_context():
        for status in (None, elsewhere):
            credential = role_credential(AUTHORITY, ADMIN.did, ["Governance"], status)
            with pytest.raises(Problem) as refused:
                admins.sign_in(handed(credential))
            assert refused.value.slug == "status-unknown"
        assert admins.signed_in() is None


def test_a_copied_status_entry_does_not_make_a_forgery_live(app, admins, entry):
    """The entry of a live Governance credential, copied into another credential (one the
    authority issued to someone, with the same roles), is not that credential's entry."""
    with app.test_request_context():
        for credential_id in (f"urn:uuid:{uuid4()}", None):
            credential = role_credential(
                AUTHORITY, ADMIN.did, ["Governance"], entry.status, credential_id
            )
            with pytest.raises(Problem) as refused:
                admins.sign_in(handed(credential))
            assert refused.value.slug == "status-unknown"
        assert admins.signed_in() is None


def test_a_revoked_governance_credential_cannot_sign_in(app, db, admins, entry):
    change_status(db, entry.entry_id, "revoke", reason="left the board", actor="token:test")
    with app.test_request_context():
        with pytest.raises(Problem) as refused:
            admins.sign_in(handed(governance(entry)))
        assert refused.value.slug == "suspended"
        assert admins.signed_in() is None
