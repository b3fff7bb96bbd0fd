"""The admin login pages of the issuer, KCIT, the status lists and depute, and the gateway's login
page, in headless Chromium against the running suite: each is the kit's shared page, styled by
the one stylesheet (loaded under the pages' CSP, which allows no inline style), offers the
wallet and the token, and signs the operator in. Screenshots go to ``CREDGATE_SCREENSHOTS``
when set."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = [pytest.mark.agents, pytest.mark.db]

ADMIN_PAGES = {
    "issuer": "/issuer/admin",
    "kcit": "/kcit/admin",
    "revocation": "/status/admin",
    "depute": "/depute/",
}

#: True when the shared stylesheet is loaded and applied (a page it did not reach, e.g. blocked
#: by the CSP, has no rules and the browser's serif font).
STYLED = (
    "document.styleSheets.length === 1 && document.styleSheets[0].cssRules.length > 20"
    " && getComputedStyle(document.body).fontFamily.startsWith('system-ui')"
)


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_admin_login_pages_share_the_kit_and_sign_the_operator_in(suite, operator, chromium, shots):
    browser = chromium(window_size="1100,800")
    try:
        for service, path in ADMIN_PAGES.items():
            browser.open(suite.servers[service].url + path)
            assert browser.eval(STYLED), service
            assert browser.eval("document.getElementById('wallet-login') !== null"), service
            assert browser.eval("document.querySelectorAll('[style], style').length") == 0
            browser.screenshot(shots / f"{service}-admin-login.png")
            browser.submit("form[action$='/login']", {"token": operator["Authorization"][7:]})
            assert "Sign out" in browser.text() or "Companies" in browser.text(), service
            assert browser.eval(STYLED), service
            browser.screenshot(shots / f"{service}-admin-home.png", full_page=True)
    finally:
        browser.close()
    assert all((shots / f"{s}-admin-login.png").stat().st_size > 10_000 for s in ADMIN_PAGES)


def test_the_gateway_login_page_uses_the_shared_stylesheet(suite, chromium, shots):
    browser = chromium(window_size="1100,900")
    try:
        browser.open(suite.servers["kcit"].url + "/kcit/admin")
        browser.click("#wallet-login")
        browser.wait("document.getElementById('state') !== null")
        assert browser.eval(STYLED)
        assert browser.eval("document.querySelectorAll('.qr svg').length") >= 1
        browser.screenshot(shots / "gateway-login.png")
    finally:
        browser.close()
    assert (shots / "gateway-login.png").stat().st_size > 10_000


def test_the_other_pages_load_the_one_stylesheet_too(suite, chromium, shots):
    """The public pages, the wallet's phone screen and the suite's start page: no page keeps a
    stylesheet of its own."""
    urls = {name: server.url for name, server in suite.servers.items()}
    pages = {
        "start": f"{urls['verifier']}/start",
        "gateway-home": f"{urls['verifier']}/",
        "issuer-onboarding": f"{urls['issuer']}/onboarding",
        "kcit-register": f"{urls['kcit']}/kcit/register",
        "wallet-open": f"{urls['wallet']}/wallet/",
    }
    browser = chromium(window_size="1100,800")
    try:
        for name, url in pages.items():
            browser.open(url)
            assert browser.eval(STYLED), name
            assert browser.eval("document.querySelectorAll('[style], style').length") == 0, name
            browser.screenshot(shots / f"{name}.png")
    finally:
        browser.close()
