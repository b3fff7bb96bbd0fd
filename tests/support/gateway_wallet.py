"""Driving the holder agent the way a wallet does, for the gateway tests and bench.

``AgentWallet`` scans a QR login's short URL, lets the holder agent take the out-of-band
invitation and answers the DIF request with a bare ``send-presentation`` — what another Aries
wallet does, so the login tests show that the definitions in ``schemas/`` work with an ACA-Py
holder as they are. The acceptance test
(tests/gateway/test_e2e.py) drives credgate's wallet through ``credgate wallet`` instead; it
uses ``prove`` only for access tokens (``credgate wallet prove`` does the same through the
wallet service: tests/wallet/test_prove.py).

``issue_with_status`` issues a credential over DIDComm from an issuer tenant, with a real status
entry allocated by the revocation service (so revoking it goes through the real change feed);
``issue_through_wallet`` offers one behind an out-of-band link that a wallet made by ``credgate
wallet create`` (``wallet_tenant``) scans and accepts.
"""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests

from agents.hub import WebhookHub
from agents.tenants import TenantHandle, ensure_tenant
from credgate.db import transaction
from revocation.allocation import StatusAllocation, mark_issued
from schemas.registry import example_credential
from tests.support.didcomm import issue_ld_proof, offer_invitation
from tests.support.status_entries import reserved_entry
from wallet.accounts import tenant_name

TIMEOUT = 15.0


@dataclass
class Issued:
    credential: dict[str, Any]  # as the holder stored it (signed)
    status: StatusAllocation


def credential_with_status(
    db,
    issuer: TenantHandle,
    holder_did: str,
    family: str,
    revocation_url: str,
    *,
    subject: dict[str, Any] | None = None,
) -> tuple[dict[str, Any], StatusAllocation]:
    """An unsigned example credential of ``family`` from ``issuer`` to ``holder_did``, valid from
    2025 to 2099, with a status entry the revocation service allocated for it (a suspension
    entry for an Attorney credential, a revocation entry otherwise)."""
    credential = example_credential(family)
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    credential["issuer"] = issuer.did
    for field in ("issuanceDate", "validFrom"):
        if field in credential:
            credential[field] = "2025-01-01T00:00:00Z"
    for field in ("expirationDate", "validUntil"):
        if field in credential:
            credential[field] = "2099-01-01T00:00:00Z"
    credential["credentialSubject"].update(copy.deepcopy(subject or {}))
    credential["credentialSubject"]["id"] = holder_did
    if family == "AttorneyCredential":
        credential["credentialSubject"]["mandator"]["id"] = issuer.did
    purpose = "suspension" if family in ("AttorneyCredential",) else "revocation"
    allocation = reserved_entry(
        db, revocation_url, issuer_did=issuer.did, purpose=purpose, credential_id=credential["id"]
    )
    credential["credentialStatus"] = allocation.credential_status()
    return credential, allocation


def issue_with_status(
    db,
    hub: WebhookHub,
    issuer: TenantHandle,
    holder: TenantHandle,
    connection_id: str,
    family: str,
    revocation_url: str,
    *,
    subject: dict[str, Any] | None = None,
) -> Issued:
    credential, allocation = credential_with_status(
        db, issuer, holder.did, family, revocation_url, subject=subject
    )
    issue_ld_proof(hub, issuer, holder, connection_id, credential)
    with transaction(db) as session:
        mark_issued(session, allocation.entry_id)
    return Issued(stored(holder, credential["id"]), allocation)


def stored(holder: TenantHandle, credential_id: str) -> dict[str, Any]:
    """The credential ``credential_id`` as the holder's agent stored it (signed)."""
    (credential,) = [
        c["cred_value"]
        for c in holder.client.w3c_credentials()
        if c["cred_value"].get("id") == credential_id
    ]
    return credential


def wallet_tenant(db, suite, run, name: str) -> TenantHandle:
    """A wallet made by ``credgate wallet create``, and its tenant on the holder agent."""
    code, out = run("create", name)
    assert code == 0, out
    did = out.split("holder DID ")[1].strip()
    tenant = ensure_tenant(db, "holder", suite.agents["holder"].client(), tenant_name(name))
    assert tenant.did == did
    return tenant


def issue_through_wallet(
    db,
    run: Callable[..., tuple[int, str]],
    issuer: TenantHandle,
    wallet: str,
    holder: TenantHandle,
    family: str,
    revocation: str,
    **subject,
) -> Issued:
    """An offer behind an out-of-band link (the issuer's QR code), scanned and accepted by the
    wallet; a real status entry, so revoking it goes through the real change feed."""
    credential, status = credential_with_status(
        db, issuer, holder.did, family, revocation, subject=subject
    )
    invitation = offer_invitation(issuer, credential, "e2e company")
    code, out = run("scan", invitation.url, "-w", wallet, "--accept", "--trust-issuer")
    assert code == 0 and f"stored {family}" in out, out
    with transaction(db) as session:
        mark_issued(session, status.entry_id)
    code, out = run("credentials", "-w", wallet, "--json")
    assert credential["id"] in {c["id"] for c in json.loads(out)}, out
    return Issued(stored(holder, credential["id"]), status)


class AgentWallet:
    """A holder-agent tenant acting as the user's wallet."""

    def __init__(self, hub: WebhookHub, tenant: TenantHandle) -> None:
        self.hub = hub
        self.tenant = tenant

    def scan(self, short_url: str) -> str:
        """Fetch the invitation behind the QR code and receive it; returns the holder's
        presentation-exchange id once the request is in."""
        response = requests.get(short_url, headers={"Accept": "application/json"}, timeout=10)
        response.raise_for_status()
        invitation = response.json()
        request_id = invitation["requests~attach"][0]["data"]["json"]["@id"]
        since = self.hub.last_seq
        self.tenant.client.receive_invitation(invitation)
        event = self.hub.wait_for(
            lambda e: (
                e.topic == "present_proof_v2_0"
                and e.wallet_id == self.tenant.wallet_id
                and e.payload.get("thread_id") == request_id
                and e.payload.get("state") == "request-received"
            ),
            timeout=TIMEOUT,
            since=since,
        )
        return event.payload["pres_ex_id"]

    def scan_and_present(self, short_url: str) -> str:
        pres_ex_id = self.scan(short_url)
        self.tenant.client.send_presentation(pres_ex_id, {"dif": {}})
        return pres_ex_id

    def scan_and_refuse(self, short_url: str, reason: str) -> str:
        pres_ex_id = self.scan(short_url)
        self.tenant.client.presentation_problem_report(pres_ex_id, reason)
        return pres_ex_id

    def prove(
        self,
        credentials: list[dict[str, Any]],
        *,
        challenge: str,
        domain: str | None,
        proof_type: str = "Ed25519Signature2020",
    ) -> dict[str, Any]:
        """A presentation signed by the holder agent directly (a wallet posting it over HTTP)."""
        presentation: dict[str, Any] = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "holder": self.tenant.did,
            "verifiableCredential": credentials,
        }
        if proof_type == "Ed25519Signature2020":
            presentation["@context"].append("https://w3id.org/security/suites/ed25519-2020/v1")
        options = {
            "proofType": proof_type,
            "challenge": challenge,
            "proofPurpose": "authentication",
        }
        if domain:
            options["domain"] = domain
        body = self.tenant.client.request(
            "POST",
            "/vc/presentations/prove",
            json={"presentation": presentation, "options": options},
        )
        return body["verifiablePresentation"]
