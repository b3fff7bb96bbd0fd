"""The company wallet as a holder: it takes the credentials the onboarding authority offers it
(its tenant on the issuer agent talks DIDComm to the authority's tenant on the same agent).

Every wait is bounded (``DEPUTE_WALLET_TIMEOUT`` per step) and ends early on a problem report or
an abandoned record (:meth:`agents.hub.WebhookHub.wait_for_state`).
"""

from __future__ import annotations

from typing import Any

from agents.tenants import TenantHandle
from depute.context import DeputeContext
from issuer.exchanges import get_exchange

TOPIC = "issue_credential_v2_0"


def attached_threads(invitation: dict[str, Any]) -> set[str]:
    """Thread ids of the offers attached to a connectionless invitation (the holder's offer
    records carry them; tests/support/issuer_wallet.py's holder follows them too)."""
    threads = set()
    for attachment in invitation.get("requests~attach", []):
        message = attachment.get("data", {}).get("json", {})
        threads.add((message.get("~thread") or {}).get("thid") or message.get("@id"))
    return threads


def accept_exchange(ctx: DeputeContext, tenant: TenantHandle, exchange_id: str) -> str:
    """Accept the exchange's invitation, request and store every offered credential; "done"."""
    hub = ctx.hub
    assert hub is not None
    exchange, offered = get_exchange(ctx.issuer, exchange_id)
    if exchange.invitation is None:
        raise RuntimeError(f"exchange {exchange_id} has no invitation ({exchange.state})")
    since = hub.last_seq
    received = tenant.client.receive_invitation(exchange.invitation)
    threads = attached_threads(exchange.invitation)
    connection_id = received.get("connection_id")

    def ours(event) -> bool:
        payload = event.payload
        return (
            event.agent == "issuer"
            and event.wallet_id == tenant.wallet_id
            and event.topic == TOPIC
            and payload.get("state") == "offer-received"
            and (
                payload.get("thread_id") in threads
                or (connection_id is not None and payload.get("connection_id") == connection_id)
            )
        )

    seen = since
    for _ in offered:
        offer = hub.wait_for(ours, timeout=ctx.wallet_timeout, since=seen)
        seen = offer.seq
        cred_ex_id, thread_id = offer.payload["cred_ex_id"], offer.payload["thread_id"]
        step_since = hub.last_seq
        tenant.client.send_credential_request(cred_ex_id)
        hub.wait_for_state(
            TOPIC,
            "cred_ex_id",
            cred_ex_id,
            "credential-received",
            timeout=ctx.wallet_timeout,
            thread_id=thread_id,
            since=step_since,
        )
        tenant.client.store_credential(cred_ex_id)
    return "done"
