"""KCIT + depute with both holders on the wallet CLI (issue 5's acceptance): register a company in
KCIT → the operator approves → the representative's wallet (``credgate wallet create``) scans the
short link of its first admin Attorney credential, shown by KCIT's registration follow-up, and
accepts it → the representative signs in to depute and authorises an employee → the employee's
wallet scans a PNG of the mandate's QR code (made from the exact short URL) and accepts it →
``credgate wallet credentials`` lists it valid, issued by the company's DID → the company revokes
it → the wallet shows it no longer valid within 2 s.

Attorney credentials carry a single ``suspension`` status entry (issuer/status.py); depute's revoke
sets that bit for good (the revocation service refuses to reinstate it). The published status
list cannot tell a permanent suspension from a temporary one, so the wallet, like the verifier
(tests/depute/test_flow.py: slug ``suspended``), shows the revoked mandate as ``suspended``.

Depute's sign-in takes a presentation signed over its challenge (``/depute/api/login``): the
representative's wallet makes it with ``credgate wallet prove --challenge C --domain D --use
RECORD``, so nothing here touches the holder agent directly.
"""

from __future__ import annotations

import json
import secrets
import time

import pytest
import qrcode
import requests

from tests.support.depute import log_in, register_and_approve, registration, wallet_prover
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]

STATUS_WAIT = 2.0


def create_wallet(wallet_cli, name: str) -> str:
    code, out = wallet_cli("create", name)
    assert code == 0, out
    return out.split("holder DID ")[1].strip()


def stored(wallet_cli, wallet: str) -> list[dict]:
    code, out = wallet_cli("credentials", "-w", wallet, "--json")
    assert code == 0, out
    return json.loads(out)


def test_mandates_through_the_wallet_cli(urls, operator, wallet_cli, tmp_path):
    depute = urls["depute"]
    suffix = secrets.token_hex(3)
    company, followed = register_and_approve(
        urls,
        operator,
        registration(
            f"Norda Mobility {suffix} GmbH", "DE136695976", "Lena Vogt", "lena@norda.example"
        ),
    )
    company_did = followed["provisioning"]["did"]
    invitation = followed["provisioning"]["adminInvitation"]
    assert invitation["invitation_url"].startswith(urls["issuer"] + "/i/")

    # The representative's wallet scans the admin mandate's short link and accepts it (the
    # company's fresh DID is no issuer the wallet knows yet: trusted explicitly).
    rep_wallet = f"lena-{suffix}"
    rep_did = create_wallet(wallet_cli, rep_wallet)
    code, out = wallet_cli(
        "scan", invitation["invitation_url"], "-w", rep_wallet, "--accept", "--trust-issuer"
    )
    assert code == 0, out
    assert "offers AttorneyCredential" in out and f"issuer {company_did}" in out
    assert "stored AttorneyCredential" in out
    (admin,) = stored(wallet_cli, rep_wallet)
    assert admin["issuer"] == company_did and admin["subject"] == rep_did
    assert admin["status"]["status"] == "valid", admin
    code, out = wallet_cli("credential", admin["record_id"], "-w", rep_wallet, "--json")
    assert code == 0, out
    admin_vc = json.loads(out)["credential"]
    assert admin_vc["credentialSubject"]["mandator"]["id"] == company_did

    # The representative signs in to depute (the wallet's own key signs over the challenge) and
    # authorises an employee.
    presents = wallet_prover(wallet_cli, rep_wallet, admin["record_id"])

    def prove(challenge: str, domain: str) -> dict:
        presentation = presents(challenge, domain)
        assert presentation["holder"] == rep_did
        assert presentation["proof"]["challenge"] == challenge, presentation["proof"]
        return presentation

    token = log_in(urls, prove)
    headers = {"Authorization": f"Bearer {token}"}
    created = requests.post(
        f"{depute}/depute/api/companies/{company['id']}/authorisations",
        json={"name": "Tomás Ruiz", "email": "tomas@norda.example", "powers": ["marketplace:read"]},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    authorisation = created.json()
    short_url = authorisation["exchange"]["invitation_url"]
    assert short_url.startswith(urls["issuer"] + "/i/")

    # The employee's wallet scans a PNG of the mandate's QR code and accepts.
    picture = tmp_path / "mandate.png"
    qrcode.make(short_url).save(picture)
    emp_wallet = f"tomas-{suffix}"
    emp_did = create_wallet(wallet_cli, emp_wallet)
    code, out = wallet_cli("scan", str(picture), "-w", emp_wallet, "--accept", "--trust-issuer")
    assert code == 0, out
    assert "stored AttorneyCredential" in out
    code, out = wallet_cli("scan", short_url, "-w", emp_wallet)  # the same code again: said plainly
    assert code == 1 and "QR code already used" in out, out

    (mandate,) = stored(wallet_cli, emp_wallet)
    assert mandate["issuer"] == company_did and mandate["subject"] == emp_did
    assert mandate["status"]["status"] == "valid", mandate
    code, out = wallet_cli("credentials", "-w", emp_wallet)
    assert code == 0 and out.startswith("valid"), out
    assert mandate["record_id"] in out

    # The company revokes it; the wallet shows it within 2 s.
    url = f"{depute}/depute/api/companies/{company['id']}/authorisations/{authorisation['id']}"
    began = time.monotonic()
    revoked = requests.post(
        f"{url}/revoke", json={"reason": "contract ended"}, headers=headers, timeout=10
    )
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked", revoked.text
    (mandate,) = eventually(
        lambda: stored(wallet_cli, emp_wallet),
        3 * STATUS_WAIT,
        0.1,
        until=lambda held: held[0]["status"]["status"] != "valid",
    )
    elapsed = time.monotonic() - began
    # Revocation is a permanent suspension.
    assert mandate["status"]["status"] == "suspended", mandate["status"]
    assert elapsed <= STATUS_WAIT, elapsed
    code, out = wallet_cli("credentials", "-w", emp_wallet)
    assert code == 0 and out.startswith("suspended"), out
    # The representative's own mandate is untouched.
    (admin,) = stored(wallet_cli, rep_wallet)
    assert admin["status"]["status"] == "valid", admin
