"""Opening DIDComm exchanges: credentials to a holder through an out-of-band invitation.

Opening one is three steps, so that nothing is lost whatever fails:

1. check every credential (VCDM and schema, with stand-ins for what is filled in later) — a bad
   one costs nothing;
2. one transaction: the exchange row and, per credential, its issuance record and status index;
3. the agent calls (offer, invitation); if they fail, a second transaction marks the records and
   their indices abandoned (never reused) and the client gets a problem document.

One credential travels connectionless, its offer attached to the invitation (fastest; what
``ISSUER_HANDSHAKE`` turns off). Several need a connection: the invitation asks for DID Exchange
and the lifecycle sends each offer once the connection is up. Offers never auto-issue: the agent
signs only when :mod:`issuer.lifecycle` tells it to, after checking the exchange is still live.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.client import AgentError
from agents.tenants import TenantHandle
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import records
from issuer.context import IssuerContext
from issuer.credentials import check_schema, check_vcdm, known_type
from issuer.models import (
    EXCHANGE_ABANDONED,
    EXCHANGE_INVITED,
    EXCHANGE_PREPARING,
    OFFERED,
    Exchange,
    IssuedCredential,
)
from issuer.tenants import agent_problem

DEEP_LINK = "didcomm://invite?oob="


DEFAULT_PROOF_TYPE = "Ed25519Signature2020"
#: What a DIDComm offer may be signed with. Ed25519Signature2018 is for Aries wallets that
#: resolve did:key only to an Ed25519VerificationKey2018 (Credo 0.5).
PROOF_TYPES = (DEFAULT_PROOF_TYPE, "Ed25519Signature2018")


@dataclass(frozen=True)
class Offer:
    """One credential to deliver; ``late_subject``: the holder names its DID in its request;
    ``proof_type``: the suite the agent signs it with."""

    credential: dict[str, Any]
    late_subject: bool = False
    proof_type: str = DEFAULT_PROOF_TYPE


def proof_type_of(body: Mapping[str, Any], name: str = "proofType") -> str:
    """An API body's proof type choice (absent: the default); a problem naming the field."""
    value = body.get(name, DEFAULT_PROOF_TYPE)
    if value not in PROOF_TYPES:
        raise DomainError(
            ProblemType.INVALID_REQUEST,
            f"{name} must be one of {', '.join(PROOF_TYPES)}",
            field=name,
        )
    return value


def offer_options(credential: dict[str, Any], proof_type: str | None = None) -> dict[str, Any]:
    """The ld_proof offer's ``options`` (Aries RFC 0593): the status entry itself is in the
    credential, its type is repeated under ``options.credentialStatus``."""
    options: dict[str, Any] = {
        "proofType": proof_type or DEFAULT_PROOF_TYPE,
        "proofPurpose": "assertionMethod",
    }
    entry = credential.get("credentialStatus")
    if isinstance(entry, dict):
        # ACA-Py carries a static credentialStatus only if its type is repeated in the options.
        options["credentialStatus"] = {"type": entry["type"]}
    return options


def open_exchange(
    ctx: IssuerContext,
    *,
    workflow: str,
    tenant: TenantHandle,
    offers: list[Offer],
    actor: str,
    now: datetime | None = None,
    also: Callable[[Session, list[IssuedCredential]], None] | None = None,
) -> Exchange:
    """``also`` runs in the transaction that records the credentials (a workflow's own rows)."""
    now = now or utcnow()
    type_names = []
    for offer in offers:  # 1. checks that cost nothing
        if offer.proof_type not in PROOF_TYPES:
            raise DomainError(
                ProblemType.INVALID_REQUEST,
                f"proofType must be one of {', '.join(PROOF_TYPES)}",
            )
        check_vcdm(offer.credential)
        type_names.append(known_type(offer.credential))
        check_schema(offer.credential, placeholders=True)
    status_base_url = ctx.status_base_url
    handshake = ctx.settings.handshake or len(offers) > 1

    with transaction(ctx.factory) as session:  # 2. records and indices, all or nothing
        exchange = Exchange(
            id=str(uuid4()),
            short_id=secrets.token_urlsafe(12),
            workflow=workflow,
            tenant=tenant.name,
            wallet_id=tenant.wallet_id,
            handshake=handshake,
            state=EXCHANGE_PREPARING,
            expires_at=now + ctx.settings.invitation_ttl,
        )
        session.add(exchange)
        session.flush()
        reserved = [
            records.reserve(
                session,
                offer.credential,
                type_name=type_name,
                workflow=workflow,
                channel="didcomm",
                actor=actor,
                status_base_url=status_base_url,
                exchange_id=exchange.id,
                late_subject=offer.late_subject,
                proof_type=None if offer.proof_type == DEFAULT_PROOF_TYPE else offer.proof_type,
            )
            for offer, type_name in zip(offers, type_names, strict=True)
        ]
        if also is not None:
            also(session, reserved)

    try:  # 3. the agent
        invitation, threads = _invite(tenant, reserved, handshake)
    except AgentError as exc:
        abandon_exchange(ctx, exchange.id, f"agent refused the exchange: {exc.message}")
        raise agent_problem(exc) from exc

    with transaction(ctx.factory) as session:
        for record_id, (cred_ex_id, thread_id) in threads.items():
            session.execute(
                update(IssuedCredential)
                .where(IssuedCredential.id == record_id)
                .values(cred_ex_id=cred_ex_id, thread_id=thread_id)
            )
        session.execute(
            update(Exchange)
            .where(Exchange.id == exchange.id)
            .values(
                state=EXCHANGE_INVITED,
                invi_msg_id=invitation.invi_msg_id,
                invitation=invitation.message,
                invitation_url=invitation.url,
                updated_at=utcnow(),
            )
        )
        return session.get(Exchange, exchange.id)


