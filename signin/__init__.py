"""The sign-in kit: how a service's admin pages sign people in through the gateway's QR login.

:mod:`signin.handoff` is the service's side of the gateway's code hand-off (with PKCE,
:mod:`signin.pkce`); :mod:`signin.governance` admits the data space's Governance admins from
what was handed over.
"""

from signin.handoff import SignedIn, add_wallet_routes, admit, refusal, wallet_available

__all__ = ["SignedIn", "add_wallet_routes", "admit", "refusal", "wallet_available"]
