"""QR login at the suite's gateway (the verifier service), driven by the holder agent the way a
wallet does: scan the short URL, answer the connectionless DIF request; the browser follows the
login over Server-Sent Events and opens its session. Presentations signed with
Ed25519Signature2018 without domain (ACA-Py's) and with Ed25519Signature2020 (posted directly)
both log in; a replayed one is refused; a holder's refusal and the server's expiry end a login.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from credgate.db import transaction, utcnow
from credgate.qr import qr_version
from gateway.models import Login
from tests.support.didcomm import connect
from tests.support.gateway import PortalBrowser
from tests.support.gateway_wallet import AgentWallet, issue_with_status
from tests.support.problems import PROBLEMS
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def parties(hub, tenant):
    authority = tenant("issuer", "gateway-authority")
    company = tenant("issuer", "gateway-company")
    person = tenant("holder", "gateway-person")
    employee = tenant("holder", "gateway-employee")
    return {
        "authority": authority,
        "company": company,
        "person": person,
        "employee": employee,
        "person_conn": connect(hub, authority, person)[0],
        "employee_conn": connect(hub, company, employee)[0],
    }


@pytest.fixture(scope="module")
def gateway_url(suite, settings, parties):
    """The suite's verifier service is the gateway; its trust file names our parties."""
    trust = {
        "onboarding_authority": parties["authority"].did,
        "companies": {parties["company"].did: "active"},
    }
    path = settings.var_dir / "verifier" / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(trust))
    return suite.servers["verifier"].url


@pytest.fixture(scope="module")
def person_role(db, hub, parties, suite):
    return issue_with_status(
        db,
        hub,
        parties["authority"],
        parties["person"],
        parties["person_conn"],
        "RoleCredential",
        suite.servers["revocation"].url,
    )


class Browser(PortalBrowser):
    def open_login(self, portal: str, **params) -> dict[str, str]:
        """The portal's DIDComm login: with its short link and its didcomm:// deep link."""
        found = self.portal(portal, **params)
        page = found["page"]
        found["short"] = html.unescape(
            re.search(r"<code>(http[^<]+/i/[^<]+)</code>", page).group(1)
        )
        found["deep"] = html.unescape(re.search(r'href="(didcomm://[^"]+)"', page).group(1))
        return found


def wait_state(browser, login, states, timeout=10.0) -> dict:
    return eventually(
        lambda: browser.state(login),
        timeout,
        until=lambda body: body["state"] in states,
        what="the login",
    )


def test_qr_login_with_an_aries_presentation_opens_a_session(
    gateway_url, parties, person_role, hub, suite
):
    browser = Browser(gateway_url)
    login = browser.open_login("data-provider")
    assert "<svg" in login["page"] and login["short"].endswith("/i/" + login["id"])
    assert login["deep"].startswith("didcomm://invite?oob=")
    assert qr_version(login["short"]) <= 10
    cookie = next(c for c in browser.http.cookies if c.name.startswith("credgate_gateway_login"))
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == f"/login/{login['id']}"
    assert browser.state(login)["state"] == "pending"
    seen: list[str] = []
    stream = browser.follow(login, seen)
    eventually(lambda: seen, 10, 0.01)  # the stream's first event: the state when it connected

    wallet = AgentWallet(hub, parties["person"])
    wallet.scan_and_present(login["short"])
    assert wait_state(browser, login, {"verified", "failed"})["state"] == "verified"
    stream.join(timeout=10)
    assert seen == ["pending", "scanned", "verified"]

    again = requests.get(login["short"], headers={"Accept": "application/json"}, timeout=10)
    assert again.status_code == 410 and again.json()["type"] == PROBLEMS + "invitation-used"
    stranger = Browser(gateway_url).finish(login)
    assert stranger.status_code == 403 and stranger.json()["type"] == PROBLEMS + "login-not-yours"

    finished = browser.finish(login)
    assert finished.status_code == 303 and finished.headers["Location"] == "/apps/catalogue/"
    set_cookie = finished.headers["Set-Cookie"]
    assert "credgate_gateway_session=" in set_cookie
    assert "HttpOnly" in set_cookie and "SameSite=Lax" in set_cookie
    assert browser.finish(login).status_code in (403, 409)  # once: the login cookie is gone
    me = browser.http.get(f"{gateway_url}/auth/me", timeout=10).json()
    assert me["holder"] == parties["person"].did and me["via"] == "session"
    assert me["credentials"][0]["valid"] is True
    home = browser.http.get(gateway_url + "/", timeout=10).text
    assert parties["person"].did in home and "Log out" in home

    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    forged = browser.http.post(f"{gateway_url}/logout", data={}, allow_redirects=False, timeout=10)
    assert forged.status_code == 403 and forged.json()["type"] == PROBLEMS + "csrf-failed"
    out = browser.http.post(
        f"{gateway_url}/logout", data={"csrf_token": csrf}, allow_redirects=False, timeout=10
    )
    assert out.status_code == 303
    assert browser.http.get(f"{gateway_url}/auth/me", timeout=10).status_code == 401


def _verifier_record(suite, browser, login):
    from sqlalchemy import select

    with suite_db(suite)() as session:
        row = session.scalar(select(Login).where(Login.id == login["id"]))
    return suite.agents["verifier"].client().presentation_exchange(row.pres_ex_id)


