"""What the gateway and app tests share: a gateway (the verifier service's app) with its own
trust registry and status lists, and a client that gets tokens the way a machine client does.

Real keys, real signatures, real status lists on a loopback server (verifier.testing): nothing
imitates credgate.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import requests

import gateway as verifier_service
from credgate.serving import serve
from gateway.state import gateway
from tests.support.waits import eventually
from verifier.fetch import fetch_policy
from verifier.testing import Party

#: The onboarding authority and the active company of the gateway tests' trust registry (the
#: ``trust`` fixture of tests/gateway/conftest.py).
AUTHORITY = Party.generate()
COMPANY = Party.generate()


def gateway_app(settings, db, *, trust, status_url: str, apps: Iterable[Any] | None, **extra: Any):
    config = {
        "CREDGATE_SETTINGS": settings,
        "DB_SESSION_FACTORY": db,
        "VERIFIER_TRUST": trust,
        "SERVICE_URLS": {"revocation": status_url, "verifier": "http://gateway.test"},
        "GATEWAY_APPS": None if apps is None else list(apps),  # None: the entry points
        "GATEWAY_AUDIT_INTERVAL": 0.05,
        "AGENT_URL": extra.pop("AGENT_URL", "http://127.0.0.1:9"),  # no agent unless given
        "AGENT_API_KEY": extra.pop("AGENT_API_KEY", "unused"),
        **extra,
    }
    return verifier_service.create_app(config)


def running_gateway(
    settings, db, *, trust, status_url: str, apps: Iterable[Any] | None, **extra: Any
) -> Iterator[Any]:
    """``gateway_app(...)`` once its status-list change feed has connected, stopped (the feed and
    the audit writer) when resumed: in a module fixture, ``yield from running_gateway(...)``."""
    app = gateway_app(settings, db, trust=trust, status_url=status_url, apps=apps, **extra)
    wait_for_status_feed(app)
    yield app
    app.extensions["credgate.status_feed"].stop()
    with app.app_context():
        gateway().audit.stop()


def verifier_client(settings, db, *, trust, **extra: Any):
    """The verifier service's app with no other services, as a Flask test client."""
    config = {
        "CREDGATE_SETTINGS": settings,
        "DB_SESSION_FACTORY": db,
        "SERVICE_URLS": {},
        "VERIFIER_TRUST": trust,
        **extra,
    }
    return verifier_service.create_app(config).test_client()


def serving_gateway(app) -> Iterator[Any]:
    """The gateway app on a loopback HTTP server that it may fetch from itself (request URIs),
    stopped with its status feed when resumed: in a fixture, ``yield from serving_gateway(app)``."""
    server = serve(app)
    fetch_policy(app).allow(server.url)
    yield server
    app.extensions["credgate.status_feed"].stop()
    server.stop()


def wait_for_status_feed(app, timeout: float = 5) -> None:
    """Until the gateway's status-list change feed has connected (bounded)."""
    status = app.extensions["credgate.verifier"].status
    eventually(lambda: status.feed_healthy, timeout, 0.02, what="the change feed to connect")


def challenge(client) -> dict[str, Any]:
    response = client.post("/auth/challenge")
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def ask_token(client, holder: Party, credentials: list[dict[str, Any]], **present: Any):
    """The gateway's answer to ``holder`` presenting ``credentials`` for its challenge."""
    issued = challenge(client)
    vp = holder.present(
        credentials, challenge=issued["challenge"], domain=issued["domain"], **present
    )
    return client.post("/auth/token", json={"verifiablePresentation": vp})


def token_for(client, holder: Party, credentials: list[dict[str, Any]], **present: Any) -> str:
    response = ask_token(client, holder, credentials, **present)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def resign(issuer: Party, credential: dict[str, Any], **subject: Any) -> dict[str, Any]:
    """The credential with ``subject`` fields changed, signed again by its issuer."""
    changed = {k: v for k, v in credential.items() if k != "proof"}
    changed["credentialSubject"] = {**credential["credentialSubject"], **subject}
    return issuer.sign(changed)


class PortalBrowser:
    """A browser without JavaScript (requests) on a login portal: the page, SSE, the finish form."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.http = requests.Session()

    def portal(self, portal: str, timeout: float = 15, **params: Any) -> dict[str, str]:
        """The portal's login page: its state and events URLs, the login's id and the page."""
        response = self.http.get(f"{self.base}/portals/{portal}", params=params, timeout=timeout)
        assert response.status_code == 200, response.text
        page = response.text
        state = re.search(r'data-state="([^"]+)"', page).group(1)
        return {
            "state": state,
            "events": re.search(r'data-events="([^"]+)"', page).group(1),
            "page": page,
            "id": state.rsplit("/", 1)[1],
        }

    def state(self, login: dict[str, str]) -> dict:
        return self.http.get(self.base + login["state"], timeout=10).json()

    def follow(self, login: dict[str, str], seen: list[str]) -> threading.Thread:
        """Read the SSE stream in the background, appending each state to ``seen``."""

        def read():
            with self.http.get(self.base + login["events"], stream=True, timeout=30) as response:
                for line in response.iter_lines(decode_unicode=True):
                    if line and line.startswith("data: "):
                        seen.append(json.loads(line[6:])["state"])

        thread = threading.Thread(target=read, daemon=True)
        thread.start()
        return thread

    def finish(self, login: dict[str, str]) -> requests.Response:
        return self.http.post(
            f"{self.base}/login/{login['id']}/session", allow_redirects=False, timeout=10
        )
