"""OpenID4VCI from the wallet's side, against the running suite: an open exchange's offer for
each credential family, and a fresh wallet of the wallet stand-in to scan it with."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from tests.support.software import created
from tests.support.vc_api import unsigned_example

TIMEOUT = 15


def offer_of(
    urls, operator, family: str, *, did: str | None = None, company=None, certifier=None
) -> dict[str, Any]:
    """An open exchange's OpenID4VCI offer ({credential_offer_uri, offer_link, tx_code})."""
    issuer = urls["issuer"]
    if family == "OnboardingCredential":
        person = {"givenName": "Ada", "familyName": "Lovelace"}
        return created(
            requests.post(f"{issuer}/issuer/onboarding/persons", json=person, timeout=TIMEOUT)
        )["oid4vci"]
    if family == "RoleCredential":
        asked = requests.post(
            f"{issuer}/issuer/role-requests",
            timeout=TIMEOUT,
            json={"did": did, "roles": ["DataConsumer"]},
        ).json()
        approved = requests.post(
            f"{issuer}/issuer/role-requests/{asked['id']}/approve",
            headers=operator,
            timeout=TIMEOUT,
        )
        assert approved.status_code == 200, approved.text
        return requests.get(f"{issuer}/issuer/role-requests/{asked['id']}", timeout=TIMEOUT).json()[
            "exchange"
        ]["oid4vci"]
    if family == "AttorneyCredential":
        registered, followed = company
        admin_id = followed["provisioning"]["adminAuthorisation"]
        view = requests.get(
            f"{urls['depute']}/depute/api/companies/{registered['id']}/authorisations/{admin_id}",
            headers=operator,
            timeout=TIMEOUT,
        ).json()
        return view["exchange"]["oid4vci"]
    credential = unsigned_example(
        "SoftwareCertificationCredential", certifier["did"], f"urn:sha256:{uuid.uuid4().hex * 2}"
    )
    return created(
        requests.post(
            f"{issuer}/issuer/offers",
            json={"credential": credential},
            headers=operator,
            timeout=TIMEOUT,
        )
    )["oid4vci"]


def new_wallet(wallet_cli, prefix: str) -> tuple[str, str]:
    """A fresh wallet (PIN 2468) made with the wallet CLI: (its name, its holder DID)."""
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    code, out = wallet_cli("create", name, "--pin", "2468")
    assert code == 0, out
    return name, out.split("holder DID ")[1].strip()