def suite_db(suite):
    return suite.servers["verifier"].server.app.extensions["credgate.db"]


def test_a_replayed_presentation_is_refused(gateway_url, parties, person_role, hub, suite):
    browser = Browser(gateway_url)
    login = browser.open_login("data-provider")
    AgentWallet(hub, parties["person"]).scan_and_present(login["short"])
    assert wait_state(browser, login, {"verified", "failed"})["state"] == "verified"
    presentation = _verifier_record(suite, browser, login)["by_format"]["pres"]["dif"]
    assert presentation["proof"]["type"] == "Ed25519Signature2018"
    assert "domain" not in presentation["proof"]

    # At the token API it is refused twice over: no domain, and a QR login's challenge is unknown
    # there (tests/security/test_challenge_binding.py).
    replay = requests.post(f"{gateway_url}/auth/token", json=presentation, timeout=10)
    assert replay.status_code == 400 and replay.json()["type"] == PROBLEMS + "domain-missing"
    other = browser.open_login("data-provider")
    posted = requests.post(
        f"{gateway_url}/login/{other['id']}/presentation", json=presentation, timeout=10
    )
    assert posted.status_code == 400 and posted.json()["type"] == PROBLEMS + "login-failed"
    failed = browser.state(other)
    assert failed["state"] == "failed" and "challenge-mismatch" in failed["reason"]


def test_an_ed25519_2020_presentation_posted_directly_logs_in(
    gateway_url, parties, person_role, hub
):
    browser = Browser(gateway_url)
    login = browser.open_login("data-provider")
    invitation = requests.get(
        login["short"], headers={"Accept": "application/json"}, timeout=10
    ).json()
    request = invitation["requests~attach"][0]["data"]["json"]
    options = request["request_presentations~attach"][0]["data"]["json"]["options"]
    wallet = AgentWallet(hub, parties["person"])
    vp = wallet.prove(
        [person_role.credential], challenge=options["challenge"], domain=options.get("domain")
    )
    assert vp["proof"]["type"] == "Ed25519Signature2020"
    posted = requests.post(f"{gateway_url}/login/{login['id']}/presentation", json=vp, timeout=10)
    assert posted.status_code == 200, posted.text
    assert posted.json()["state"] == "verified"
    assert browser.finish(login).status_code == 303


def test_a_holder_refusal_fails_the_login_with_its_reason(gateway_url, parties, hub):
    browser = Browser(gateway_url)
    login = browser.open_login("data-provider")
    AgentWallet(hub, parties["person"]).scan_and_refuse(login["short"], "user declined")
    failed = wait_state(browser, login, {"failed", "verified"})
    assert failed["state"] == "failed" and "user declined" in failed["reason"]
    assert browser.finish(login).status_code == 409


def test_the_wrong_credential_fails_the_portal(gateway_url, parties, person_role, hub):
    browser = Browser(gateway_url)
    login = browser.open_login("company-access")
    options = requests.get(login["short"], headers={"Accept": "application/json"}, timeout=10)
    request = options.json()["requests~attach"][0]["data"]["json"]
    challenge = request["request_presentations~attach"][0]["data"]["json"]["options"]["challenge"]
    vp = AgentWallet(hub, parties["person"]).prove(
        [person_role.credential], challenge=challenge, domain=None
    )
    posted = requests.post(f"{gateway_url}/login/{login['id']}/presentation", json=vp, timeout=10)
    assert posted.status_code == 400
    assert "Attorney" in browser.state(login)["reason"]


def test_logins_expire_on_the_server(gateway_url, suite):
    browser = Browser(gateway_url)
    login = browser.open_login("governance")
    with transaction(suite_db(suite)) as session:
        session.execute(
            update(Login)
            .where(Login.id == login["id"])
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    seen: list[str] = []
    browser.follow(login, seen).join(timeout=10)
    assert seen == ["expired"]
    assert browser.state(login)["reason"] == "the login expired"
    gone = requests.get(login["short"], timeout=10)
    assert gone.status_code == 410 and gone.json()["type"] == PROBLEMS + "login-expired"


def test_bad_login_requests_are_problems(gateway_url):
    def problem(method, path, status, slug, **kwargs):
        response = requests.request(method, gateway_url + path, timeout=10, **kwargs)
        assert response.status_code == status, response.text
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["type"] == PROBLEMS + slug

    problem("GET", "/portals/nowhere", 404, "unknown-portal")
    problem("GET", "/i/unknown", 404, "unknown-login")
    problem("GET", "/login/" + "x" * 40, 404, "unknown-login")
    problem("GET", "/login/unknown/events", 404, "unknown-login")
    problem("POST", "/login/unknown/presentation", 415, "unsupported-media-type", data="x")
    problem(
        "POST",
        "/login/unknown/presentation",
        400,
        "malformed-json",
        data="{",
        headers={"Content-Type": "application/json"},
    )
    problem("POST", "/login/unknown/presentation", 404, "unknown-login", json={"proof": {}})
    problem("POST", "/login/unknown/session", 404, "unknown-login")
    browser = Browser(gateway_url)
    login = browser.open_login("data-provider", next="//evil.example/x")
    assert "evil" not in json.dumps(browser.state(login))
    page = browser.http.get(f"{gateway_url}/portals", params={"next": "/apps/x?<b>"}).text
    assert "<b>" not in page
