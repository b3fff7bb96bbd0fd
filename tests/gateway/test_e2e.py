"""Acceptance, end to end at the suite's gateway, with the suite's wallet service driven by
``credgate wallet`` (issues 5 and 7): an employee's wallet takes its Attorney credential from an
offer QR link, then scans a picture of the login page's QR code (a screenshot of headless
Chromium) and presents; the browser is logged in, sees the catalogue and buys an offer with the
power ``marketplace:purchase``; a colleague without that power gets a 403 naming it; after the
company's Attorney credential is revoked, the next request is denied within a second — for the
open browser session and for an access token issued before. Declining the login's proof request
in the wallet makes the login page (its JSON and its event stream) show failed within 2 s.

The access tokens are proved by the holder agent for the same tenants (the wallet has no token
client): ``AgentWallet.prove``.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests

from credgate.db import transaction
from credgate.tokens import ensure_operator_token
from revocation.allocation import mark_issued
from tests.support.didcomm import connect
from tests.support.gateway_wallet import (
    AgentWallet,
    credential_with_status,
    issue_through_wallet,
    issue_with_status,
    wallet_tenant,
)
from tests.support.problems import PROBLEMS
from tests.support.status_entries import revoke_entry
from tests.support.waits import eventually, timed

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def world(suite, db, hub, settings, wallet_cli, tenant):
    revocation = suite.servers["revocation"].url
    authority = tenant("issuer", "e2e-authority")
    company = tenant("issuer", "e2e-company")
    employee = wallet_tenant(db, suite, wallet_cli, "e2e-employee")
    clerk = tenant("holder", "e2e-clerk")
    seller = tenant("holder", "e2e-seller")
    path = settings.var_dir / "verifier" / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"onboarding_authority": authority.did, "companies": {company.did: "active"}})
    )
    purchase = [
        {"app": "marketplace", "actions": ["read", "purchase"]},
        {"app": "catalogue", "actions": ["read"]},
    ]
    read_only = [{"app": "marketplace", "actions": ["read"]}]

    def issue(issuer, holder, family, **subject):
        connection = connect(hub, issuer, holder)[0]
        return issue_with_status(
            db, hub, issuer, holder, connection, family, revocation, subject=subject
        )

    issued = {
        "employee": issue_through_wallet(
            db,
            wallet_cli,
            company,
            "e2e-employee",
            employee,
            "AttorneyCredential",
            revocation,
            powers=purchase,
        ),
        "clerk": issue(company, clerk, "AttorneyCredential", powers=read_only),
        "seller": issue(authority, seller, "RoleCredential"),
    }
    # The company's own DataConsumer role, registered at the gateway by the operator.
    role, status = credential_with_status(
        db,
        authority,
        company.did,
        "RoleCredential",
        revocation,
        subject={"roles": ["DataConsumer"]},
    )
    with transaction(db) as session:
        mark_issued(session, status.entry_id)
    signed = authority.client.issue_vc(
        role, {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
    )
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    gateway = suite.servers["verifier"].url
    registered = requests.post(
        f"{gateway}/gateway/company-credentials",
        headers=operator,
        json={"verifiableCredential": signed},
        timeout=10,
    )
    assert registered.status_code == 201, registered.text
    return {
        "gateway": gateway,
        "revocation": revocation,
        "operator": operator,
        "employee": employee,
        "clerk": clerk,
        "seller": seller,
        "issued": issued,
        "company": company,
    }


def token(world, who: str, hub) -> dict[str, str]:
    gateway = world["gateway"]
    issued = requests.post(f"{gateway}/auth/challenge", timeout=10).json()
    wallet = AgentWallet(hub, world[who])
    vp = wallet.prove(
        [world["issued"][who].credential], challenge=issued["challenge"], domain=issued["domain"]
    )
    response = requests.post(f"{gateway}/auth/token", json=vp, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def first_denial(get, limit: float = 1.0) -> tuple[float, requests.Response]:
    return timed(get, limit, until=lambda response: response.status_code == 403)


def test_employee_logs_in_by_qr_buys_and_is_cut_off_by_revocation(
    world, hub, tmp_path, wallet_cli, chromium
):
    gateway = world["gateway"]
    seller = token(world, "seller", hub)
    offer = requests.post(
        f"{gateway}/apps/marketplace/api/offers",
        headers=seller,
        timeout=10,
        json={
            "title": "Mobility traces Q3",
            "price": "99.00",
            "policy": {"roles": ["DataConsumer"]},
        },
    )
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    requests.post(
        f"{gateway}/apps/catalogue/api/items",
        headers=seller,
        timeout=10,
        json={"kind": "data-product", "title": "Mobility traces Q3", "keywords": ["mobility"]},
    )

    browser = chromium()
    try:
        browser.open(f"{gateway}/portals/company-access?next=/apps/catalogue/")
        browser.wait("document.getElementById('state') !== null")
        short_url = browser.eval("document.querySelector('.small code').textContent")
        assert browser.eval("document.querySelector('.qr svg') !== null")
        picture = browser.screenshot(tmp_path / "login.png")  # the page as a phone camera sees it
        code, out = wallet_cli("scan", str(picture), "-w", "e2e-employee", "--accept")
        assert code == 0 and "presented" in out, out
        assert "asks for" in out and short_url.startswith(gateway)
        browser.wait("location.pathname === '/apps/catalogue/'")
        browser.wait("document.body.innerText.includes('Mobility traces Q3')")
        page = browser.text()
        assert "Catalogue" in page and world["company"].did in page
        assert world["employee"].did in page  # signed in as the wallet's holder DID
        browser.screenshot(tmp_path / "catalogue.png")

        result = browser.send(
            "Runtime.evaluate",
            awaitPromise=True,
            returnByValue=True,
            expression=f"""
            fetch('/auth/me').then(r => r.json()).then(me =>
              fetch('/apps/marketplace/api/offers/{offer_id}/purchase', {{
                method: 'POST', headers: {{'X-CSRF-Token': me.csrfToken}}}}))
            .then(r => r.json().then(body => [r.status, body]))""",
        )["result"]["value"]
        status, agreement = result
        assert status == 201, agreement
        assert agreement["buyer"] == world["company"].did
        assert agreement["buyerHolder"] == world["employee"].did
        session = next(c for c in browser.cookies() if c["name"] == "credgate_gateway_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
    finally:
        browser.close()

    clerk = token(world, "clerk", hub)
    denied = requests.post(
        f"{gateway}/apps/marketplace/api/offers/{offer_id}/purchase", headers=clerk, timeout=10
    )
    assert denied.status_code == 403
    assert denied.headers["Content-Type"] == "application/problem+json"
    assert denied.json()["type"] == PROBLEMS + "power-missing"
    assert "marketplace:purchase" in denied.json()["title"]

    employee_token = token(world, "employee", hub)
    cookies = {"credgate_gateway_session": session["value"]}
    history = f"{gateway}/apps/marketplace/api/history"
    assert requests.get(history, headers=employee_token, timeout=10).status_code == 200
    assert requests.get(history, cookies=cookies, timeout=10).status_code == 200

    entry = world["issued"]["employee"].status.entry_id
    revoke_entry(world["revocation"], entry, world["operator"], "left the company")
    took_session, by_session = first_denial(
        lambda: requests.get(history, cookies=cookies, timeout=10)
    )
    took_token, by_token = first_denial(
        lambda: requests.get(history, headers=employee_token, timeout=10)
    )
    assert took_session < 1.0 and took_token < 1.0
    # A revoked attorney credential sits on a suspension list, set for good (revocation/).
    assert by_session.json()["type"] in (PROBLEMS + "suspended", PROBLEMS + "revoked")
    assert by_token.json()["type"] == by_session.json()["type"]


def test_declining_in_the_wallet_fails_the_login_page_within_two_seconds(
    world, wallet_cli, db, suite, tmp_path, chromium
):
    gateway = world["gateway"]
    # A wallet that could answer (an Attorney credential of its own), and whose user says no.
    holder = wallet_tenant(db, suite, wallet_cli, "e2e-decliner")
    issue_through_wallet(
        db,
        wallet_cli,
        world["company"],
        "e2e-decliner",
        holder,
        "AttorneyCredential",
        world["revocation"],
        powers=[{"app": "marketplace", "actions": ["read"]}],
    )
    browser = chromium()
    try:
        browser.open(f"{gateway}/portals/company-access")
        browser.wait("document.getElementById('state') !== null")
        state_url = gateway + browser.eval("document.getElementById('login').dataset.state")
        events_url = gateway + browser.eval("document.getElementById('login').dataset.events")
        seen: list[dict] = []

        def follow() -> None:  # the login's event stream, as the page reads it
            with requests.get(events_url, stream=True, timeout=15) as response:
                for line in response.iter_lines(decode_unicode=True):
                    if line and line.startswith("data: "):
                        seen.append(json.loads(line[6:]))
                        if seen[-1]["state"] in ("verified", "failed", "expired"):
                            return

        stream = threading.Thread(target=follow, daemon=True)
        stream.start()
        picture = browser.screenshot(tmp_path / "login.png")
        code, out = wallet_cli("scan", str(picture), "-w", "e2e-decliner", "--decline")
        declined = time.monotonic()
        assert code == 0 and "declined; the verifier was told" in out, out
        body = eventually(
            lambda: requests.get(state_url, timeout=5).json(),
            2.0,
            until=lambda body: body["state"] == "failed",
            what="the login",
        )
        assert "declined" in (body["reason"] or ""), body
        stream.join(timeout=max(0.0, 2.0 - (time.monotonic() - declined)))
        assert seen and seen[-1]["state"] == "failed", seen
        browser.wait(
            "document.getElementById('state').textContent === 'failed'",
            timeout=max(0.1, 2.0 - (time.monotonic() - declined)),
        )
        assert time.monotonic() - declined < 2.0
    finally:
        browser.close()
