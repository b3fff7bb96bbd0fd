"""DIDComm steps the tests share: connect two tenants, issue an ld_proof credential, offer one
behind an out-of-band invitation."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.client import Invitation
from agents.hub import WebhookEvent, WebhookHub
from agents.tenants import TenantHandle

TIMEOUT = 20.0


def connect(hub: WebhookHub, issuer: TenantHandle, holder: TenantHandle) -> tuple[str, str]:
    """Out-of-band + DID Exchange; returns (issuer's connection id, holder's connection id)."""
    invitation = issuer.client.create_invitation(label=issuer.name)
    received = holder.client.receive_invitation(invitation.message)
    event = hub.wait_for(
        lambda e: (
            e.topic == "connections"
            and e.payload.get("invitation_msg_id") == invitation.invi_msg_id
            and e.wallet_id == issuer.wallet_id
            and e.payload.get("state") in ("active", "completed")
        ),
        timeout=TIMEOUT,
    )
    return event.payload["connection_id"], received["connection_id"]


def connected_pair(
    hub: WebhookHub, tenant: Callable[[str, str], TenantHandle], issuer: str, holder: str
) -> tuple[TenantHandle, TenantHandle, str]:
    """The issuer agent's tenant ``issuer`` and the holder agent's tenant ``holder`` (by the
    ``tenant`` fixture), connected: (issuer, holder, the issuer's connection id)."""
    issuer_tenant, holder_tenant = tenant("issuer", issuer), tenant("holder", holder)
    return issuer_tenant, holder_tenant, connect(hub, issuer_tenant, holder_tenant)[0]


def ld_proof_options(
    credential: dict[str, Any], proof_type: str = "Ed25519Signature2020"
) -> dict[str, Any]:
    """The ``options`` of an ld_proof offer of ``credential``."""
    options: dict[str, Any] = {"proofType": proof_type, "proofPurpose": "assertionMethod"}
    status = credential.get("credentialStatus")
    if status:  # ACA-Py carries a static status only if its type is repeated in the options
        options["credentialStatus"] = {"type": status["type"]}
    return options


def offer_invitation(issuer: TenantHandle, credential: dict[str, Any], label: str) -> Invitation:
    """A connection-free offer of ``credential``, issued once requested, attached to an
    out-of-band invitation (what an issuer's QR code carries)."""
    offer = issuer.client.create_ld_proof_offer(credential, ld_proof_options(credential))
    return issuer.client.create_invitation(
        label=label,
        handshake=False,
        attachments=[{"id": offer["cred_ex_id"], "type": "credential-offer"}],
    )


def issue_ld_proof(
    hub: WebhookHub,
    issuer: TenantHandle,
    holder: TenantHandle,
    connection_id: str,
    credential: dict[str, Any],
    *,
    proof_type: str = "Ed25519Signature2020",
) -> dict[str, Any]:
    """Offer, request, issue and store; returns the holder's final exchange record payload."""
    options = ld_proof_options(credential, proof_type)
    since = hub.last_seq
    offer = issuer.client.send_ld_proof_offer(connection_id, credential, options)
    thread_id = offer["thread_id"]
    offered = hub.wait_for(
        lambda e: (
            e.topic == "issue_credential_v2_0"
            and e.wallet_id == holder.wallet_id
            and e.payload.get("thread_id") == thread_id
            and e.payload.get("state") == "offer-received"
        ),
        timeout=TIMEOUT,
        since=since,
    )
    return take_credential(hub, holder, offered.payload, holder_did=None)


def take_credential(
    hub: WebhookHub, holder: TenantHandle, offer: dict[str, Any], *, holder_did: str | None
) -> dict[str, Any]:
    """Request, wait for, and store one offered credential; its final holder-side record."""
    since = hub.last_seq
    holder.client.send_credential_request(offer["cred_ex_id"], holder_did=holder_did)
    offer_reached(hub, offer, "credential-received", since=since)
    holder.client.store_credential(offer["cred_ex_id"])
    return offer_reached(hub, offer, "done", since=since).payload


def offer_reached(
    hub: WebhookHub,
    offer: dict[str, Any],
    state: str,
    *,
    timeout: float = TIMEOUT,
    since: int = 0,
) -> WebhookEvent:
    """The issue-credential exchange record ``offer`` names (its ``cred_ex_id``, on its
    ``thread_id``: the holder's or the issuer's) once in ``state``; a problem report on its
    thread, or the record abandoned, fails the wait at once."""
    return hub.wait_for_state(
        "issue_credential_v2_0",
        "cred_ex_id",
        offer["cred_ex_id"],
        state,
        timeout=timeout,
        thread_id=offer["thread_id"],
        since=since,
    )
