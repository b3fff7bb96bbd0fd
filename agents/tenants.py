"""Tenant wallets on the multitenant agents, remembered in the database.

A tenant is created once per (agent, name) with its own did:key, and found again after restarts:
the wallet id and DID are stored, the tenant token is fetched from the agent when needed.

ACA-Py keeps only the newest token of a managed tenant valid (it stores the token's ``iat`` and
refuses any other), so fetching a token logs out every other holder of an older one. Tokens are
therefore shared by everything in the process (:func:`tenant_token`); a caller that is told
"Token not valid" (another process fetched a newer one) asks for a refresh of the token it holds.
"""

from __future__ import annotations

import threading
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


_TOKENS: dict[tuple[str, str], str] = {}
_TOKENS_LOCK = threading.Lock()


def tenant_token(agent: AdminClient, wallet_id: str, *, stale: str | None = None) -> str:
    """This process's token for the tenant: fetched only if there is none yet, or if ``stale``
    (a token the agent refused) is still the one we hold."""
    key = (agent.url, wallet_id)
    with _TOKENS_LOCK:
        token = _TOKENS.get(key)
        if token is None or token == stale:
            token = _TOKENS[key] = agent.tenant_token(wallet_id)
        return token


def _remember_token(agent: AdminClient, wallet_id: str, token: str) -> None:
    with _TOKENS_LOCK:
        _TOKENS[(agent.url, wallet_id)] = token


def ensure_tenant(
    factory: sessionmaker[Session], agent_name: str, agent: AdminClient, name: str
) -> TenantHandle:
    """The tenant ``name`` on ``agent``, created with a fresh did:key if it does not exist."""
    with factory() as session:
        row = session.scalar(select(Tenant).where(Tenant.agent == agent_name, Tenant.name == name))
    if row is not None and row.did:
        client = agent.for_tenant(tenant_token(agent, row.wallet_id))
        return TenantHandle(name, row.wallet_id, row.did, client)

    # ACA-Py wants unique wallet names; the suffix keeps two racing workers apart.
    wallet = agent.create_tenant(name, wallet_name=f"{name}-{uuid4().hex[:12]}")
    _remember_token(agent, wallet.wallet_id, wallet.token)
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


def tenant_did(factory: sessionmaker[Session], agent_name: str, name: str) -> str | None:
    """The DID of tenant ``name`` on ``agent_name``, if it exists (never creates one)."""
    with factory() as session:
        return session.scalar(
            select(Tenant.did).where(Tenant.agent == agent_name, Tenant.name == name)
        )
