"""Acceptance, end to end at the suite's gateway: an employee logs in by QR code in headless
Chromium (the holder agent answers as the wallet), sees the catalogue, buys an offer with the
power ``marketplace:purchase``; a colleague without that power gets a 403 naming it; after the
company's Attorney credential is revoked, the next request is denied within a second — for the
open browser session and for an access token issued before.
"""

from __future__ import annotations

import json
import time
import uuid

import pytest
import requests

from agents.tenants import ensure_tenant
from credgate.db import transaction
from credgate.tokens import ensure_operator_token
from revocation.allocation import allocate, mark_issued
from schemas.registry import example_credential
from tests.didcomm import connect
from tests.gateway_browser import Chromium
from tests.gateway_wallet import AgentWallet, issue_with_status

pytestmark = [pytest.mark.agents, pytest.mark.db]

PROBLEMS = "https://w3id.org/credgate/problems/"


@pytest.fixture(scope="module")
def world(suite, db, hub, settings):
    issuer_agent = suite.agents["issuer"].client()
    holder_agent = suite.agents["holder"].client()
    revocation = suite.servers["revocation"].url
    authority = ensure_tenant(db, "issuer", issuer_agent, "e2e-authority")
    company = ensure_tenant(db, "issuer", issuer_agent, "e2e-company")
    employee = ensure_tenant(db, "holder", holder_agent, "e2e-employee")
    clerk = ensure_tenant(db, "holder", holder_agent, "e2e-clerk")
    seller = ensure_tenant(db, "holder", holder_agent, "e2e-seller")
    path = settings.var_dir / "verifier" / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"onboarding_authority": authority.did,
                                "companies": {company.did: "active"}}))  # fmt: skip
    purchase = [{"app": "marketplace", "actions": ["read", "purchase"]},
                {"app": "catalogue", "actions": ["read"]}]  # fmt: skip
    read_only = [{"app": "marketplace", "actions": ["read"]}]

    def issue(issuer, holder, family, **subject):
        connection = connect(hub, issuer, holder)[0]
        return issue_with_status(db, hub, issuer, holder, connection, family, revocation,
                                 subject=subject)  # fmt: skip

    issued = {
        "employee": issue(company, employee, "AttorneyCredential", powers=purchase),
        "clerk": issue(company, clerk, "AttorneyCredential", powers=read_only),
        "seller": issue(authority, seller, "RoleCredential"),
    }
    # The company's own DataConsumer role, registered at the gateway by the operator.
    role = example_credential("RoleCredential")
    role.update(id=f"urn:uuid:{uuid.uuid4()}", issuer=authority.did,
                issuanceDate="2025-01-01T00:00:00Z", expirationDate="2099-01-01T00:00:00Z")
    role["credentialSubject"] = {"id": company.did, "roles": ["DataConsumer"]}
    with transaction(db) as session:
        status = allocate(session, issuer_did=authority.did, purpose="revocation",
                          model="StatusList2021", credential_id=role["id"],
                          status_base_url=revocation)  # fmt: skip
    with transaction(db) as session:
        mark_issued(session, status.entry_id)
    role["credentialStatus"] = status.credential_status()
    signed = authority.client.issue_vc(role, {"proofType": "Ed25519Signature2020",
                                              "proofPurpose": "assertionMethod"})  # fmt: skip
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    gateway = suite.servers["verifier"].url
    registered = requests.post(f"{gateway}/gateway/company-credentials", headers=operator,
                               json={"verifiableCredential": signed}, timeout=10)  # fmt: skip
    assert registered.status_code == 201, registered.text
    return {"gateway": gateway, "revocation": revocation, "operator": operator,
            "employee": employee, "clerk": clerk, "seller": seller, "issued": issued,
            "company": company}  # fmt: skip


