"""KCIT's pages over the session's database: the self-registration form (CSRF, field errors shown
next to their inputs, escaped), following a registration, and the admin pages (operator sign-in,
list and filter, approve, suspend, accredit; CSRF on every form, everything escaped)."""

from __future__ import annotations

import re

import pytest

from credgate.tokens import ensure_operator_token
from kcit import create_app
from verifier.testing import Party

pytestmark = pytest.mark.db


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;"


@pytest.fixture(scope="module")
def app(settings, db):
    config = {"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": db, "SECRET_KEY": "pages-test"}
    return create_app({**config, "KCIT_ONBOARDING_AUTHORITY": Party.generate().did})


def csrf_of(page) -> str:
    match = CSRF.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def form(**overrides) -> dict:
    data = {
        "legalName": f"Pages {XSS} GmbH",
        "country": "DE",
        "vatId": "DE136695976",
        "repName": "Rita Repr",
        "repEmail": "rita@example.org",
        "street": "Hauptstr. 1",
        "locality": "Berlin",
    }
    data.update(overrides)
    return data


def test_self_registration_page_registers_and_follows(app):
    browser = app.test_client()
    page = browser.get("/kcit/register")
    assert page.status_code == 200 and "Register your company" in page.get_data(as_text=True)
    assert page.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert "credgate_kcit_session" in page.headers["Set-Cookie"]
    sent = browser.post("/kcit/register", data={**form(), "csrf_token": csrf_of(page)})
    assert sent.status_code == 303 and "/kcit/register/" in sent.headers["Location"]
    followed = browser.get(sent.headers["Location"]).get_data(as_text=True)
    assert "pending" in followed and ESCAPED in followed and XSS not in followed


def test_self_registration_needs_its_csrf_token(app):
    browser = app.test_client()
    browser.get("/kcit/register")
    forged = browser.post("/kcit/register", data={**form(), "csrf_token": "forged"})
    assert forged.status_code == 403 and forged.get_json()["type"].endswith("/csrf-failed")
    bare = app.test_client().post("/kcit/register", data=form())
    assert bare.status_code == 403


