"""Acceptance of KCIT + depute with the real agents and services: register a company → the KCIT
admin approves → depute provisions its wallet (did:key on the issuer agent, recorded in KCIT) and
its onboarding → the representative's wallet receives the first admin Attorney credential → the
representative signs in to depute by QR (the gateway's login page, answered by the wallet) →
authorises an employee on depute's page → the employee's wallet receives an Attorney credential
issued by the company's DID → the verifier accepts it under KCIT trust → revoke on the page →
refused within 1 s; a company suspended in KCIT → refused within 1 s and its admin signed out.

The holder side is a holder-agent tenant driven through ACA-Py's admin API (as the wallet will).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests

from tests.support.depute import PROVISIONED_WITHIN, register_and_approve, registration
from tests.support.gateway_wallet import AgentWallet
from tests.support.issuer_wallet import accept_exchange
from tests.support.kcit import company_action
from tests.support.waits import eventually
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.fetch import FetchPolicy
from verifier.status import ChangeFeed, StatusListCache
from verifier.trust_kcit import KcitChangeFeed, KcitTrustRegistry

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def verifier(urls):
    """A verifier as the gateway runs it: KCIT trust and revocation status, both following
    their change feeds, with long cache lifetimes (only the feeds make changes visible)."""
    trust = KcitTrustRegistry(urls["kcit"], long_ttl=300.0)
    kcit_feed = KcitChangeFeed(trust, wait=5.0).start()
    verifier = Verifier(DidResolver(), trust=trust)
    verifier.status = StatusListCache(
        verifier.verify_status_list, long_ttl=300.0, policy=FetchPolicy(urls.values())
    )
    status_feed = ChangeFeed(urls["revocation"], verifier.status, wait=5.0).start()
    eventually(
        lambda: trust.feed_healthy and verifier.status.feed_healthy,
        10,
        0.02,
        what="the change feeds to connect",
    )
    yield verifier
    kcit_feed.stop()
    status_feed.stop()


def refused_within(verifier, credential: dict, slug: str, began: float, limit: float = 1.0):
    result = eventually(
        lambda: verifier.verify_credential(credential),
        3 * limit,
        0.02,
        until=lambda result: not result.verified,
    )
    elapsed = time.monotonic() - began
    assert [e.slug for e in result.errors] == [slug], result.error_types()
    assert elapsed <= limit, elapsed
    return elapsed


def test_register_approve_deputise_verify_revoke_suspend(
    urls, operator, hub, verifier, tmp_path, chromium, tenant
):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    kcit, depute = urls["kcit"], urls["depute"]
    # 1. The representative self-registers the company (no DID: depute creates one).
    # 2. A KCIT admin approves it; depute provisions it.
    company, followed = register_and_approve(
        urls,
        operator,
        registration(
            "Helix Data Cooperative SAS",
            "FR40303265045",
            "Jonas Keller",
            "jonas@helix.example",
            lei="5493001KJTIIGC8Y1R12",
        ),
    )
    company_did = followed["provisioning"]["did"]
    assert company_did.startswith("did:key:z6Mk")
    assert {"did": company_did, "origin": "depute", "key": None} in followed["dids"]
    lookup = requests.get(f"{kcit}/kcit/dids/{company_did}", timeout=10).json()
    assert lookup["id"] == company["id"] and lookup["companyStatus"] == "active"

    # 3. The representative's wallet takes the first admin mandate.
    representative = tenant("holder", "depute-rep")
    admin_id = followed["provisioning"]["adminAuthorisation"]
    pending = requests.get(
        f"{depute}/depute/api/companies/{company['id']}/authorisations/{admin_id}",
        headers=operator,
        timeout=10,
    ).json()
    assert pending["state"] == "pending" and pending["powers"] == ["depute:admin"]
    [admin_vc] = accept_exchange(hub, representative, pending["exchange"])
    assert admin_vc["issuer"] == company_did
    assert admin_vc["credentialSubject"]["id"] == representative.did
    assert admin_vc["credentialSubject"]["mandator"]["id"] == company_did
    assert verifier.verify_credential(admin_vc).verified

    # 4. The representative signs in to depute by QR: depute's page sends the browser to the
    #    gateway's login page, the wallet answers its QR code, the browser comes back signed in.
    #    On depute's page the representative authorises an employee.
    browser = chromium(window_size="1280,1000")
    try:
        browser.open(f"{depute}/depute/")
        browser.click("#wallet-login")
        browser.wait("document.getElementById('state') !== null")
        assert browser.eval("location.href").startswith(urls["verifier"] + "/connect/depute?")
        assert "Sign in to Depute" in browser.text()
        assert browser.eval("document.querySelector('.qr svg') !== null")
        browser.screenshot(shots / "depute-qr-login.png")
        short_url = browser.eval("document.querySelector('.small code').textContent")
        AgentWallet(hub, representative).scan_and_present(short_url)
        browser.arrive(f"{depute}/depute/companies/{company['id']}")
        assert f"Signed in as Jonas Keller (attorney:{representative.did})" in browser.text()
        for power in ("marketplace:read", "marketplace:purchase"):
            browser.eval(
                f"document.querySelector('input[name=powers][value=\"{power}\"]').checked = true"
            )
        browser.submit(
            "form[action$='/authorise']", {"name": "Ana Petrović", "email": "ana@helix.example"}
        )
        assert "Mandate for Ana Petrović ready" in browser.text()
        browser.screenshot(shots / "depute-qr-authorised.png", full_page=True)
        page_link = browser.eval("document.querySelector('.message a').href")
        pending_rows = requests.get(
            f"{depute}/depute/api/companies/{company['id']}/authorisations?state=pending",
            headers=operator,
            timeout=10,
        ).json()["authorisations"]
        authorisation = next(r for r in pending_rows if r["mandatee"]["name"] == "Ana Petrović")
        assert authorisation["exchange"]["invitation_url"] == page_link
        assert authorisation["signer"] == {"name": "Jonas Keller", "id": representative.did}
        assert page_link.startswith(urls["issuer"] + "/i/")
        refused = requests.post(
            f"{depute}/depute/api/companies/{company['id']}/authorisations",
            json={"name": "Eve", "email": "eve@helix.example", "powers": ["compute:run"]},
            headers=operator,
            timeout=10,
        )
        assert refused.status_code == 403 and refused.json()["field"] == "powers"

        # 5. The employee's wallet receives it; the verifier accepts it under KCIT trust.
        employee = tenant("holder", "depute-ana")
        [attorney] = accept_exchange(hub, employee, authorisation["exchange"])
        assert attorney["issuer"] == company_did
        assert attorney["credentialSubject"]["powers"] == [
            {"app": "marketplace", "actions": ["purchase", "read"]}
        ]
        assert attorney["credentialStatus"]["statusPurpose"] == "suspension"
        result = verifier.verify_credential(attorney)
        assert result.verified, result.error_types()
        listed = eventually(
            lambda: requests.get(
                f"{depute}/depute/api/companies/{company['id']}/authorisations?state=issued",
                headers=operator,
                timeout=10,
            ).json()["authorisations"],
            PROVISIONED_WITHIN,
            0.1,
            until=lambda rows: {r["id"] for r in rows} >= {authorisation["id"], admin_id},
            what="issued authorisations",
        )
        assert {r["mandatee"]["name"] for r in listed} == {"Ana Petrović", "Jonas Keller"}

        # 6. The representative revokes it on depute's page → refused within a second.
        browser.open(f"{depute}/depute/companies/{company['id']}")
        began = time.monotonic()
        browser.submit(
            f"form[action$='/{authorisation['id']}/revoke']",
            {"reason": "left the company"},
            button="button:not([formaction])",
        )
        refused_within(verifier, attorney, "suspended", began)  # revocation = suspension for good
        url = f"{depute}/depute/api/companies/{company['id']}/authorisations/{authorisation['id']}"
        assert requests.get(url, headers=operator, timeout=10).json()["state"] == "revoked"
        again = requests.post(
            f"{url}/reinstate", json={"reason": "oops"}, headers=operator, timeout=10
        )
        assert again.status_code == 409

        # 7. Suspend the company in KCIT → its admin mandate is refused within a second, and
        #    its admins are signed out of depute.
        began = time.monotonic()
        company_action(kcit, company["id"], "suspend", operator, reason="audit")
        refused_within(verifier, admin_vc, "company-inactive", began)
        browser.open(f"{depute}/depute/companies/{company['id']}")
        assert browser.eval("location.pathname") == "/depute/"  # signed out: the sign-in page
        assert "Sign in with your wallet" in browser.text()
    finally:
        browser.close()

    # The company wallet took its own Onboarding and Role credentials from the authority.
    wallet = eventually(
        lambda: requests.get(
            f"{depute}/depute/api/companies/{company['id']}", headers=operator, timeout=10
        ).json()["provisioning"],
        PROVISIONED_WITHIN,
        0.1,
        until=lambda p: p["onboarding"] in ("done", "failed"),
        what="company onboarding",
    )
    assert wallet == {
        "state": "ready",
        "onboarding": "done",
        "adminAuthorisation": admin_id,
        "error": None,
    }

    # 8. The audit names every step with its actor and reason, as JSON and CSV.
    events = requests.get(
        f"{depute}/depute/api/companies/{company['id']}/audit", headers=operator, timeout=10
    ).json()["events"]
    actions = [(e["action"], e["actor"]) for e in events]
    assert ("bootstrap-admin", "kcit:token:operator") in actions
    assert ("sign-in", f"attorney:{representative.did}") in actions
    assert ("authorise", f"attorney:{representative.did}") in actions
    revoke = next(e for e in events if e["action"] == "revoke")
    assert revoke["reason"] == "left the company" and revoke["authorisation"] == authorisation["id"]
    csv = requests.get(
        f"{depute}/depute/api/companies/{company['id']}/audit?format=csv",
        headers=operator,
        timeout=10,
    )
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "id,at,company,authorisation,action,actor,reason,details"
    assert "left the company" in csv.text
