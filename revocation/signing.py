"""Signing status-list credentials with the issuing DID, through the issuer agent.

The key never leaves the agent: the credential goes to ACA-Py's ``POST /vc/credentials/issue``
as the tenant that holds the DID (``agent_tenants``), or as the agent's base wallet (the
operator's own DIDs) when no tenant does. ACA-Py 1.7 signs VCDM 1.1 and VCDM 2.0 credentials
with Ed25519Signature2020 (and adds the suite's context itself).

The tenant token is the one this process shares (``agents.tenants.tenant_token``): fetching a
new one for each signature would invalidate the token the issuer service holds for the same
tenant. Only a token the agent refuses is replaced, once.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient, AgentError
from agents.models import Tenant
from agents.tenants import tenant_token
from credgate.errors import DomainError
from credgate.problem_types import ProblemType

ISSUER_AGENT = "issuer"
PROOF_OPTIONS = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
SIGN_TIMEOUT = 10.0


def sign_credential(
    factory: sessionmaker[Session], agent: AdminClient | None, credential: dict[str, Any]
) -> dict[str, Any]:
    """``credential`` signed by its issuer; a 503 problem if the agent cannot sign it now."""
    if agent is None:
        raise unavailable("the revocation service has no issuer agent configured")
    try:
        body = _issue(factory, agent, credential)
    except AgentError as exc:
        detail = f"the issuer agent could not sign the status list: {exc.message}"
        raise unavailable(detail) from exc
    signed = body.get("verifiableCredential") if isinstance(body, dict) else None
    if not isinstance(signed, dict) or "proof" not in signed:
        raise unavailable("the issuer agent returned no signed credential")
    return signed


def _issue(factory: sessionmaker[Session], agent: AdminClient, credential: dict[str, Any]) -> Any:
    wallet_id = _tenant_of(factory, credential["issuer"])
    if wallet_id is None:
        return _post(agent, credential)
    token = tenant_token(agent, wallet_id)
    try:
        return _post(agent.for_tenant(token), credential)
    except AgentError as exc:
        if exc.status != 401:
            raise
    # Another process fetched a newer token for this tenant: take a fresh one, once.
    return _post(agent.for_tenant(tenant_token(agent, wallet_id, stale=token)), credential)


def _post(client: AdminClient, credential: dict[str, Any]) -> Any:
    payload = {"credential": credential, "options": dict(PROOF_OPTIONS)}
    return client.request("POST", "/vc/credentials/issue", json=payload, timeout=SIGN_TIMEOUT)


def _tenant_of(factory: sessionmaker[Session], did: str) -> str | None:
    with factory() as session:
        return session.scalar(
            select(Tenant.wallet_id).where(Tenant.agent == ISSUER_AGENT, Tenant.did == did)
        )


def unavailable(detail: str) -> DomainError:
    return DomainError(ProblemType.STATUS_LIST_UNAVAILABLE, detail, retry_after=2)
