"""What the depute acceptance tests share (tests/depute/test_flow.py, tests/depute/test_wallet.py):
a company registered in KCIT and approved by its operator (depute then provisions
it), and a sign-in to depute's API with a presentation over its challenge (made by the wallet
CLI, or by whatever signs)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import requests

from tests.support.kcit import company_action
from tests.support.waits import eventually

#: Depute provisions a company in the background (its wallet, DIDs, first mandate).
PROVISIONED_WITHIN = 30.0


def registration(
    legal_name: str, vat_id: str, representative: str, email: str, **numbers: str
) -> dict[str, Any]:
    """A company's self-registration in KCIT: its VAT id (whose prefix is its country) and other
    registration ``numbers`` (``lei``), and one representative."""
    return {
        "legalName": legal_name,
        "legalRegistrationNumber": {"vatId": vat_id, **numbers},
        "country": vat_id[:2],
        "representatives": [{"name": representative, "email": email}],
    }


def register_and_approve(
    urls: dict[str, str], operator: dict[str, str], registration: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The representative self-registers the company (no DID: depute creates one), a KCIT admin
    approves it, and depute provisions it. Returns (the registration as created, what the
    registrant's follow URL shows once the admin mandate's invitation is there)."""
    kcit = urls["kcit"]
    registered = requests.post(f"{kcit}/kcit/registrations", json=registration, timeout=10)
    assert registered.status_code == 201, registered.text
    company = registered.json()
    company_action(
        kcit,
        company["id"],
        "approve",
        operator,
        levelOfAssurance="verified",
        roles=["DataProvider"],
        powers=["marketplace:read", "marketplace:purchase", "depute:admin"],
    )
    followed = eventually(
        lambda: requests.get(company["followUrl"], timeout=10).json(),
        PROVISIONED_WITHIN,
        0.1,
        until=lambda v: (v.get("provisioning") or {}).get("adminInvitation"),
        what="provisioning",
    )
    return company, followed


def wallet_prover(
    wallet_cli: Callable[..., tuple[int, str]], wallet: str, record_id: str
) -> Callable[[str, str], dict[str, Any]]:
    """``sign(challenge, domain)`` for :func:`log_in`: ``credgate wallet prove`` presenting the
    credential ``record_id`` of ``wallet``."""

    def prove(challenge: str, domain: str) -> dict[str, Any]:
        code, out = wallet_cli(
            "prove", "-w", wallet, "--challenge", challenge, "--domain", domain, "--use", record_id
        )
        assert code == 0, out
        return json.loads(out)

    return prove


def log_in(urls: dict[str, str], sign: Callable[[str, str], dict[str, Any]]) -> str:
    """Depute's sign-in with a presentation ``sign(challenge, domain)`` makes; the token."""
    issued = requests.post(f"{urls['depute']}/depute/api/login/challenge", timeout=10).json()
    signed = sign(issued["challenge"], issued["domain"])
    response = requests.post(
        f"{urls['depute']}/depute/api/login", json={"presentation": signed}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]
