"""The operator's admin page: find status entries, revoke / suspend / reinstate them.

Signed in by the gateway's QR login with a Governance role credential from the onboarding
authority (:mod:`signin.governance`), or with an operator API token; either is checked again on
every request, so revoking it signs the page out. The sign-in, the CSRF token on every form and
the pages' look come from the admin-pages kit (:mod:`signin.pages`). Templates autoescape
everything they show.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for

from agents.tenants import tenant_did
from credgate.pages import check_csrf
from credgate.web import db_sessions
from revocation.entries import admin_entries, entry_record
from revocation.status import ACTIONS, change_status
from revocation.store import status_reader
from signin.governance import GovernanceAdmins, authority_admins, governance_policy
from signin.pages import admin_pages, refusal_told, tell, told


def governance_admins() -> GovernanceAdmins:
    """Governance admins: a Role credential from the onboarding authority (the issuer agent's
    tenant named by ``REVOCATION_AUTHORITY_TENANT``)."""
    factory = db_sessions()
    name = current_app.config["REVOCATION_AUTHORITY_TENANT"]
    return authority_admins(
        lambda: tenant_did(factory, "issuer", name), status_reader(factory), "revocation_governance"
    )


policy = governance_policy("revocation", governance_admins)


def entries_page(actor: str):
    query = request.args.get("q", "").strip()[:500]
    return render_template(
        "revocation/entries.html",
        actor=actor,
        query=query,
        entries=admin_entries(db_sessions(), query or None),
        message=told(),
    )


admin = admin_pages(
    "revocation_admin",
    __name__,
    prefix="/status/admin",
    policy=policy,
    title="credgate status lists",
    home=entries_page,
    template_folder="templates",
)


@admin.context_processor
def template_helpers():
    return {"actions": ACTIONS}


@admin.get("/status/admin/entries/<int:entry_id>")
def entry_page(entry_id: int):
    actor = policy.signed_in()
    if actor is None:
        return redirect(url_for(".home"), 303)
    return render_template(
        "revocation/entry.html", actor=actor, entry=entry_record(db_sessions(), entry_id)
    )


@admin.post("/status/admin/entries/<int:entry_id>/<action>")
def change(entry_id: int, action: str):
    check_csrf()
    actor = policy.require()
    reason = request.form.get("reason", "")
    with refusal_told(f"Entry {entry_id} unchanged"):
        changed = change_status(db_sessions(), entry_id, action, reason=reason, actor=actor)
        tell(f"Entry {changed.entry_id} is now {changed.status}.")
    return redirect(url_for(".home", q=request.form.get("q", "")), 303)
