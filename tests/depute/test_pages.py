"""Depute's and KCIT's pages in the running suite: the depute page signs in, authorises an
employee (QR code and link), escapes what admins typed, refuses forged forms, changes status and
exports the audit; then headless Chromium (driven over the DevTools pipe) walks the KCIT
registration and admin pages and the depute page and saves screenshots (``CREDGATE_SCREENSHOTS``
names a folder to keep them)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from tests.support.depute import PROVISIONED_WITHIN
from tests.support.kcit import company_action
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = '<script>alert("x")</script>'


@pytest.fixture(scope="module")
def company(urls, operator):
    """An identified, provisioned company."""
    registered = requests.post(
        f"{urls['kcit']}/kcit/registrations",
        json={
            "legalName": "Pages Nordic Data Oy",
            "legalRegistrationNumber": {"vatId": "FR40303265045"},
            "country": "FR",
            "representatives": [{"name": "Pia Pages", "email": "pia@nordic.example"}],
        },
        timeout=10,
    ).json()
    company_action(
        urls["kcit"],
        registered["id"],
        "approve",
        operator,
        roles=["DataConsumer"],
        powers=["marketplace:read", "depute:admin"],
    )
    view = eventually(
        lambda: requests.get(
            f"{urls['depute']}/depute/api/companies/{registered['id']}",
            headers=operator,
            timeout=10,
        ).json(),
        PROVISIONED_WITHIN,
        0.1,
        until=lambda view: (view.get("provisioning") or {}).get("state") == "ready",
        what="the company provisioned",
    )
    return {**registered, **view}


def csrf_of(text: str) -> str:
    match = CSRF.search(text)
    assert match, text[:500]
    return match.group(1)


def test_depute_page_authorises_escapes_and_needs_csrf(urls, operator, company):
    depute = urls["depute"]
    page_url = f"{depute}/depute/companies/{company['id']}"
    with requests.Session() as browser:
        login = browser.get(f"{depute}/depute/", timeout=10)
        assert "Sign in" in login.text and login.cookies.get("credgate_depute_session")
        wrong = browser.post(
            f"{depute}/depute/login",
            data={"token": "nope", "csrf_token": csrf_of(login.text)},
            timeout=10,
        )
        assert wrong.status_code == 401
        forged = browser.post(
            f"{depute}/depute/login",
            data={"token": operator["Authorization"][7:], "csrf_token": "x"},
            timeout=10,
        )
        assert forged.status_code == 403
        home = browser.post(
            f"{depute}/depute/login",
            timeout=10,
            data={"token": operator["Authorization"][7:], "csrf_token": csrf_of(wrong.text)},
        )
        assert "Pages Nordic Data Oy" in home.text
        page = browser.get(page_url, timeout=10)
        token = csrf_of(page.text)
        assert "Pia Pages" in page.text and "pending" in page.text  # the bootstrap mandate

        authorise = f"{page_url}/authorise"
        data = {
            "name": f"Eve {XSS}",
            "email": "eve@nordic.example",
            "powers": ["marketplace:read"],
            "csrf_token": token,
        }
        assert (
            browser.post(authorise, data={**data, "csrf_token": "forged"}, timeout=10).status_code
            == 403
        )
        created = browser.post(authorise, data=data, timeout=10)
        assert created.status_code == 201, created.text[:300]
        assert "<svg" in created.text and f"{urls['issuer']}/i/" in created.text
        assert XSS not in created.text and "Eve &lt;script&gt;" in created.text

        refused = browser.post(
            authorise, timeout=10, data={**data, "name": "Mallory", "powers": ["catalogue:publish"]}
        )
        assert refused.status_code == 403 and "may not delegate" in refused.text

        authorisation_id = re.search(r"/authorisations/([0-9a-f-]{36})/revoke", created.text)
        revoke = f"{page_url}/authorisations/{authorisation_id.group(1)}/revoke"
        assert (
            browser.post(revoke, data={"csrf_token": "x", "reason": "r"}, timeout=10).status_code
            == 403
        )
        done = browser.post(revoke, data={"csrf_token": token, "reason": f"no {XSS}"}, timeout=10)
        assert "now abandoned" in done.text  # revoked before delivery: the offer is withdrawn
        exported = browser.get(f"{page_url}/audit.csv", timeout=10)
        assert exported.headers["Content-Type"].startswith("text/csv")
        assert 'no <script>alert(""x"")</script>' in exported.text  # CSV-quoted, not markup
        browser.post(f"{depute}/depute/logout", data={"csrf_token": token}, timeout=10)
        after = browser.get(page_url, allow_redirects=False, timeout=10)
        assert after.status_code == 303


# -- headless Chromium -----------------------------------------------------------------------------


def test_pages_in_headless_chromium(urls, operator, company, tmp_path, chromium):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser = chromium(window_size="1280,1000")
    try:
        kcit, depute = urls["kcit"], urls["depute"]
        browser.open(f"{kcit}/kcit/register")
        browser.submit(
            "form",
            {
                "legalName": "Chromium Test AG",
                "country": "FR",
                "vatId": "FR00000000000",
                "repName": f"Rex {XSS}",
                "repEmail": "rex@example.org",
            },
        )
        assert browser.eval("document.querySelectorAll('.error').length") >= 1
        assert browser.eval("document.querySelectorAll('script').length") == 0  # escaped
        browser.screenshot(shots / "kcit-register-errors.png", full_page=True)
        browser.submit("form", {"vatId": "FR40303265045"})
        assert "/kcit/register/" in browser.eval("location.pathname")
        browser.screenshot(shots / "kcit-registration-followed.png", full_page=True)

        token = operator["Authorization"][7:]
        browser.open(f"{kcit}/kcit/admin")
        browser.submit("form", {"token": token})
        browser.open(f"{kcit}/kcit/admin?q=Chromium")
        assert "Chromium Test AG" in browser.eval("document.body.innerText")
        browser.screenshot(shots / "kcit-admin-list.png", full_page=True)
        review = browser.eval("document.querySelector('a[href*=\"/kcit/admin/review/\"]').href")
        browser.open(review)
        browser.screenshot(shots / "kcit-admin-review.png", full_page=True)
        browser.submit("form[action$='/approve']", {"reason": "documents checked"})
        assert "identified" in browser.eval("document.body.innerText")
        browser.screenshot(shots / "kcit-admin-approved.png", full_page=True)

        browser.open(f"{depute}/depute/")
        browser.submit("form", {"token": token})
        browser.open(f"{depute}/depute/companies/{company['id']}")
        browser.eval(
            "document.querySelector('input[name=powers][value=\"marketplace:read\"]')"
            ".checked = true"
        )
        browser.submit(
            "form[action$='/authorise']", {"name": "Chris Chromium", "email": "chris@example.org"}
        )
        # The DIDComm QR code and, beside it, the OpenID4VCI offer's with its PIN.
        assert browser.eval("document.querySelectorAll('.qr svg').length") == 2
        assert browser.eval("/^[0-9]{6}$/.test(document.querySelector('.tx-code').textContent)")
        browser.screenshot(shots / "depute-authorised.png", full_page=True)
    finally:
        browser.close()
    assert all(
        (shots / name).stat().st_size > 10_000
        for name in ("kcit-register-errors.png", "kcit-admin-review.png", "depute-authorised.png")
    )
