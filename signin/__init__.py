"""The sign-in kit: how a service's pages look and sign people in.

:mod:`signin.pages` is the admin-pages kit (a blueprint factory taking the URL prefix and a
:class:`~signin.pages.SignInPolicy`, the shared base template and stylesheet);
:mod:`signin.handoff` is the service's side of the gateway's QR-login hand-off (with PKCE,
:mod:`signin.pkce`); :mod:`signin.governance` admits the data space's Governance admins from
what was handed over.
"""

from signin.handoff import SignedIn, add_wallet_routes, admit, refusal, wallet_available
from signin.pages import (
    SignInPolicy,
    admin_pages,
    page_blueprint,
    refusal_told,
    tell,
    told,
)

__all__ = [
    "SignInPolicy",
    "SignedIn",
    "add_wallet_routes",
    "admin_pages",
    "admit",
    "page_blueprint",
    "refusal",
    "refusal_told",
    "tell",
    "told",
    "wallet_available",
]
