"""Person onboarding end to end through the wallet CLI, against the suite's own wallet, issuer
and revocation services (the CLI finds the wallet service through the suite's state file): the
onboarding page's short link is scanned, the issuer is known as the suite's onboarding authority,
the Onboarding credential is bound to the wallet's DID, and its live status follows the published
status list (revoked at the revocation service -> "revoked" in the wallet)."""

from __future__ import annotations

import json

import pytest
import requests

from credgate.tokens import ensure_operator_token
from tests.support.issuer_wallet import settled
from tests.support.status_entries import entries_of, revoke_entry
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]


def test_person_onboarding_through_the_issuer_service(wallet_cli, suite, settings, db):
    issuer = suite.servers["issuer"].url
    authority = requests.get(f"{issuer}/issuer/did", timeout=10).json()["did"]
    code, out = wallet_cli("create", "grace")
    assert code == 0, out
    did = out.split("holder DID ")[1].strip()
    exchange = requests.post(
        f"{issuer}/issuer/onboarding/persons",
        json={"givenName": "Grace", "familyName": "Hopper", "country": "US"},
        timeout=10,
    ).json()
    assert "/i/" in exchange["invitation_url"]

    code, out = wallet_cli("scan", exchange["invitation_url"], "-w", "grace", "--accept")
    assert code == 0, out
    assert "offers OnboardingCredential" in out
    assert "known issuer: trusted by the data space" in out
    assert "stored OnboardingCredential" in out

    code, out = wallet_cli("credentials", "-w", "grace", "--json")
    (credential,) = json.loads(out)
    assert credential["subject"] == did and credential["issuer"] == authority
    assert credential["status"]["status"] == "valid", credential

    settled(exchange)  # the issuer saw the exchange finish

    # The same short link again: said plainly.
    code, out = wallet_cli("scan", exchange["invitation_url"], "-w", "grace")
    assert code == 1 and "QR code already used" in out

    headers = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    revocation = suite.servers["revocation"].url
    (entry,) = entries_of(revocation, credential["id"], headers)
    revoke_entry(revocation, entry["id"], headers)
    code, out = eventually(
        lambda: wallet_cli("credential", credential["record_id"], "-w", "grace"),
        5,
        0.3,
        until=lambda answer: "revoked" in answer[1].splitlines()[0],
    )
    assert out.startswith("OnboardingCredential: revoked"), out
