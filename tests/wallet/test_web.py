"""The wallet's phone screen in headless Chromium: create a wallet, scan by pasting a link and by
uploading a picture of a QR code, see who offers / asks for what, accept, share, decline, and the
credentials with their status. Screenshots go to ``$WALLET_SCREENSHOTS`` (or the test's tmp dir).

Chromium is driven over the DevTools protocol with aiohttp's websocket client (already installed
with ACA-Py), in a fresh profile, with background networking off: it talks only to loopback.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest
import requests

from tests.support.wallet import (
    credential_for,
    login_request,
    offer_link,
    png_of,
    verifier_outcome,
)

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def browser(chromium):
    browser = chromium(window_size="430,1000")
    yield browser
    browser.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    target = Path(os.environ.get("WALLET_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_phone_screen_end_to_end(
    browser,
    service,
    authority,
    stranger,
    links,
    suite,
    shots,
    tmp_path,
    status_server,
):
    home = f"{service}/wallet/"
    browser.open(home)
    assert "Open your wallet" in browser.text()
    browser.screenshot(shots / "01-open.png", full_page=True)

    browser.fill("form[action$='/create'] input[name=name]", "fiona")
    browser.fill("form[action$='/create'] input[name=pin]", "2468")
    browser.fill("form[action$='/create'] input[name=pin_again]", "2468")
    browser.click("form[action$='/create'] button")
    assert "Wallet fiona created." in browser.text()

    # Scan by pasting a link: an offer whose claims try to inject markup.
    hostile = "<b>Evil</b><script>window.pwned = 1</script>"
    credential = credential_for(
        authority, status=status_server.entry("wallet-revocation", 4242), legalName=hostile
    )
    browser.fill("#scan-url", offer_link(links, authority, credential))
    browser.click("#scan")
    page = browser.text()
    assert "Onboarding Authority offers you OnboardingCredential" in page
    assert "trusted by the data space" in page and hostile in page  # shown as text
    assert browser.eval("window.pwned") is None
    assert browser.eval("document.querySelectorAll('script').length") == 0
    browser.screenshot(shots / "02-offer.png", full_page=True)
    browser.click("#accept")
    assert "Credential received and stored." in browser.text()

    browser.open(home)
    page = browser.text()
    assert re.search(r"Credentials \(1\)\s+OnboardingCredential\s+valid", page), page
    assert "from Onboarding Authority" in page
    browser.screenshot(shots / "03-home.png", full_page=True)
    browser.click("a[href*='/wallet/credentials/']")
    page = browser.text()
    assert "valid" in page and authority.did in page and hostile in page
    browser.screenshot(shots / "03b-credential.png", full_page=True)
    browser.open(home)

    # An offer from a stranger: a warning, and no accepting it without saying so.
    browser.fill("#scan-url", offer_link(links, stranger, credential_for(stranger)))
    browser.click("#scan")
    assert "Unknown issuer." in browser.text()
    browser.screenshot(shots / "04-unknown-issuer.png", full_page=True)
    browser.click("#accept")
    assert "Offer from an unknown issuer" in browser.text()
    browser.click("#decline")
    assert "Declined." in browser.text()

    # Log in by uploading a picture of the login page's QR code.
    role = credential_for(authority, "RoleCredential", roles=["DataConsumer"])
    browser.open(home)
    browser.fill("#scan-url", offer_link(links, authority, role))
    browser.click("#scan")
    browser.click("#accept")
    pres_ex_id, link = login_request(suite, links)
    picture = tmp_path / "login.png"
    picture.write_bytes(png_of(link))
    browser.open(home)
    browser.upload("#scan-image", picture)
    since = suite.hub.last_seq
    browser.click("#scan")
    page = browser.text()
    assert "credgate gateway (gateway.credgate.test) asks you to show Data consumer portal" in page
    assert "Why: Log in to find and buy data products." in page
    assert "RoleCredential valid" in page
    browser.screenshot(shots / "05-proof-request.png", full_page=True)
    browser.click("#share")
    assert "Shared." in browser.text()
    assert verifier_outcome(suite, pres_ex_id, since)["verified"] == "true"

    # Declining the next login: the verifier sees it fail at once.
    pres_ex_id, link = login_request(suite, links)
    browser.open(home)
    browser.fill("#scan-url", link)
    browser.click("#scan")
    started = time.monotonic()
    browser.click("#decline")
    assert "Declined." in browser.text()
    assert verifier_outcome(suite, pres_ex_id, since, timeout=2.0)["state"] == "abandoned"
    assert time.monotonic() - started < 2.0

    # A used QR code, said plainly.
    used = offer_link(links, authority, credential_for(authority))
    requests.get(used, headers={"Accept": "application/json"}, timeout=5)
    browser.open(home)
    browser.fill("#scan-url", used)
    browser.click("#scan")
    assert "QR code already used" in browser.text()
    browser.screenshot(shots / "06-used-code.png", full_page=True)

    browser.open(f"{service}/wallet/history")
    page = browser.text()
    assert "proof request · credgate gateway" in page and "declined" in page
    browser.screenshot(shots / "07-history.png", full_page=True)


def test_cookie_and_csrf(service):
    session = requests.Session()
    page = session.get(f"{service}/wallet/", timeout=5)
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("credgate_wallet_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    forged = session.post(f"{service}/wallet/open", data={"name": "fiona", "pin": "2468"})
    assert forged.status_code == 403
    assert forged.json()["type"].endswith("/csrf-failed")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = session.post(
        f"{service}/wallet/open", data={"name": "fiona", "pin": "0000", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong wallet name or PIN" in wrong.text
