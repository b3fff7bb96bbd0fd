"""A service's governance sign-in over what the gateway handed over (verifier/governance.py),
without agents: the Governance role from the onboarding authority opens a session, anything else
is refused with its own error type, and the session ends as soon as the credential's status entry
is no longer active. The full flow with agents and Chromium is tests/test_governance_login.py."""

from __future__ import annotations

import pytest
from flask import Flask

from credgate.problems import Problem
from verifier.governance import authority_admins
from verifier.signin import SignedIn
from verifier.testing import Party, credgate_credential

AUTHORITY = Party.generate()
STRANGER = Party.generate()
ADMIN = Party.generate()
STATUS = {"id": "https://status.test/status/1#7", "type": "StatusList2021Entry",
          "statusPurpose": "revocation", "statusListIndex": "7",
          "statusListCredential": "https://status.test/status/1"}  # fmt: skip


def role_credential(issuer: Party, subject: str, roles: list[str]) -> dict:
    credential = credgate_credential("RoleCredential", issuer, subject, status=STATUS)
    credential.pop("proof")
    credential["credentialSubject"]["roles"] = roles
    return issuer.sign(credential)


@pytest.fixture()
def app():
    app = Flask(__name__)
    app.secret_key = "test"
    return app


@pytest.fixture()
def status():
    return {"now": "active"}


@pytest.fixture()
def admins(status):
    return authority_admins(lambda: AUTHORITY.did, lambda _entry: status["now"], "test_governance")


def handed(credential: dict, holder: Party = ADMIN) -> SignedIn:
    return SignedIn(holder.did, "governance", (credential,))


def test_governance_role_from_the_authority_signs_in_until_revoked(app, admins, status):
    with app.test_request_context():
        actor = admins.sign_in(handed(role_credential(AUTHORITY, ADMIN.did, ["Governance"])))
        assert actor == f"governance:{ADMIN.did}"
        assert admins.signed_in() == actor
        status["now"] = "suspended"
        assert admins.signed_in() is None
        status["now"] = "active"
        assert admins.signed_in() is None  # the session is gone, not paused


@pytest.mark.parametrize(
    ("credential", "slug", "http"),
    [
        pytest.param(lambda: role_credential(STRANGER, ADMIN.did, ["Governance"]),
                     "untrusted-issuer", 401, id="not-the-authority"),
        pytest.param(lambda: role_credential(AUTHORITY, ADMIN.did, ["DataProvider"]),
                     "role-missing", 403, id="another-role"),
        pytest.param(lambda: role_credential(AUTHORITY, STRANGER.did, ["Governance"]),
                     "role-missing", 403, id="someone-elses-credential"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_with_its_type(app, admins, credential, slug, http):
    with app.test_request_context():
        with pytest.raises(Problem) as refused:
            admins.sign_in(handed(credential()))
        assert (refused.value.slug, refused.value.status) == (slug, http)
        assert admins.signed_in() is None


def test_a_governance_credential_without_a_status_entry_of_ours_cannot_sign_in(app, admins, status):
    """Fail closed: a credential the service could never see revoked does not open a session."""
    unlisted = credgate_credential("RoleCredential", AUTHORITY, ADMIN.did)  # no credentialStatus
    unlisted.pop("proof")
    unlisted["credentialSubject"]["roles"] = ["Governance"]
    status["now"] = None  # and one whose entry this service's database does not hold
    with app.test_request_context():
        for credential in (AUTHORITY.sign(unlisted),
                           role_credential(AUTHORITY, ADMIN.did, ["Governance"])):  # fmt: skip
            with pytest.raises(Problem) as refused:
                admins.sign_in(handed(credential))
            assert refused.value.slug == "status-unknown"
        assert admins.signed_in() is None


def test_a_revoked_governance_credential_cannot_sign_in(app, admins, status):
    status["now"] = "revoked"
    with app.test_request_context():
        with pytest.raises(Problem) as refused:
            admins.sign_in(handed(role_credential(AUTHORITY, ADMIN.did, ["Governance"])))
        assert refused.value.slug == "suspended"
        assert admins.signed_in() is None
