"""Who may use KCIT's admin pages: an operator signed in with the API token
(:mod:`credgate.pages`), or a data-space governance admin signed in with the wallet through the
gateway's QR login, holding a RoleCredential that grants ``Governance`` from the onboarding
authority (:mod:`verifier.signin`; KCIT verifies the handed-over credential again).

A governance session lives in KCIT's signed session cookie and names the credential's status
entry: every request re-reads that entry from the revocation tables (same database), so revoking
or suspending the admin's Governance credential signs the pages out at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import session

from credgate.db import utcnow
from credgate.pages import signed_in_operator
from credgate.problems import Problem
from kcit.context import KcitContext
from kcit.trust import KcitDatabaseTrust
from revocation.store import entry_status
from verifier.credentials import check_credential
from verifier.engine import Verifier
from verifier.pdp import Role
from verifier.signin import SignedIn, admit

GOVERNANCE = Role("Governance")
SESSION_KEY = "kcit_governance"
SESSION_TTL = timedelta(hours=8)


def governance_sign_in(ctx: KcitContext, signed_in: SignedIn) -> str:
    """Check what the gateway handed over and open the browser's governance session; returns
    the actor name (``governance:<holder DID>``)."""
    verifier = Verifier(ctx.resolver, trust=KcitDatabaseTrust(ctx.factory, ctx.authority_tenant),
                        require_status=False)  # fmt: skip
    decision, results = admit(verifier, signed_in, GOVERNANCE)
    if not decision.allow:
        first = next((e for r in results for e in r.errors), None)
        if first is not None:
            raise Problem(first.slug, "Sign-in refused", 401, first.detail)
        raise Problem("role-missing", "Not a governance admin", 403,
                      "sign in with a RoleCredential that grants Governance")  # fmt: skip
    credential = next(r.credential for r in results
                      if r.credential.get("id") == decision.credentials[0])  # fmt: skip
    status = credential.get("credentialStatus")
    with ctx.factory() as db:
        if entry_status(db, status) not in ("active", None):
            raise Problem("suspended", "Credential not active", 401,
                          "the Governance credential is suspended or revoked")  # fmt: skip
    expires = utcnow() + SESSION_TTL
    valid_until = check_credential(credential).valid_until
    if isinstance(valid_until, datetime) and valid_until < expires:
        expires = valid_until
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[SESSION_KEY] = {
        "holder": signed_in.holder,
        "credential": str(credential.get("id")),
        "status": status if isinstance(status, dict) else None,
        "expires": expires.timestamp(),
    }
    return f"governance:{signed_in.holder}"


def signed_in_admin(ctx: KcitContext) -> str | None:
    """The signed-in admin's actor name (``token:<name>`` or ``governance:<DID>``), if the
    token or the Governance credential still holds."""
    operator = signed_in_operator()
    if operator is not None:
        return operator
    held: Any = session.get(SESSION_KEY)
    if not isinstance(held, dict):
        return None
    if float(held.get("expires", 0)) <= utcnow().timestamp() or not _still_active(ctx, held):
        session.pop(SESSION_KEY, None)
        return None
    return f"governance:{held['holder']}"


def _still_active(ctx: KcitContext, held: dict[str, Any]) -> bool:
    with ctx.factory() as db:
        return entry_status(db, held.get("status")) in ("active", None)
