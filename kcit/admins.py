"""Who may use KCIT's admin pages: an operator signed in with the API token, or a data-space
governance admin signed in with the wallet through the gateway's QR login
(:mod:`signin.governance`), whose Governance RoleCredential KCIT checks against its own
registry (:class:`kcit.trust.KcitDatabaseTrust`) and whose status entry it re-reads on every
request, so revoking the credential signs the pages out at once.
"""

from __future__ import annotations

from kcit.context import KcitContext
from kcit.trust import KcitDatabaseTrust
from revocation.store import status_reader
from signin.governance import GovernanceAdmins
from verifier.engine import Verifier

SESSION_KEY = "kcit_governance"


def governance_admins(ctx: KcitContext) -> GovernanceAdmins:
    return GovernanceAdmins(
        verifier=lambda: Verifier(
            ctx.resolver,
            require_status=False,
            trust=KcitDatabaseTrust(ctx.factory, ctx.onboarding_authority),
        ),
        status_of=status_reader(ctx.factory),
        session_key=SESSION_KEY,
    )
