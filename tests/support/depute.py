"""What the depute acceptance tests share (tests/depute/test_flow.py, tests/depute/test_wallet.py):
a company registered in KCIT and approved by its operator (depute then provisions
it), and a sign-in to depute's API with a presentation over its challenge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from tests.support.waits import eventually

#: Depute provisions a company in the background (its wallet, DIDs, first mandate).
PROVISIONED_WITHIN = 30.0


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
    approved = requests.post(
        f"{kcit}/kcit/admin/companies/{company['id']}/approve",
        json={
            "levelOfAssurance": "verified",
            "roles": ["DataProvider"],
            "powers": ["marketplace:read", "marketplace:purchase", "depute:admin"],
        },
        headers=operator,
        timeout=10,
    )
    assert approved.status_code == 200, approved.text
    followed = eventually(
        lambda: requests.get(company["followUrl"], timeout=10).json(),
        PROVISIONED_WITHIN,
        0.1,
        until=lambda v: (v.get("provisioning") or {}).get("adminInvitation"),
        what="provisioning",
    )
    return company, followed


def log_in(urls: dict[str, str], sign: Callable[[str, str], dict[str, Any]]) -> str:
    """Depute's sign-in with a presentation ``sign(challenge, domain)`` makes; the token."""
    issued = requests.post(f"{urls['depute']}/depute/api/login/challenge", timeout=10).json()
    signed = sign(issued["challenge"], issued["domain"])
    response = requests.post(
        f"{urls['depute']}/depute/api/login", json={"presentation": signed}, timeout=10
    )
    assert response.status_code == 200, response.text
    return response.json()["token"]
