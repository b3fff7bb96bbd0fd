"""Governance admins sign in by QR login with a Governance role credential: KCIT's admin page
sends the browser to the gateway's login page, the admin's wallet (a holder-agent tenant)
answers its QR code with a RoleCredential granting Governance from the onboarding authority, the
browser comes back signed in as ``governance:<DID>``, and the admin's review is recorded under
that name. Revoking the credential signs the pages out within a second; a wallet whose role is
not Governance is refused at the gateway. The issuer's and the status lists' admin pages sign in
the same way (the last test): there the admin revokes a Role credential through the page, and
revoking the admin's own credential signs the page out.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import pytest
import requests

from agents.client import AgentError
from tests.support.browser import Chromium
from tests.support.depute import registration
from tests.support.didcomm import connect
from tests.support.gateway_wallet import AgentWallet, issue_with_status
from tests.support.issuer_wallet import operator_headers
from tests.support.status_entries import revoke_entry

pytestmark = [pytest.mark.agents, pytest.mark.db]


def role_holder(tenant, db, hub, urls, name: str, roles: list[str]):
    authority = tenant("issuer", "onboarding-authority")
    holder = tenant("holder", name)
    connection = connect(hub, authority, holder)[0]
    issued = issue_with_status(
        db,
        hub,
        authority,
        holder,
        connection,
        "RoleCredential",
        urls["revocation"],
        subject={"roles": roles},
    )
    return holder, issued


def revoke_by_operator(urls, operator: dict, entry_id: int) -> None:
    revoke_entry(urls["revocation"], entry_id, operator, "left the governance board")


def open_qr_login(
    browser: Chromium, page: str, gateway: str, client: str = "kcit", title: str = "KCIT admin"
) -> str:
    browser.open(page)
    browser.click("#wallet-login")
    browser.wait("document.getElementById('state') !== null")
    assert browser.eval("location.href").startswith(f"{gateway}/connect/{client}?")
    assert f"Sign in to {title}" in browser.text()
    return browser.eval("document.querySelector('.small code').textContent")


def test_a_governance_admin_signs_in_by_qr_reviews_and_is_signed_out_by_revocation(
    tenant, db, hub, settings, urls, tmp_path, chromium
):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    kcit, gateway = urls["kcit"], urls["verifier"]
    operator = operator_headers(settings, db)
    governor, issued = role_holder(tenant, db, hub, urls, "kcit-governor", ["Governance"])
    registered = requests.post(
        f"{kcit}/kcit/registrations",
        json=registration(
            f"Aurora Grid {secrets.token_hex(3)} GmbH",
            "DE136695976",
            "Mia Brandt",
            "mia@aurora.example",
        ),
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    company = registered.json()

    browser = chromium(window_size="1280,1000")
    try:
        short_url = open_qr_login(browser, f"{kcit}/kcit/admin", gateway)
        assert browser.eval("document.querySelector('.qr svg') !== null")
        browser.screenshot(shots / "kcit-qr-login.png")
        AgentWallet(hub, governor).scan_and_present(short_url)
        browser.arrive(f"{kcit}/kcit/admin")
        assert f"governance:{governor.did}" in browser.text()
        browser.screenshot(shots / "kcit-governance-signed-in.png", full_page=True)

        browser.open(f"{kcit}/kcit/admin/review/{company['id']}")
        browser.submit("form[action$='/approve']", {"reason": "register extract checked"})
        assert "identified" in browser.text()
        history = requests.get(
            f"{kcit}/kcit/admin/companies/{company['id']}/history", headers=operator, timeout=10
        ).json()["history"]
        approval = next(e for e in history if e["reason"] == "register extract checked")
        assert approval["actor"] == f"governance:{governor.did}"

        # The operator revokes the admin's Governance credential: the next page is sign-in.
        began = time.monotonic()
        revoke_by_operator(urls, operator, issued.status.entry_id)
        browser.open(f"{kcit}/kcit/admin")
        assert time.monotonic() - began < 1.0
        assert "Sign in with your wallet" in browser.text()
        assert f"governance:{governor.did}" not in browser.text()
    finally:
        browser.close()


def test_a_wallet_without_the_governance_role_cannot_sign_in(
    tenant, db, hub, urls, tmp_path, chromium
):
    provider, _ = role_holder(tenant, db, hub, urls, "kcit-provider", ["DataProvider"])
    browser = chromium()
    try:
        short_url = open_qr_login(browser, f"{urls['kcit']}/kcit/admin", urls["verifier"])
        wallet = AgentWallet(hub, provider)
        pres_ex_id = wallet.scan(short_url)
        try:
            provider.client.send_presentation(pres_ex_id, {"dif": {}})
        except AgentError:  # ACA-Py finds no credential for the definition: the wallet declines
            provider.client.presentation_problem_report(pres_ex_id, "no Governance credential")
        browser.wait("!document.getElementById('retry').hidden", timeout=10)
        assert browser.eval("location.pathname").startswith("/connect/kcit")
        assert "failed" in browser.text()
        browser.screenshot(tmp_path / "kcit-qr-refused.png")
    finally:
        browser.close()
    page = requests.get(f"{urls['kcit']}/kcit/admin", timeout=10)
    assert "Sign in with your wallet" in page.text


def test_the_issuer_and_status_list_admin_pages_sign_in_governance_by_qr(
    tenant, db, hub, settings, urls, tmp_path, chromium
):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    operator = operator_headers(settings, db)
    governor, own = role_holder(tenant, db, hub, urls, "status-governor", ["Governance"])
    _, other = role_holder(tenant, db, hub, urls, "status-provider", ["DataProvider"])
    issuer_admin = f"{urls['issuer']}/issuer/admin"
    status_admin = f"{urls['revocation']}/status/admin"
    wallet = AgentWallet(hub, governor)

    browser = chromium(window_size="1280,900")
    try:
        # The onboarding authority's role-request page.
        short_url = open_qr_login(
            browser, issuer_admin, urls["verifier"], "issuer", "Onboarding authority admin"
        )
        wallet.scan_and_present(short_url)
        browser.arrive(issuer_admin)
        assert f"governance:{governor.did}" in browser.text()
        browser.screenshot(shots / "issuer-governance-signed-in.png", full_page=True)

        # The status lists' page: revoke another participant's Role credential there.
        short_url = open_qr_login(
            browser, status_admin, urls["verifier"], "revocation", "Status lists admin"
        )
        wallet.scan_and_present(short_url)
        browser.arrive(status_admin)
        assert f"governance:{governor.did}" in browser.text()
        browser.open(f"{status_admin}?q={other.credential['id']}")
        browser.submit(
            f"form[action$='/entries/{other.status.entry_id}/revoke']",
            {"reason": "left the data space"},
        )
        assert f"Entry {other.status.entry_id} is now revoked." in browser.text()
        browser.screenshot(shots / "status-governance-revoked.png", full_page=True)
        entry = requests.get(
            f"{urls['revocation']}/status/entries/{other.status.entry_id}",
            headers=operator,
            timeout=10,
        ).json()
        assert entry["status"] == "revoked"
        assert entry["history"][-1]["actor"] == f"governance:{governor.did}"

        # Revoking the admin's own Governance credential signs both pages out at once.
        began = time.monotonic()
        revoke_by_operator(urls, operator, own.status.entry_id)
        for page in (status_admin, issuer_admin):
            browser.open(page)
            assert "Sign in with your wallet" in browser.text()
            assert f"governance:{governor.did}" not in browser.text()
        assert time.monotonic() - began < 1.0
    finally:
        browser.close()
