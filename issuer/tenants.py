"""The issuing tenants on the issuer agent: the onboarding authority, certifiers, companies.

Each is a sub-wallet with its own did:key (``agents.tenants``); keys never leave the agent. Handles
are cached per process. ACA-Py honours only the newest token of a tenant, and other services (and
processes) fetch tokens too: our clients take the process's shared token on every call and, when
the agent refuses it, a fresh one, once.
"""

from __future__ import annotations

import threading

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient, AgentError, AgentUnavailable
from agents.models import Tenant
from agents.tenants import TenantHandle, ensure_tenant, tenant_token
from credgate.errors import DomainError
from credgate.problem_types import ProblemType

AGENT = "issuer"


def agent_problem(exc: AgentError) -> DomainError:
    """What a client is told when the agent fails us: 503 if it is away, 502 if it refused."""
    if isinstance(exc, AgentUnavailable):
        return DomainError(
            ProblemType.AGENT_UNAVAILABLE,
            "the issuer agent did not answer; try again shortly",
            title="Issuer agent unavailable",
            retry_after=5,
        )
    if exc.status == 400 and "not bundled" in exc.message:
        return DomainError(ProblemType.UNKNOWN_CONTEXT, exc.message)
    return DomainError(ProblemType.AGENT_ERROR, exc.message)


class TenantClient(AdminClient):
    """A tenant's admin client that survives token refreshes by others."""

    def __init__(self, agent: AdminClient, wallet_id: str) -> None:
        # Shares the agent client's connection pool.
        super().__init__(agent.url, agent.api_key, session=agent._session)
        self._agent = agent
        self._wallet_id = wallet_id

    def request(self, method: str, path: str, **kwargs):  # type: ignore[override]
        token = tenant_token(self._agent, self._wallet_id)
        try:
            return self._as(token).request(method, path, **kwargs)
        except AgentError as exc:
            if exc.status != 401:
                raise
        fresh = tenant_token(self._agent, self._wallet_id, stale=token)
        return self._as(fresh).request(method, path, **kwargs)

    def _as(self, token: str) -> AdminClient:
        return AdminClient(self.url, self.api_key, token=token, session=self._session)


class TenantDirectory:
    def __init__(
        self, factory: sessionmaker[Session], agent: AdminClient | None, authority_name: str
    ) -> None:
        self.factory = factory
        self.agent = agent
        self.authority_name = authority_name
        self._handles: dict[str, TenantHandle] = {}
        self._lock = threading.Lock()

    def _require_agent(self) -> AdminClient:
        if self.agent is None:
            raise DomainError(
                ProblemType.AGENT_UNAVAILABLE,
                "the issuer service has no agent configured (is the suite running?)",
                title="Issuer agent unavailable",
            )
        return self.agent

    def ensure(self, name: str) -> TenantHandle:
        """The tenant ``name``, created with a fresh did:key on first use."""
        handle = self._handles.get(name)
        if handle is not None:
            return handle
        agent = self._require_agent()
        with self._lock:  # one creation per name in this process; ensure_tenant handles others
            handle = self._handles.get(name)
            if handle is None:
                try:
                    found = ensure_tenant(self.factory, AGENT, agent, name)
                except AgentError as exc:
                    raise agent_problem(exc) from exc
                client = TenantClient(agent, found.wallet_id)
                handle = TenantHandle(found.name, found.wallet_id, found.did, client)
                self._handles[name] = handle
        return handle

    def authority(self) -> TenantHandle:
        return self.ensure(self.authority_name)

    def by_did(self, did: str) -> TenantHandle | None:
        """The issuer-agent tenant whose DID is ``did``, or None if we hold no such key."""
        for handle in list(self._handles.values()):
            if handle.did == did:
                return handle
        with self.factory() as session:
            name = session.scalar(
                select(Tenant.name).where(Tenant.agent == AGENT, Tenant.did == did)
            )
        return self.ensure(name) if name is not None else None

    def by_name(self, name: str) -> TenantHandle | None:
        """An existing tenant (never creates one)."""
        if name in self._handles:
            return self._handles[name]
        with self.factory() as session:
            exists = session.scalar(
                select(Tenant.id).where(Tenant.agent == AGENT, Tenant.name == name)
            )
        return self.ensure(name) if exists is not None else None
