"""The admin-pages kit (signin/pages.py) on a service app of its own, without agents or a
database: the shared login page and stylesheet, token sign-in, logout, CSRF on every POST (one
scheme with the gateway's: a form field or the X-CSRF-Token header, bound to the session), and
the one session-cookie setup of credgate.web (name per service, HttpOnly, SameSite=Strict,
Secure when configured, the secret key from configuration or the secrets directory)."""

from __future__ import annotations

import re

import pytest
from flask import Flask, render_template_string

from credgate.config import load_settings
from credgate.pages import CSRF_HEADER, check_csrf, csrf_for
from credgate.problems import PROBLEM_BASE, Problem
from credgate.web import create_service_app
from gateway import cookies as gateway_cookies
from signin.pages import SignInPolicy, admin_pages, refusal_told, tell, told

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
GOOD = "good-token"


def policy() -> SignInPolicy:
    from flask import session

    def token_sign_in(token: str) -> bool:
        if token != GOOD:
            return False
        session.clear()
        session["who"] = "token:tester"
        return True

    return SignInPolicy(
        client="probe",
        portal="governance",
        signed_in=lambda: session.get("who"),
        token_sign_in=token_sign_in,
        wallet_sign_in=lambda signed_in: None,
        wallet_text="Probe admins sign in with their wallet.",
    )


def home(actor: str) -> str:
    return render_template_string(
        '<p>Signed in as {{ actor }}</p><input name="csrf_token" value="{{ csrf_token() }}">',
        actor=actor,
    )


def make_app(tmp_path, **config) -> Flask:
    settings = load_settings(tmp_path, "sqlite://")
    app = create_service_app(
        "probe",
        config={"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": object(), **config},
        sessions=True,
    )
    bp = admin_pages(
        "probe_pages",
        __name__,
        prefix="/probe/admin",
        policy=policy(),
        title="Probe admin",
        home=home,
    )
    app.register_blueprint(bp)
    return app


@pytest.fixture
def browser(tmp_path):
    return make_app(tmp_path).test_client()


def csrf(page) -> str:
    match = CSRF.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:500]
    return match.group(1)


def test_the_login_page_uses_the_shared_template_and_stylesheet(browser):
    page = browser.get("/probe/admin")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Operator API token" in html and "Probe admin" in html
    stylesheet = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
    assert "<style" not in html and "style=" not in html
    served = browser.get(stylesheet)
    assert served.status_code == 200 and served.mimetype == "text/css"
    policy = page.headers["Content-Security-Policy"]
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and page.headers["Cache-Control"] == "no-store"


