"""Tenant wallets on the multitenant agents, remembered in the database.

A tenant is created once per (agent, name) with its own did:key, and found again after restarts:
the wallet id and DID are stored, the tenant token is fetched anew from the agent when needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from agents.models import Tenant
from credgate.db import transaction


@dataclass(frozen=True)
class TenantHandle:
    name: str
    wallet_id: str
    did: str
    client: AdminClient  # the agent's admin API acting as this tenant


def ensure_tenant(
    factory: sessionmaker[Session], agent_name: str, agent: AdminClient, name: str
) -> TenantHandle:
    """The tenant ``name`` on ``agent``, created with a fresh did:key if it does not exist."""
    with factory() as session:
        row = session.scalar(select(Tenant).where(Tenant.agent == agent_name, Tenant.name == name))
    if row is not None and row.did:
        client = agent.for_tenant(agent.tenant_token(row.wallet_id))
        return TenantHandle(name, row.wallet_id, row.did, client)

    # ACA-Py wants unique wallet names; the suffix keeps two racing workers apart.
    wallet = agent.create_tenant(name, wallet_name=f"{name}-{uuid4().hex[:12]}")
    client = agent.for_tenant(wallet.token)
    did = client.create_did_key()
    try:
        with transaction(factory) as session:
            session.add(Tenant(agent=agent_name, name=name, wallet_id=wallet.wallet_id, did=did))
    except IntegrityError:
        # Another worker created it first: keep theirs, drop ours.
        agent.delete_tenant(wallet.wallet_id)
        return ensure_tenant(factory, agent_name, agent, name)
    return TenantHandle(name, wallet.wallet_id, did, client)
