"""How a service reaches its agent: from explicit config, or from ``credgate up``'s state file."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from agents.client import AdminClient
from credgate.config import Settings
from credgate.secrets import get_or_create_secret
from credgate.state import read_state


def agent_client(
    settings: Settings, name: str, config: Mapping[str, Any] | None = None
) -> AdminClient | None:
    """The admin client for agent ``name``, or None when the suite has not started it.

    ``config`` may carry ``AGENT_URL`` and ``AGENT_API_KEY`` (a service run on its own);
    otherwise the URL comes from the state file and the key from the secrets directory.
    """
    config = config or {}
    url = config.get("AGENT_URL")
    if url is None:
        state = read_state(settings) or {}
        url = state.get("agents", {}).get(name, {}).get("admin_url")
    if url is None:
        return None
    api_key = config.get("AGENT_API_KEY") or get_or_create_secret(
        settings.secrets_dir, f"{name}.admin-key"
    )
    return AdminClient(url, api_key)


def attach_agent(app: Flask, name: str) -> AdminClient | None:
    """Give the service its agent (``app.extensions["credgate.agent"]``) and a /health probe."""
    client = agent_client(app.config["CREDGATE_SETTINGS"], name, app.config)

    def readiness() -> dict[str, Any]:
        if client is None:
            return {"name": name, "url": None, "ready": False}
        found = {"name": name, "url": client.url, "ready": client.is_ready(timeout=1.0)}
        supervision = app.config.get("AGENT_SUPERVISION")  # the suite's: state, restarts
        return found | supervision() if supervision else found

    app.extensions["credgate.agent"] = client
    app.extensions["credgate.readiness"] = readiness
    return client