def token(world, who: str, hub) -> dict[str, str]:
    gateway = world["gateway"]
    issued = requests.post(f"{gateway}/auth/challenge", timeout=10).json()
    wallet = AgentWallet(hub, world[who])
    vp = wallet.prove([world["issued"][who].credential], challenge=issued["challenge"],
                      domain=issued["domain"])  # fmt: skip
    response = requests.post(f"{gateway}/auth/token", json=vp, timeout=10)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def first_denial(get, limit: float = 1.0) -> tuple[float, requests.Response]:
    began = time.monotonic()
    while True:
        response = get()
        if response.status_code == 403:
            return time.monotonic() - began, response
        assert time.monotonic() - began < limit, f"still {response.status_code} after {limit} s"
        time.sleep(0.02)


def test_employee_logs_in_by_qr_buys_and_is_cut_off_by_revocation(world, hub, tmp_path):
    gateway = world["gateway"]
    seller = token(world, "seller", hub)
    offer = requests.post(f"{gateway}/apps/marketplace/api/offers", headers=seller, timeout=10,
                          json={"title": "Mobility traces Q3", "price": "99.00",
                                "policy": {"roles": ["DataConsumer"]}})  # fmt: skip
    assert offer.status_code == 201, offer.text
    offer_id = offer.json()["id"]
    requests.post(f"{gateway}/apps/catalogue/api/items", headers=seller, timeout=10,
                  json={"kind": "data-product", "title": "Mobility traces Q3",
                        "keywords": ["mobility"]})  # fmt: skip

    browser = Chromium()
    try:
        browser.open(f"{gateway}/portals/company-access?next=/apps/catalogue/")
        browser.wait("document.getElementById('state') !== null")
        short_url = browser.eval("document.querySelector('.small code').textContent")
        assert browser.eval("document.querySelector('.qr svg') !== null")
        browser.screenshot(tmp_path / "login.png")
        AgentWallet(hub, world["employee"]).scan_and_present(short_url)
        browser.wait("location.pathname === '/apps/catalogue/'")
        browser.wait("document.body.innerText.includes('Mobility traces Q3')")
        page = browser.text()
        assert "Catalogue" in page and world["company"].did in page
        browser.screenshot(tmp_path / "catalogue.png")

        result = browser.send("Runtime.evaluate", awaitPromise=True, returnByValue=True,
                              expression=f"""
            fetch('/auth/me').then(r => r.json()).then(me =>
              fetch('/apps/marketplace/api/offers/{offer_id}/purchase', {{
                method: 'POST', headers: {{'X-CSRF-Token': me.csrfToken}}}}))
            .then(r => r.json().then(body => [r.status, body]))""")["result"]["value"]  # fmt: skip
        status, agreement = result
        assert status == 201, agreement
        assert agreement["buyer"] == world["company"].did
        assert agreement["buyerHolder"] == world["employee"].did
        session = next(c for c in browser.cookies() if c["name"] == "credgate_gateway_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
    finally:
        browser.close()

    clerk = token(world, "clerk", hub)
    denied = requests.post(f"{gateway}/apps/marketplace/api/offers/{offer_id}/purchase",
                           headers=clerk, timeout=10)  # fmt: skip
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
    revoked = requests.post(f"{world['revocation']}/status/entries/{entry}/revoke",
                            json={"reason": "left the company"}, headers=world["operator"],
                            timeout=10)  # fmt: skip
    assert revoked.status_code == 200, revoked.text
    took_session, by_session = first_denial(lambda: requests.get(history, cookies=cookies,
                                                                 timeout=10))  # fmt: skip
    took_token, by_token = first_denial(lambda: requests.get(history, headers=employee_token,
                                                             timeout=10))  # fmt: skip
    assert took_session < 1.0 and took_token < 1.0
    # A revoked attorney credential sits on a suspension list, set for good (revocation/).
    assert by_session.json()["type"] in (PROBLEMS + "suspended", PROBLEMS + "revoked")
    assert by_token.json()["type"] == by_session.json()["type"]
