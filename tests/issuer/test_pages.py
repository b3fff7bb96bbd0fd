"""The issuer's HTML pages: person onboarding (form -> QR code) and the operator's role-request
page. Forms need their CSRF token, output is escaped, the admin page needs the operator."""

from __future__ import annotations

import re

import pytest
import requests

from credgate.tokens import ensure_operator_token
from tests.support.issuer_wallet import ledger

pytestmark = [pytest.mark.agents, pytest.mark.db]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = '<script>alert("x")</script>'


def csrf_of(page: requests.Response) -> str:
    match = CSRF.search(page.text)
    assert match, page.text
    return match.group(1)


def test_onboarding_page_shows_a_qr_code_for_the_invitation(issuer_url):
    with requests.Session() as browser:
        form = browser.get(f"{issuer_url}/onboarding", timeout=10)
        assert form.status_code == 200 and "text/html" in form.headers["Content-Type"]
        sent = browser.post(
            f"{issuer_url}/onboarding",
            data={"givenName": "Gita", "familyName": "Sharma", "csrf_token": csrf_of(form)},
            allow_redirects=False,
            timeout=10,
        )
        assert sent.status_code == 303
        page = browser.get(issuer_url + sent.headers["Location"], timeout=10)
    assert page.status_code == 200
    assert "<svg" in page.text and "didcomm://invite?oob=" in page.text
    for shown in (form, page):  # the pages' security headers, as on every page of the suite
        assert "frame-ancestors 'none'" in shown.headers["Content-Security-Policy"]
        assert shown.headers["Cache-Control"] == "no-store"
        assert shown.headers["Referrer-Policy"] == "no-referrer"
    short = re.search(r'href="(http://127\.0\.0\.1:\d+/i/[^"]+)"', page.text).group(1)
    invitation = requests.get(short, headers={"Accept": "application/json"}, timeout=10)
    assert invitation.status_code == 200 and "requests~attach" in invitation.json()


def test_onboarding_form_needs_its_csrf_token(issuer_url, db):
    before = ledger(db)
    with requests.Session() as browser:
        browser.get(f"{issuer_url}/onboarding", timeout=10)
        forged = browser.post(
            f"{issuer_url}/onboarding",
            data={"givenName": "Gita", "familyName": "Sharma", "csrf_token": "forged"},
            timeout=10,
        )
    assert forged.status_code == 403 and forged.json()["type"].endswith("/csrf-failed")
    bare = requests.post(
        f"{issuer_url}/onboarding", data={"givenName": "A", "familyName": "B"}, timeout=10
    )
    assert bare.status_code == 403
    assert ledger(db)["records"] == before["records"]


def test_onboarding_form_shows_schema_problems_escaped(issuer_url, db):
    before = ledger(db)
    with requests.Session() as browser:
        form = browser.get(f"{issuer_url}/onboarding", timeout=10)
        page = browser.post(
            f"{issuer_url}/onboarding",
            data={
                "givenName": XSS,
                "familyName": "Sharma",
                "country": "India",
                "csrf_token": csrf_of(form),
            },
            timeout=10,
        )
    assert page.status_code == 422
    assert "/credentialSubject/country" in page.text
    assert XSS not in page.text and "&lt;script&gt;" in page.text
    assert ledger(db)["records"] == before["records"]


def test_admin_page_signs_in_with_the_operator_token_and_decides_role_requests(
    issuer_url, settings, db, tenant
):
    subject = tenant("holder", "issuer-pages-hana")
    made = []
    for note in (f"please {XSS}", "second"):
        response = requests.post(
            f"{issuer_url}/issuer/role-requests",
            json={"did": subject.did, "roles": ["ModelProvider"], "note": note},
            timeout=10,
        )
        made.append(response.json()["id"])

    with requests.Session() as browser:
        login = browser.get(f"{issuer_url}/issuer/admin", timeout=10)
        assert "Operator API token" in login.text
        token = csrf_of(login)
        forged = browser.post(
            f"{issuer_url}/issuer/admin/login", data={"token": "x", "csrf_token": "no"}, timeout=10
        )
        assert forged.status_code == 403
        wrong = browser.post(
            f"{issuer_url}/issuer/admin/login", data={"token": "x", "csrf_token": token}, timeout=10
        )
        assert wrong.status_code == 401
        operator = ensure_operator_token(settings, db)
        page = browser.post(
            f"{issuer_url}/issuer/admin/login",
            data={"token": operator, "csrf_token": csrf_of(wrong)},
            timeout=10,
        )
        assert page.status_code == 200 and "Role requests" in page.text
        assert XSS not in page.text and "&lt;script&gt;" in page.text
        token = csrf_of(page)

        approve = f"{issuer_url}/issuer/admin/role-requests/{made[0]}/approve"
        assert browser.post(approve, data={"csrf_token": "no"}, timeout=10).status_code == 403
        page = browser.post(approve, data={"csrf_token": token}, timeout=10)
        assert "Approved: Role credential offered" in page.text
        reject = f"{issuer_url}/issuer/admin/role-requests/{made[1]}/reject"
        page = browser.post(reject, data={"csrf_token": token, "reason": "no models"}, timeout=10)
        assert "Rejected the request" in page.text
        page = browser.post(reject, data={"csrf_token": token, "reason": "again"}, timeout=10)
        assert "Not done" in page.text

        browser.post(f"{issuer_url}/issuer/admin/logout", data={"csrf_token": token}, timeout=10)
        after = browser.post(approve, data={"csrf_token": token}, allow_redirects=False, timeout=10)
        assert after.status_code in (303, 403)  # signed out: nothing is decided

    states = {
        r: requests.get(f"{issuer_url}/issuer/role-requests/{r}", timeout=10).json() for r in made
    }
    assert states[made[0]]["state"] == "approved" and states[made[0]]["exchange"] is not None
    assert states[made[1]]["state"] == "rejected" and states[made[1]]["reason"] == "no models"
    assert states[made[1]]["decided_by"] == "token:operator"


def test_a_form_post_without_sign_in_goes_back_to_the_sign_in_page(issuer_url):
    with requests.Session() as browser:
        token = csrf_of(browser.get(f"{issuer_url}/issuer/admin", timeout=10))
        response = browser.post(
            f"{issuer_url}/issuer/admin/role-requests/x/approve",
            data={"csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
    assert response.status_code == 303 and response.headers["Location"].endswith("/issuer/admin")
