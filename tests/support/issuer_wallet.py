"""A holder's side of the issuer's exchanges, driven through ACA-Py's admin API the way the wallet
service will: follow the short link, accept the invitation, request, store (no tests here).

Also used by ``bench/issue.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from agents.hub import WebhookHub
from agents.tenants import TenantHandle
from depute.company_wallet import attached_threads
from tests.support.didcomm import take_credential
from tests.support.waits import eventually

TIMEOUT = 20.0


def fetch_invitation(short_url: str) -> dict[str, Any]:
    response = requests.get(short_url, headers={"Accept": "application/json"}, timeout=5)
    response.raise_for_status()
    return response.json()


def receive_offers(
    hub: WebhookHub, holder: TenantHandle, invitation: dict[str, Any], count: int
) -> list[dict[str, Any]]:
    """Accept the invitation; the holder's ``offer-received`` records (``count`` of them)."""
    since = hub.last_seq
    received = holder.client.receive_invitation(invitation)
    threads = attached_threads(invitation)
    connection_id = received.get("connection_id")

    def ours(event) -> bool:
        payload = event.payload
        if event.wallet_id != holder.wallet_id or event.topic != "issue_credential_v2_0":
            return False
        if payload.get("state") != "offer-received":
            return False
        return payload.get("thread_id") in threads or (
            connection_id is not None and payload.get("connection_id") == connection_id
        )

    offers, seen = [], since
    while len(offers) < count:
        event = hub.wait_for(ours, timeout=TIMEOUT, since=seen)
        seen = event.seq
        offers.append(event.payload)
    return offers


def accept_exchange(
    hub: WebhookHub, holder: TenantHandle, exchange: dict[str, Any], *, bind_did: bool = True
) -> list[dict[str, Any]]:
    """Everything a wallet does with an exchange the issuer opened; the stored credentials."""
    invitation = fetch_invitation(exchange["invitation_url"])
    offers = receive_offers(hub, holder, invitation, len(exchange["credentials"]))
    for offer in offers:
        take_credential(hub, holder, offer, holder_did=holder.did if bind_did else None)
    return stored_credentials(holder, [c["credential_id"] for c in exchange["credentials"]])


def exchange_view(exchange: dict[str, Any]) -> dict[str, Any]:
    """What the issuer's status URL says of an exchange now."""
    return requests.get(exchange["status_url"], timeout=5).json()


def settled(
    exchange: dict[str, Any],
    done: Callable[[dict[str, Any]], Any] = lambda view: view["state"] != "invited",
    timeout: float = 10.0,
) -> dict[str, Any]:
    """The exchange's view once ``done`` holds: by default once it left ``invited`` (the
    holder's ack arrives just after it stored)."""
    return eventually(lambda: exchange_view(exchange), timeout, until=done, what="the exchange")


def stored_credentials(holder: TenantHandle, credential_ids: list[str]) -> list[dict[str, Any]]:
    by_id = {c["cred_value"].get("id"): c["cred_value"] for c in holder.client.w3c_credentials()}
    return [by_id[credential_id] for credential_id in credential_ids if credential_id in by_id]


# -- what the issuer tests share -----------------------------------------------------------------


def issuer_of(suite):
    """The running issuer service's context (database, agent, tenants), as its routes see it."""
    return suite.servers["issuer"].server.app.extensions["issuer"]


def operator_headers(settings, db) -> dict[str, str]:
    from credgate.tokens import ensure_operator_token

    return {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}


def vc_api_role(authority_did: str, subject_did: str) -> dict[str, Any]:
    """An unsigned VCDM 2.0 RoleCredential for the issuer's VC-API ``/credentials/issue``."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "RoleCredential"],
        "issuer": authority_did,
        "validFrom": "2026-01-01T00:00:00Z",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": {"id": subject_did, "roles": ["DataIntermediary"]},
    }


def ledger(db) -> dict[str, int]:
    """Counts that bad input must leave alone: issuance records and status entries, by state.

    Depute's background provisioning of KCIT companies (which earlier tests' companies may still
    be retrying, after an agent outage test) is not a request's doing, so it is left out."""
    from sqlalchemy import func, select

    from depute.provisioning import ACTOR
    from issuer.models import IssuedCredential
    from revocation.models import StatusEntry

    background = select(IssuedCredential.credential_id).where(
        IssuedCredential.actor.like(f"{ACTOR}:%")
    )
    records = IssuedCredential.actor.not_like(f"{ACTOR}:%")
    entries = StatusEntry.credential_id.not_in(background)
    with db() as session:
        counts = {"records": session.scalar(select(func.count(IssuedCredential.id)).where(records))}
        for state, n in session.execute(
            select(IssuedCredential.state, func.count())
            .where(records)
            .group_by(IssuedCredential.state)
        ):
            counts[f"records:{state}"] = n
        counts["entries"] = session.scalar(select(func.count(StatusEntry.id)).where(entries))
        for state, n in session.execute(
            select(StatusEntry.state, func.count()).where(entries).group_by(StatusEntry.state)
        ):
            counts[f"entries:{state}"] = n
    return counts


def totals(db) -> dict[str, int]:
    """What bad input must not change, whatever exchanges of earlier tests do meanwhile."""
    counts = ledger(db)
    return {
        "records": counts["records"],
        "entries": counts["entries"],
        "issued": counts.get("records:issued", 0),
    }


def allow_fetch(suite, *urls: str, service: str = "issuer") -> None:
    """Allow-list test servers on a suite service's fetch policy (loopback hosts other than the
    suite's own are refused otherwise)."""
    from verifier.fetch import fetch_policy

    app = suite.servers[service].server.app
    issuer = app.extensions.get("issuer")
    (issuer.fetch_policy if issuer is not None else fetch_policy(app)).allow(*urls)


class FlistServer:
    """A loopback HTTP server publishing flists: ``files`` maps a path to its bytes. ``drip``
    sends a body a byte at a time with that many seconds between bytes; ``hide_length`` sends
    it without Content-Length. Records the paths it was asked for."""

    def __init__(self, files: dict[str, bytes], *, drip: float = 0.0, hide_length: bool = False):
        import http.server
        import threading
        import time

        self.files, self.requested = files, []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def do_GET(self):  # noqa: N802 - http.server's naming
                server.requested.append(self.path)
                body = server.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                if not hide_length:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    if drip:
                        for i in range(len(body)):
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(drip)
                    else:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up, as it should

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def __enter__(self) -> FlistServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