def test_the_session_cookie_is_the_services_own_and_strict(tmp_path):
    page = make_app(tmp_path).test_client().get("/probe/admin")
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("credgate_probe_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Secure" not in cookie
    secure = make_app(tmp_path, SESSION_COOKIE_SECURE=True).test_client().get("/probe/admin")
    assert "Secure" in secure.headers["Set-Cookie"]


def test_the_secret_key_comes_from_the_secrets_directory_unless_configured(tmp_path):
    app = make_app(tmp_path)
    stored = (tmp_path / "secrets" / "probe-session-key").read_text().strip()
    assert app.secret_key == stored and len(stored) >= 32
    assert make_app(tmp_path, SECRET_KEY="from-config").secret_key == "from-config"


def test_token_sign_in_needs_the_csrf_token_and_a_good_token(browser):
    page = browser.get("/probe/admin")
    for data in ({"token": GOOD}, {"token": GOOD, "csrf_token": "forged"}):
        refused = browser.post("/probe/admin/login", data=data)
        assert refused.status_code == 403
        assert refused.get_json(force=True)["type"] == PROBLEM_BASE + "csrf-failed"
    wrong = browser.post("/probe/admin/login", data={"token": "bad", "csrf_token": csrf(page)})
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.get_data(as_text=True)
    done = browser.post("/probe/admin/login", data={"token": GOOD, "csrf_token": csrf(wrong)})
    assert done.status_code == 303 and done.headers["Location"].endswith("/probe/admin")
    assert "Signed in as token:tester" in browser.get("/probe/admin").get_data(as_text=True)


def test_the_csrf_token_is_bound_to_its_session_and_rotated_at_sign_in(tmp_path):
    app = make_app(tmp_path)
    first, second = app.test_client(), app.test_client()
    token = csrf(first.get("/probe/admin"))
    second.get("/probe/admin")
    stolen = second.post("/probe/admin/login", data={"token": GOOD, "csrf_token": token})
    assert stolen.status_code == 403
    first.post("/probe/admin/login", data={"token": GOOD, "csrf_token": token})
    stale = first.post("/probe/admin/logout", data={"csrf_token": token})
    assert stale.status_code == 403  # the anonymous session's token died with it


def test_scripts_may_send_the_token_as_a_header(browser):
    token = csrf(browser.get("/probe/admin"))
    forged = browser.post(
        "/probe/admin/login", data={"token": GOOD}, headers={CSRF_HEADER: token + "x"}
    )
    assert forged.status_code == 403
    done = browser.post("/probe/admin/login", data={"token": GOOD}, headers={CSRF_HEADER: token})
    assert done.status_code == 303


def test_logout_needs_the_csrf_token(browser):
    page = browser.get("/probe/admin")
    browser.post("/probe/admin/login", data={"token": GOOD, "csrf_token": csrf(page)})
    home = browser.get("/probe/admin")
    assert browser.post("/probe/admin/logout", data={}).status_code == 403
    assert browser.post("/probe/admin/logout", data={"csrf_token": "x"}).status_code == 403
    assert "Signed in as" in browser.get("/probe/admin").get_data(as_text=True)
    out = browser.post("/probe/admin/logout", data={"csrf_token": csrf(home)})
    assert out.status_code == 303 and out.headers["Location"].endswith("/probe/admin")
    assert "Operator API token" in browser.get("/probe/admin").get_data(as_text=True)


def test_wallet_sign_in_is_offered_only_with_a_gateway(tmp_path):
    without = make_app(tmp_path).test_client()
    assert 'id="wallet-login"' not in without.get("/probe/admin").get_data(as_text=True)
    assert without.get("/probe/admin/login/wallet").status_code == 503
    gateway = "http://gateway.example"
    client = make_app(tmp_path, GATEWAY_URL=gateway).test_client()
    page = client.get("/probe/admin").get_data(as_text=True)
    assert 'id="wallet-login"' in page and "Probe admins sign in with their wallet." in page
    started = client.get("/probe/admin/login/wallet")
    assert started.status_code == 303
    assert started.headers["Location"].startswith(f"{gateway}/connect/probe?portal=governance")


def test_a_refused_form_post_is_told_on_the_next_page_and_a_failure_is_not(tmp_path):
    with make_app(tmp_path).test_request_context():
        with refusal_told("Not done"):
            raise Problem("invalid-request", "Invalid request", 400, "no reason given")
        assert told() == "Not done: Invalid request. no reason given" and told() is None
        for status, propagate in ((404, {404}), (503, ())):
            with pytest.raises(Problem), refusal_told("Not done", propagate=propagate):
                raise Problem("not-found" if status == 404 else "storage-unavailable", "X", status)
        assert told() is None
        with refusal_told("Not done"):
            tell("Done.")
        assert told() == "Done."


def test_the_gateway_uses_the_same_csrf_scheme_bound_to_its_session_secret(tmp_path):
    app = make_app(tmp_path)
    assert gateway_cookies.check_csrf is check_csrf and gateway_cookies.csrf_for is csrf_for
    with app.test_request_context(method="POST", data={"csrf_token": "x"}):
        token = csrf_for("secret-a")
    for request in ({"data": {"csrf_token": token}}, {"headers": {CSRF_HEADER: token}}):
        with app.test_request_context(method="POST", **request):
            check_csrf("secret-a")
            for other in ("secret-b", ""):
                with pytest.raises(Problem) as refused:
                    check_csrf(other)
                assert refused.value.status == 403 and refused.value.slug == "csrf-failed"
    with app.test_request_context(method="POST"), pytest.raises(Problem):
        check_csrf("secret-a")


def test_gateway_cookies_are_secure_when_the_service_says_so(tmp_path):
    for config, expected in (
        ({}, False),
        ({"SESSION_COOKIE_SECURE": True}, True),
        ({"GATEWAY_COOKIE_SECURE": True}, True),
    ):
        with make_app(tmp_path, **config).test_request_context():
            assert gateway_cookies.secure() is expected