def test_field_errors_are_shown_next_to_their_inputs_escaped(app):
    browser = app.test_client()
    token = csrf_of(browser.get("/kcit/register"))
    page = browser.post(
        "/kcit/register",
        data={**form(vatId="DE000000000", lei="1234", did=f"did:web:{XSS}"), "csrf_token": token},
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert (
        'data-field="vatId"' in text and 'data-field="lei"' in text and 'data-field="did"' in text
    )
    assert XSS not in text and "&lt;script&gt;" in text  # the echoed input is escaped


def test_admin_pages_sign_in_review_and_accredit(app, settings, db):
    registrant = app.test_client()
    token = csrf_of(registrant.get("/kcit/register"))
    did = Party.generate().did
    registrant.post("/kcit/register", data={**form(did=did), "csrf_token": token})

    browser = app.test_client()
    login = browser.get("/kcit/admin")
    assert "Operator API token" in login.get_data(as_text=True)
    token = csrf_of(login)
    assert (
        browser.post("/kcit/admin/login", data={"token": "x", "csrf_token": "no"}).status_code
        == 403
    )
    assert (
        browser.post("/kcit/admin/login", data={"token": "x", "csrf_token": token}).status_code
        == 401
    )
    operator = ensure_operator_token(settings, db)
    token = csrf_of(browser.get("/kcit/admin"))
    signed = browser.post("/kcit/admin/login", data={"token": operator, "csrf_token": token})
    assert signed.status_code == 303
    listing = browser.get("/kcit/admin?status=pending&q=Pages").get_data(as_text=True)
    assert ESCAPED in listing and XSS not in listing
    company_id = re.search(r"/kcit/admin/review/(kcit-[0-9a-f]+)", listing).group(1)
    token = csrf_of(browser.get(f"/kcit/admin/review/{company_id}"))

    approve = f"/kcit/admin/review/{company_id}/approve"
    assert browser.post(approve, data={"csrf_token": "no"}).status_code == 403
    done = browser.post(
        approve,
        data={
            "csrf_token": token,
            "levelOfAssurance": "verified",
            "roles": ["DataProvider"],
            "powers": ["catalogue:read"],
            "reason": f"ok {XSS}",
        },
    )
    assert done.status_code == 303
    detail = browser.get(f"/kcit/admin/review/{company_id}").get_data(as_text=True)
    assert "Done: approve." in detail and "identified" in detail
    assert f"ok {ESCAPED}" in detail and XSS not in detail  # the history's reason
    again = browser.post(approve, data={"csrf_token": token})
    assert again.status_code == 303
    assert "Not done (approve)" in browser.get(f"/kcit/admin/review/{company_id}").get_data(
        as_text=True
    )
    suspend = f"/kcit/admin/review/{company_id}/suspend"
    browser.post(suspend, data={"csrf_token": token, "reason": "check"})
    assert "suspended" in browser.get(f"/kcit/admin/review/{company_id}").get_data(as_text=True)

    accredit = browser.post(
        "/kcit/admin/accredit",
        data={"csrf_token": token, "did": did, "credentialType": "SoftwareCertificationCredential"},
    )
    assert accredit.status_code == 303
    listing = browser.get("/kcit/admin").get_data(as_text=True)
    assert "is accredited for SoftwareCertificationCredential" in listing

    browser.post("/kcit/admin/logout", data={"csrf_token": token})
    after = browser.post(suspend, data={"csrf_token": token, "reason": "x"})
    assert after.status_code in (401, 403)  # signed out: nothing changes


def test_the_admin_cookie_is_only_a_token_reference(app, settings, db):
    browser = app.test_client()
    token = csrf_of(browser.get("/kcit/admin"))
    operator = ensure_operator_token(settings, db)
    browser.post("/kcit/admin/login", data={"token": operator, "csrf_token": token})
    cookie = browser.get_cookie("credgate_kcit_session")
    assert cookie is not None and operator not in cookie.value
    assert cookie.http_only and cookie.same_site == "Strict"


def test_wallet_sign_in_goes_to_the_gateway_and_refuses_a_stray_callback(settings, db):
    """The QR login hand-off from KCIT's side (the gateway's side: tests/gateway/test_handoff.py,
    the whole flow: tests/signin/test_governance_login.py)."""
    config = {
        "CREDGATE_SETTINGS": settings,
        "DB_SESSION_FACTORY": db,
        "SECRET_KEY": "pages-test",
        "GATEWAY_URL": "http://gateway.test",
    }
    client = create_app(config).test_client()
    assert 'id="wallet-login"' in client.get("/kcit/admin").get_data(as_text=True)

    started = client.get("/kcit/admin/login/wallet")
    assert started.status_code == 303
    target = started.headers["Location"]
    assert target.startswith("http://gateway.test/connect/kcit?portal=governance&")
    assert "redirect_uri=http%3A%2F%2Flocalhost%2Fkcit%2Fadmin%2Flogin%2Fcallback" in target
    assert "code_challenge_method=S256" in target
    cookie = started.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Path=/kcit/admin/login/callback" in cookie and "Secure" not in cookie
    behind_tls = create_app({**config, "SESSION_COOKIE_SECURE": True}).test_client()
    assert "Secure" in behind_tls.get("/kcit/admin/login/wallet").headers["Set-Cookie"]

    # A callback whose state is not the one this browser started with: refused, nothing redeemed.
    for state in ("not-the-state", "%C3%A9t%C3%A9"):  # also not ASCII: refused, not a 500
        client.get("/kcit/admin/login/wallet")
        wrong = client.get(f"/kcit/admin/login/callback?code=abc&state={state}")
        assert wrong.status_code == 400
        assert "Sign-in refused" in wrong.get_data(as_text=True)
    assert client.get("/kcit/admin").get_data(as_text=True).count("governance:") == 0

    # No sign-in started here (another browser, or too late).
    stray = create_app(config).test_client().get("/kcit/admin/login/callback?code=a&state=b")
    assert stray.status_code == 400 and "Sign-in expired" in stray.get_data(as_text=True)
    assert "<script>" not in stray.get_data(as_text=True)
