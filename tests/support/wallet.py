"""What the wallet tests share: the ``credgate wallet`` command as a user types it, the
issuer's and gateway's short links (``/i/<id>``) served on a loopback port, and the other side
of the wallet's exchanges: an issuer tenant's offer behind a short link, the verifier agent's
login request behind one, and its outcome.
"""

from __future__ import annotations

import io
import json
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import qrcode
from click.testing import CliRunner

from credgate.serving import serve
from schemas.presentation import presentation_definition
from schemas.registry import example_credential
from suite.cli import cli
from tests.support.didcomm import offer_invitation
from verifier.testing import LoopbackServer, Party, QuietHandler
from verifier.trust import StaticTrustRegistry
from wallet import create_app

__all__ = [
    "TIMEOUT",
    "ShortLinks",
    "credential_for",
    "login_request",
    "offer_link",
    "png_of",
    "publisher_trust",
    "serving_wallet",
    "verifier_outcome",
    "wallet_runner",
]

#: How long an agent may take to reach a state (an exchange's end, a connection).
TIMEOUT = 15.0


def publisher_trust(authority, publisher: Party) -> StaticTrustRegistry:
    """Trust in ``authority`` as the onboarding authority, whose status lists ``publisher``
    signs."""
    return StaticTrustRegistry(
        onboarding_authority=authority.did, status_list_signers={authority.did: [publisher.did]}
    )


def serving_wallet(
    suite, settings, db, trust: StaticTrustRegistry, fetch_allow: list[str], **config: Any
) -> Iterator[str]:
    """A wallet service of the test's own over the session's holder agent and hub, trusting
    ``trust`` and opening the loopback URLs of ``fetch_allow``: its URL, the server stopped when
    resumed (in a module fixture, ``yield from serving_wallet(...)``)."""
    holder = suite.agents["holder"]
    app = create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "WEBHOOK_HUB": suite.hub,
            "DB_SESSION_FACTORY": db,
            "AGENT_URL": holder.admin_url,
            "AGENT_API_KEY": holder.api_key,
            "FETCH_ALLOW": fetch_allow,
            "WALLET_TRUST": trust,
            **config,
        }
    )
    server = serve(app)
    yield server.url
    server.stop()


def wallet_runner(var_dir: Path, url: str) -> Callable[..., tuple[int, str]]:
    """``credgate wallet --url <url> ...`` with ``var_dir`` as its var/:
    ``run(*args, input=None)`` returns (exit code, output); an unexpected exception is raised,
    not hidden in the output."""

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(
            cli, ["--var", str(var_dir), "wallet", "--url", url, *args], input=input
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return run


class ShortLinks(LoopbackServer):
    """``/i/<id>`` as the issuer and the gateway serve it: the invitation once (JSON, or a
    redirect to ``?oob=`` for anything else), 410 when used or expired, 404 when unknown."""

    def __init__(self) -> None:
        self.links: dict[str, dict[str, Any]] = {}
        links = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, headers, body = links.answer(self.path, self.headers.get("Accept", ""))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.start()

    def add(self, invitation: dict[str, Any], *, ttl: float = 120.0, redirect_to: str = "") -> str:
        short_id = secrets.token_urlsafe(8)
        self.links[short_id] = {
            "invitation": invitation,
            "expires": time.monotonic() + ttl,
            "used": False,
            "redirect": redirect_to,
        }
        return f"{self.url}/i/{short_id}"

    def answer(self, path: str, accept: str) -> tuple[int, dict[str, str], bytes]:
        link = self.links.get(path.removeprefix("/i/"))
        if link is None:
            return _problem(404, "invitation-not-found")
        if link["used"]:
            return _problem(410, "invitation-used")
        if time.monotonic() > link["expires"]:
            return _problem(410, "invitation-expired")
        link["used"] = True
        if "application/json" in accept and not link["redirect"]:
            body = json.dumps(link["invitation"]).encode()
            return 200, {"Content-Type": "application/json"}, body
        return 302, {"Location": link["redirect"]}, b""


def credential_for(
    issuer, type_name: str = "OnboardingCredential", *, status=None, **subject: Any
) -> dict[str, Any]:
    credential = example_credential(type_name)
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    credential["issuer"] = issuer.did
    credential["issuanceDate"] = "2025-01-01T00:00:00Z"
    credential["expirationDate"] = "2099-01-01T00:00:00Z"
    credential["credentialSubject"].pop("id", None)  # bound late: the wallet names its DID
    credential["credentialSubject"].update(subject)
    if status is not None:
        credential["credentialStatus"] = status
    else:
        credential.pop("credentialStatus", None)
    return credential


def offer_link(links: ShortLinks, issuer, credential: dict[str, Any], **link: Any) -> str:
    """``issuer``'s offer of ``credential`` behind a short link, as the issuer's QR code has it."""
    return links.add(offer_invitation(issuer, credential, "Onboarding Authority").message, **link)


def login_request(suite, links: ShortLinks, definition: str = "data-consumer") -> tuple[str, str]:
    """What the gateway's login page does: a connectionless DIF request behind a short link."""
    verifier = suite.agents["verifier"].client()
    request = verifier.request(
        "POST",
        "/present-proof-2.0/create-request",
        json={
            "comment": "Log in to the data space",
            "auto_verify": True,
            "auto_remove": False,
            "presentation_request": {
                "dif": {
                    "options": {"challenge": str(uuid.uuid4()), "domain": "gateway.credgate.test"},
                    "presentation_definition": presentation_definition(definition),
                }
            },
        },
    )
    invitation = verifier.request(
        "POST",
        "/out-of-band/create-invitation",
        json={
            "my_label": "credgate gateway",
            "use_public_did": False,
            "attachments": [{"id": request["pres_ex_id"], "type": "present-proof"}],
        },
    )
    return request["pres_ex_id"], links.add(invitation["invitation"])


def verifier_outcome(suite, pres_ex_id: str, since: int, timeout: float = TIMEOUT):
    event = suite.hub.wait_for(
        lambda e: (
            e.agent == "verifier"
            and e.topic == "present_proof_v2_0"
            and e.payload.get("pres_ex_id") == pres_ex_id
            and e.payload.get("state") in ("done", "abandoned")
        ),
        timeout=timeout,
        since=since,
    )
    return event.payload


def png_of(text: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(text).save(buffer, format="PNG")
    return buffer.getvalue()


def _problem(status: int, slug: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": f"https://w3id.org/credgate/problems/{slug}", "title": slug, "status": status}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()
