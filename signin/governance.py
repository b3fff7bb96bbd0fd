"""Governance admins on the suite's admin pages (KCIT, the issuer, the status lists): signed in
by the gateway's QR login with a RoleCredential granting ``Governance`` from the onboarding
authority, or, for automation, with an operator API token (:mod:`credgate.pages`).

The service checks the handed-over credential again with its own trust
(:func:`signin.handoff.admit`) and keeps a governance session in its signed session cookie,
naming the credential's status entry. Every request re-reads that entry (``status_of``: the
revocation tables, same database), so revoking or suspending the Governance credential signs
the pages out at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import session

from credgate.db import utcnow
from credgate.pages import operator_sign_in, signed_in_operator
from credgate.problems import Problem
from signin.handoff import SignedIn, admit, refusal
from signin.pages import SignInPolicy
from verifier.credentials import check_credential
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.pdp import Role
from verifier.trust import StaticTrustRegistry

GOVERNANCE = Role("Governance")
SESSION_TTL = timedelta(hours=8)
ACTIVE = "active"

#: (credentialStatus entry, credential id, issuer DID) -> the entry's status, or None when the
#: entry is not one this service allocated to that credential of that issuer.
StatusOf = Callable[[Any, Any, str | None], str | None]


@dataclass(frozen=True)
class GovernanceAdmins:
    """One service's governance sign-in: its ``verifier`` (built per sign-in, with the trust the
    service follows), how it reads a status entry now, and its session key."""

    verifier: Callable[[], Verifier]
    status_of: StatusOf
    session_key: str

    def sign_in(self, signed_in: SignedIn) -> str:
        """Check what the gateway handed over and open the browser's governance session;
        returns the actor name (``governance:<holder DID>``). A problem refuses."""
        decision, results = admit(self.verifier(), signed_in, GOVERNANCE)
        if not decision.allow:
            raise refusal(results) or Problem(
                "role-missing",
                "Not a governance admin",
                403,
                "sign in with a RoleCredential that grants Governance",
            )
        credential = decision.granted_by[0]
        issuer = check_credential(credential).issuer
        status = credential.get("credentialStatus")
        state = self.status_of(status, credential.get("id"), issuer)
        if state is None:  # a credential this service could never see revoked: fail closed
            raise Problem(
                "status-unknown",
                "Credential status unknown",
                401,
                "the Governance credential has no status entry here",
            )
        if state != ACTIVE:
            raise Problem(
                "suspended",
                "Credential not active",
                401,
                "the Governance credential is suspended or revoked",
            )
        expires = utcnow() + SESSION_TTL
        valid_until = check_credential(credential).valid_until
        if isinstance(valid_until, datetime) and valid_until < expires:
            expires = valid_until
        session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
        session[self.session_key] = {
            "holder": signed_in.holder,
            "credential": str(credential.get("id")),
            "issuer": issuer,
            "status": status,
            "expires": expires.timestamp(),
        }
        return f"governance:{signed_in.holder}"

    def signed_in(self) -> str | None:
        """The signed-in admin's actor name (``token:<name>`` or ``governance:<DID>``), if the
        token or the Governance credential still holds."""
        operator = signed_in_operator()
        if operator is not None:
            return operator
        held: Any = session.get(self.session_key)
        if not isinstance(held, dict):
            return None
        if (
            float(held.get("expires", 0)) <= utcnow().timestamp()
            or self.status_of(held.get("status"), held.get("credential"), held.get("issuer"))
            != ACTIVE
        ):
            session.pop(self.session_key, None)
            return None
        return f"governance:{held['holder']}"


def authority_admins(
    authority: Callable[[], str | None], status_of: StatusOf, session_key: str
) -> GovernanceAdmins:
    """Governance admins of a service that trusts only the onboarding authority whose DID
    ``authority()`` names (asked at sign-in only: finding it may need the agent)."""

    def verifier() -> Verifier:
        trust = StaticTrustRegistry(onboarding_authority=authority())
        return Verifier(DidResolver(), trust=trust, require_status=False)

    return GovernanceAdmins(verifier=verifier, status_of=status_of, session_key=session_key)


def governance_policy(
    client: str,
    admins: Callable[[], GovernanceAdmins],
    *,
    authority: str = "the onboarding authority",
) -> SignInPolicy:
    """The admin pages' sign-in (:func:`signin.pages.admin_pages`) for governance admins of the
    service ``client`` (its name at the gateway), or operators with the API token; ``admins()``
    is asked per request (it may need the app)."""
    return SignInPolicy(
        client=client,
        portal="governance",
        signed_in=lambda: admins().signed_in(),
        token_sign_in=operator_sign_in,
        wallet_sign_in=lambda signed_in: admins().sign_in(signed_in),
        wallet_text="Data-space governance admins sign in with their wallet: the gateway shows a "
        f"QR code, the wallet presents a Role credential granting Governance from {authority}.",
    )
