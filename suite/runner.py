"""The whole suite in one process: webhook hub, agents and every service, on loopback.

``credgate up`` runs it until Ctrl-C or ``credgate down``; the test fixtures run the same code.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from agents.hub import WebhookHub
from agents.runtime import AGENT_NAMES, Agent, AgentRuntime
from credgate.config import Settings
from credgate.db import make_engine, session_factory
from credgate.secrets import ensure_private_dir, get_or_create_secret
from credgate.serving import ServerThread, bind, serve
from credgate.state import clear_state, write_state
from credgate.tokens import ensure_operator_token
from credgate.web import shutdown
from suite.schema import migrate
from suite.services import SERVICES, app_factory
from suite.start import install as install_start_page


def start_url(state: dict[str, Any]) -> str | None:
    """The start page of a running suite (``credgate up``'s state), None without services."""
    services = state.get("services") or {}
    if "issuer" in services:
        return services["issuer"] + "/"
    return next((url + "/start" for url in services.values()), None)


def prepare(settings: Settings) -> str:
    """Directories, database schema and the operator token; returns the token."""
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    ensure_private_dir(settings.secrets_dir)
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        return ensure_operator_token(settings, session_factory(engine))
    finally:
        engine.dispose()


@dataclass
class Suite:
    settings: Settings
    port_base: int = 0  # 0: every service on a free port
    agent_names: tuple[str, ...] = AGENT_NAMES
    service_names: tuple[str, ...] = tuple(SERVICES)
    hub: WebhookHub | None = None
    agents: dict[str, Agent] = field(default_factory=dict)
    servers: dict[str, ServerThread] = field(default_factory=dict)
    _runtime: AgentRuntime | None = None
    _hub_server: ServerThread | None = None
    _engine: Engine | None = None
    started_in: float | None = None

    def start(self, timeout: float = 60.0) -> Suite:
        began = time.monotonic()
        try:
            prepare(self.settings)
            self.hub = WebhookHub(get_or_create_secret(self.settings.secrets_dir, "webhook-key"))
            self._hub_server = serve(self.hub.create_app())
            hub_url = self._hub_server.url
            self._runtime = AgentRuntime(
                self.settings,
                lambda name: self.hub.webhook_url(hub_url, name),
                self.agent_names,
                on_change=self._agent_changed,
            )
            self.agents = self._runtime.start(timeout=timeout)
            # Bind every service first: each app's config names the URLs of the others.
            for offset, name in enumerate(self.service_names, start=1):
                self.servers[name] = bind(self.port_base + offset if self.port_base else 0)
            self._engine = make_engine(self.settings.database_url)
            for name, server in self.servers.items():
                app = app_factory(name)(self.service_config(name))
                install_start_page(app)
                server.start(app)
            write_state(self.settings, self.describe())
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        return self

    def service_config(self, name: str) -> dict[str, Any]:
        config: dict[str, Any] = {
            "CREDGATE_SETTINGS": self.settings,
            "WEBHOOK_HUB": self.hub,
            "DB_SESSION_FACTORY": session_factory(self._engine),
            "SERVICE_URLS": {n: s.url for n, s in self.servers.items()},
        }
        agent = self.agents.get(SERVICES[name][1] or "")
        if agent is not None:
            config.update(AGENT_URL=agent.admin_url, AGENT_API_KEY=agent.api_key)
            config["AGENT_SUPERVISION"] = lambda: {
                key: value
                for key, value in agent.describe().items()
                if key in ("state", "restarts", "last_restart", "last_exit")
            }
        return config

    def _agent_changed(self, agent: Agent) -> None:
        """A supervised agent went down or came back: ``credgate status`` reads the state file."""
        if self.servers:  # not before the services are up (start writes it then)
            write_state(self.settings, self.describe())

    def describe(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "var": str(self.settings.var_dir),
            "hub": self._hub_server.url if self._hub_server else None,
            "agents": {name: agent.describe() for name, agent in self.agents.items()},
            "services": {name: server.url for name, server in self.servers.items()},
            # Preferred ports (port base + n) that were taken, so the service runs elsewhere.
            "ports_taken": {
                name: server.requested_port
                for name, server in self.servers.items()
                if server.fell_back
            },
        }

    def start_url(self) -> str | None:
        """Where a person starts: the issuer's start page (any service's ``/start`` works)."""
        return start_url(self.describe())

    def stop(self) -> None:
        # Every service's background work first (change-feed subscribers, watchers), so none of
        # them sees a peer service go away and logs a lost feed; then the HTTP servers.
        for server in self.servers.values():
            if server.server.app is not None:
                shutdown(server.server.app)
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
        if self._runtime is not None:
            self._runtime.stop()
        if self._hub_server is not None:
            self._hub_server.stop()
            self._hub_server = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        clear_state(self.settings)