def _invite(tenant: TenantHandle, reserved: list[IssuedCredential], handshake: bool):
    """The invitation, and {record id: (cred_ex_id, thread_id)} of offers made up front."""
    label = tenant.name
    if handshake:  # offers follow once the connection is up
        return tenant.client.create_invitation(label=label, handshake=True), {}
    record = reserved[0]
    offer = tenant.client.create_ld_proof_offer(
        record.credential, offer_options(record.credential, record.proof_type), auto_issue=False
    )
    invitation = tenant.client.create_invitation(
        label=label,
        handshake=False,
        attachments=[{"id": offer["cred_ex_id"], "type": "credential-offer"}],
    )
    return invitation, {record.id: (offer["cred_ex_id"], offer["thread_id"])}


def abandon_exchange(ctx: IssuerContext, exchange_id: str, reason: str) -> None:
    """End an exchange that never got going: unissued records and their indices are abandoned."""
    with transaction(ctx.factory) as session:
        for record in records.of_exchange(session, exchange_id):
            if record.state == OFFERED:
                records.abandon(session, record, reason)
        session.execute(
            update(Exchange)
            .where(Exchange.id == exchange_id)
            .values(state=EXCHANGE_ABANDONED, reason=reason[:2000], updated_at=utcnow())
        )


# -- the invitation behind the QR code -----------------------------------------------------------


def claim_invitation(ctx: IssuerContext, short_id: str, now: datetime | None = None) -> Exchange:
    """The exchange behind ``/i/<short_id>``, claimed: a short link works once, until it expires."""
    now = now or utcnow()
    with transaction(ctx.factory) as session:
        exchange = session.scalar(select(Exchange).where(Exchange.short_id == short_id))
        if exchange is None:
            raise DomainError(ProblemType.INVITATION_NOT_FOUND)
        if exchange.fetched_at is not None:
            raise DomainError(
                ProblemType.INVITATION_USED,
                "this invitation was already opened; ask for a new one",
            )
        if exchange.state != EXCHANGE_INVITED or exchange.expires_at <= now:
            raise DomainError(
                ProblemType.INVITATION_EXPIRED,
                "this invitation is no longer valid; ask for a new one",
            )
        claimed = session.execute(
            update(Exchange)
            .where(Exchange.id == exchange.id, Exchange.fetched_at.is_(None))
            .values(fetched_at=now, updated_at=now)
        ).rowcount
        if claimed != 1:  # another request claimed it a moment ago
            raise DomainError(ProblemType.INVITATION_USED)
        return exchange


def get_exchange(ctx: IssuerContext, exchange_id: str) -> tuple[Exchange, list[IssuedCredential]]:
    with ctx.factory() as session:
        exchange = session.get(Exchange, exchange_id)
        if exchange is None:
            raise DomainError(ProblemType.EXCHANGE_NOT_FOUND)
        return exchange, records.of_exchange(session, exchange_id)


def short_url(public_url: str, exchange: Exchange) -> str:
    return f"{public_url.rstrip('/')}/i/{exchange.short_id}"


def deep_link(exchange: Exchange) -> str | None:
    """``didcomm://invite?oob=...``: the same invitation, for a wallet on the same device."""
    if not exchange.invitation_url:
        return None
    encoded = parse_qs(urlsplit(exchange.invitation_url).query).get("oob", [None])[0]
    return DEEP_LINK + encoded if encoded else None


def describe_exchange(
    exchange: Exchange, issued: list[IssuedCredential], public_url: str
) -> dict[str, Any]:
    base = public_url.rstrip("/")
    return {
        "id": exchange.id,
        "workflow": exchange.workflow,
        "state": exchange.state,
        "reason": exchange.reason,
        "delivered": bool(issued) and all(records.delivery(r) == records.DELIVERED for r in issued),
        "expires_at": exchange.expires_at.isoformat(),
        "invitation_url": short_url(base, exchange),
        "deep_link": deep_link(exchange),
        "qr_code": f"{base}/issuer/exchanges/{exchange.id}/qr.svg",
        "status_url": f"{base}/issuer/exchanges/{exchange.id}",
        "credentials": [
            {
                "id": record.id,
                "credential_id": record.credential_id,
                "type": record.type,
                "state": record.state,
                "acknowledged": record.acknowledged,
                # "issued" alone is not delivered: only the holder's ack says a wallet has it.
                "delivery": records.delivery(record),
                "proofType": record.proof_type or DEFAULT_PROOF_TYPE,
                "credentialStatus": record.credential.get("credentialStatus"),
            }
            for record in issued
        ],
    }
