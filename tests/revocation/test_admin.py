"""The admin page: sign-in with an operator token, CSRF on every form, escaped output."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from sqlalchemy import update

from credgate.db import transaction
from credgate.problems import PROBLEM_BASE
from credgate.tokens import ApiToken, ensure_operator_token, hash_token
from revocation import create_app
from revocation.allocation import StatusAllocation
from tests.support.status_entries import live_entry

pytestmark = pytest.mark.db

BASE = "http://127.0.0.1:8702"
HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def browser(settings, db):
    app = create_app({"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": db, "SERVICE_URLS": {}})
    return app.test_client()


def csrf(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def sign_in(browser, token: str):
    form = browser.get("/status/admin")
    return browser.post("/status/admin/login", data={"token": token, "csrf_token": csrf(form)})


def issued(db, credential_id: str | None = None, purpose: str = "suspension") -> StatusAllocation:
    return live_entry(db, BASE, credential_id=credential_id, purpose=purpose)


def test_the_page_asks_to_sign_in_and_sets_a_strict_cookie_of_its_own(browser):
    page = browser.get("/status/admin")
    assert page.status_code == 200 and "Operator API token" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("credgate_revocation_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_signing_in_needs_the_csrf_token_and_a_live_token(browser, settings, db):
    browser.get("/status/admin")
    forged = browser.post("/status/admin/login", data={"token": "x"})
    assert forged.status_code == 403
    assert forged.get_json(force=True)["type"] == PROBLEM_BASE + "csrf-failed"

    wrong = sign_in(browser, "not-a-token")
    assert wrong.status_code == 401 and "unknown or revoked" in wrong.get_data(as_text=True)
    assert sign_in(browser, "").status_code == 401

    ok = sign_in(browser, ensure_operator_token(settings, db))
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/status/admin")
    assert "Signed in as token:operator" in browser.get("/status/admin").get_data(as_text=True)


def test_entries_are_listed_escaped_and_changed_through_the_form(browser, settings, db):
    credential_id = f"urn:x:{uuid4().hex}:{HOSTILE}"
    got = issued(db, credential_id=credential_id)
    sign_in(browser, ensure_operator_token(settings, db))

    page = browser.get("/status/admin", query_string={"q": credential_id})
    html = page.get_data(as_text=True)
    assert HOSTILE not in html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert f">{got.entry_id}</a>" in html

    url = f"/status/admin/entries/{got.entry_id}/suspend"
    done = browser.post(
        url, data={"reason": f"audit {HOSTILE}", "csrf_token": csrf(page), "q": credential_id}
    )
    assert done.status_code == 303
    after = browser.get(done.headers["Location"]).get_data(as_text=True)
    assert f"Entry {got.entry_id} is now suspended." in after

    entry = browser.get(f"/status/admin/entries/{got.entry_id}").get_data(as_text=True)
    assert "audit &lt;script&gt;" in entry and HOSTILE not in entry
    assert "token:operator" in entry and "suspended" in entry


def test_a_refused_change_is_reported_on_the_page(browser, settings, db):
    got = issued(db, purpose="revocation")
    sign_in(browser, ensure_operator_token(settings, db))
    token = csrf(browser.get("/status/admin"))
    for path, reason, message in [
        (f"/status/admin/entries/{got.entry_id}/suspend", "r", "Not suspendable"),
        (f"/status/admin/entries/{got.entry_id}/revoke", "", "Reason required"),
        (f"/status/admin/entries/{got.entry_id}/erase", "r", "Unknown status action"),
        ("/status/admin/entries/2147483000/revoke", "r", "Unknown status entry"),
    ]:
        response = browser.post(path, data={"reason": reason, "csrf_token": token})
        assert response.status_code == 303
        page = browser.get("/status/admin").get_data(as_text=True)
        assert "unchanged" in page and message in page
    html = browser.get(f"/status/admin/entries/{got.entry_id}").get_data(as_text=True)
    assert "issued · active" in html


def test_form_posts_without_the_csrf_token_or_sign_in_are_refused(browser, settings, db):
    got = issued(db)
    url = f"/status/admin/entries/{got.entry_id}/revoke"
    anonymous = csrf(browser.get("/status/admin"))
    response = browser.post(url, data={"reason": "r", "csrf_token": anonymous})
    assert response.status_code == 401
    assert response.get_json(force=True)["type"] == PROBLEM_BASE + "unauthorized"

    sign_in(browser, ensure_operator_token(settings, db))
    for data in ({"reason": "r"}, {"reason": "r", "csrf_token": anonymous + "x"}):
        response = browser.post(url, data=data)
        assert response.status_code == 403
        assert response.get_json(force=True)["type"] == PROBLEM_BASE + "csrf-failed"
    # The token of the anonymous session is not valid after sign-in either (it is rotated).
    assert browser.post(url, data={"reason": "r", "csrf_token": anonymous}).status_code == 403
    html = browser.get(f"/status/admin/entries/{got.entry_id}").get_data(as_text=True)
    assert "issued · active" in html


def test_revoking_the_api_token_signs_the_page_out(browser, db):
    secret = f"admin-{uuid4().hex}"
    with transaction(db) as session:
        session.add(ApiToken(name="night-shift", token_hash=hash_token(secret)))
    sign_in(browser, secret)
    assert "token:night-shift" in browser.get("/status/admin").get_data(as_text=True)
    with transaction(db) as session:
        session.execute(
            update(ApiToken)
            .where(ApiToken.token_hash == hash_token(secret))
            .values(revoked_at=datetime.now(UTC))
        )
    assert "Operator API token" in browser.get("/status/admin").get_data(as_text=True)
    entry = browser.get("/status/admin/entries/1")
    assert entry.status_code == 303


def test_signing_out(browser, settings, db):
    sign_in(browser, ensure_operator_token(settings, db))
    page = browser.get("/status/admin")
    out = browser.post("/status/admin/logout", data={"csrf_token": csrf(page)})
    assert out.status_code == 303
    assert "Operator API token" in browser.get("/status/admin").get_data(as_text=True)
