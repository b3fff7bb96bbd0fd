"""QR login for the suite's other services (depute; the admin pages of KCIT, the issuer and the
status lists): the gateway does the login, the service gets its result.

The authorization-code pattern of OAuth 2.0 with PKCE (RFC 6749 §4.1, RFC 7636): the service
sends the browser to ``/connect/<client>`` with its callback, a ``state`` and the S256 hash of a
secret it keeps; the gateway shows its QR login page for the portal the client asked for; once
the wallet's presentation is verified and the browser that showed the code presses on, the
gateway redirects it to the callback with a one-time code, which the service redeems
server-to-server together with the secret for the login's holder and verified credentials.

Clients are registered (name, callback URLs, portals): a callback that is not registered is
refused before anything is shown, so the gateway is no open redirect. A code lives
:data:`CODE_TTL`, is redeemed once (conditional UPDATE: one winner), and only with the secret
that never left the service, so a code seen in a URL or a log is useless to anyone else.
"""

from __future__ import annotations

import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.hashing import hash_token
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from gateway.grants import RETENTION, GrantStore, LoadedGrant, recheck
from gateway.models import Handoff
from gateway.portals import portal
from signin.pkce import CHALLENGE, VERIFIER, s256
from verifier.engine import Verifier

CODE_TTL = timedelta(seconds=60)
_CODE = re.compile(r"[A-Za-z0-9\-_]{43}")  # secrets.token_urlsafe(32)
MAX_STATE = 200


@dataclass(frozen=True)
class Client:
    name: str
    title: str  # shown on the login page: "Sign in to <title>"
    redirect_uris: tuple[str, ...]
    portals: tuple[str, ...]


# The suite's services that sign people in through the gateway: (service, title, callback path,
# portal). Depute's company admins hold an Attorney credential; the admin pages' a Governance role.
SUITE_CLIENTS = (
    ("depute", "Depute", "/depute/login/callback", "company-access"),
    ("kcit", "KCIT admin", "/kcit/admin/login/callback", "governance"),
    ("issuer", "Onboarding authority admin", "/issuer/admin/login/callback", "governance"),
    ("revocation", "Status lists admin", "/status/admin/login/callback", "governance"),
)


def default_clients(service_urls: Mapping[str, str]) -> dict[str, Client]:
    """A client for each of the suite's services that runs here (:data:`SUITE_CLIENTS`)."""
    return {
        name: Client(name, title, (f"{service_urls[name]}{path}",), (portal_name,))
        for name, title, path, portal_name in SUITE_CLIENTS
        if name in service_urls
    }


def clients_from(configured: Any, service_urls: Mapping[str, str]) -> dict[str, Client]:
    """``GATEWAY_CLIENTS`` ({name: {title, redirect_uris, portals}}) or the suite's defaults."""
    if not configured:
        return default_clients(service_urls)
    if not isinstance(configured, Mapping):
        raise ValueError("GATEWAY_CLIENTS must map client names to {title, redirect_uris, portals}")
    return {
        name: Client(
            name,
            str(spec.get("title", name)) if isinstance(spec, Mapping) else name,
            _strings(spec, "redirect_uris", name),
            _strings(spec, "portals", name),
        )
        for name, spec in configured.items()
    }


def _strings(spec: Any, key: str, client: str) -> tuple[str, ...]:
    """A configured list, checked at start-up rather than failing at the first sign-in."""
    value = spec.get(key) if isinstance(spec, Mapping) else None
    if (
        not isinstance(value, list | tuple)
        or not value
        or not all(isinstance(v, str) and v for v in value)
    ):
        raise ValueError(f"GATEWAY_CLIENTS[{client!r}].{key} must be a non-empty list of strings")
    return tuple(value)


def _invalid(detail: str) -> DomainError:
    return DomainError(ProblemType.INVALID_HANDOFF_REQUEST, detail)


def _invalid_grant(detail: str) -> DomainError:
    return DomainError(ProblemType.INVALID_GRANT, detail)


@dataclass(frozen=True)
class HandoffRequest:
    client: Client
    portal: str
    redirect_uri: str
    state: str
    code_challenge: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.redirect_uri)
        return f"{parts.scheme}://{parts.netloc}"


class HandoffService:
    def __init__(
        self,
        factory: sessionmaker[Session],
        grants: GrantStore,
        verifier: Verifier,
        clients: Mapping[str, Client],
        code_ttl: timedelta = CODE_TTL,
    ) -> None:
        self.factory = factory
        self.grants = grants
        self.verifier = verifier
        self.clients = dict(clients)
        self.code_ttl = code_ttl

    def check_request(self, client_name: str, args: Mapping[str, str]) -> HandoffRequest:
        """Validate ``/connect/<client>``'s query before any page is shown."""
        client = self.clients.get(client_name)
        if client is None:
            raise DomainError(
                ProblemType.UNKNOWN_CLIENT,
                f"no service {client_name!r} signs in through this gateway",
            )
        redirect_uri = args.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise _invalid(f"redirect_uri is not one registered for {client_name}")
        name = args.get("portal") or client.portals[0]
        if name not in client.portals:
            raise _invalid(f"{client_name} signs in with the portals {', '.join(client.portals)}")
        portal(name)  # a portal whose definition is not shipped: 404 unknown-portal
        state = args.get("state", "")
        if not 16 <= len(state) <= MAX_STATE:
            raise _invalid(f"state must be 16 to {MAX_STATE} characters")
        if args.get("code_challenge_method") != "S256":
            raise _invalid("code_challenge_method must be S256")
        challenge = args.get("code_challenge", "")
        if not CHALLENGE.fullmatch(challenge):
            raise _invalid("code_challenge must be the base64url SHA-256 of the code verifier")
        return HandoffRequest(client, name, redirect_uri, state, challenge)

    def attach(self, login_id: str, request: HandoffRequest) -> None:
        with transaction(self.factory) as session:
            # Hand-offs go with their logins (kept as long, for the same audit reasons).
            session.execute(delete(Handoff).where(Handoff.created_at < utcnow() - RETENTION))
            session.add(
                Handoff(
                    login_id=login_id,
                    client=request.client.name,
                    redirect_uri=request.redirect_uri,
                    state=request.state,
                    code_challenge=request.code_challenge,
                )
            )

    def for_login(self, login_id: str) -> Handoff | None:
        with self.factory() as session:
            return session.get(Handoff, login_id)

    def issue_code(self, handoff: Handoff, grant: LoadedGrant) -> str:
        """The callback URL with a fresh one-time code for ``grant`` (the claimed login's)."""
        code = secrets.token_urlsafe(32)
        with transaction(self.factory) as session:
            session.execute(
                update(Handoff)
                .where(Handoff.login_id == handoff.login_id)
                .values(
                    code_hash=hash_token(code),
                    grant_id=grant.id,
                    code_expires_at=utcnow() + self.code_ttl,
                )
            )
        separator = "&" if "?" in handoff.redirect_uri else "?"
        return handoff.redirect_uri + separator + urlencode({"code": code, "state": handoff.state})

    def redeem(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """The login's holder and credentials, once, for the client that holds the verifier."""
        fields = {}
        for name in ("client", "code", "code_verifier", "redirect_uri"):
            value = body.get(name)
            if not isinstance(value, str) or not value or len(value) > 500 or not value.isascii():
                raise DomainError(ProblemType.INVALID_REQUEST, f"send {name}")
            fields[name] = value
        if not _CODE.fullmatch(fields["code"]):
            raise _invalid_grant("unknown code")
        if not VERIFIER.fullmatch(fields["code_verifier"]):
            raise _invalid_grant("code_verifier is not an RFC 7636 verifier")
        now = utcnow()
        with transaction(self.factory) as session:
            code_hash = hash_token(fields["code"])
            row = session.scalar(select(Handoff).where(Handoff.code_hash == code_hash))
            if row is None:
                raise _invalid_grant("unknown code")
            if row.client != fields["client"] or row.redirect_uri != fields["redirect_uri"]:
                raise _invalid_grant("the code was issued to another client or callback")
            if not hmac.compare_digest(row.code_challenge, s256(fields["code_verifier"])):
                raise _invalid_grant("code_verifier does not match the code_challenge")
            if row.code_expires_at is None or row.code_expires_at <= now:
                raise _invalid_grant("the code expired; sign in again")
            claimed = session.execute(
                update(Handoff)
                .where(Handoff.login_id == row.login_id, Handoff.redeemed_at.is_(None))
                .values(redeemed_at=now)
            ).rowcount
            grant_id = row.grant_id
        if not claimed:
            raise _invalid_grant("the code was already used; sign in again")
        grant = self.grants.get(grant_id or "")
        if grant is None:
            raise _invalid_grant("the login's grant has ended; sign in again")
        # The service opens its own session: the gateway's grant is not usable past this point.
        self.grants.end(grant.id)
        failing = [r for r in recheck(self.verifier, grant.credentials, now) if not r.verified]
        if failing:  # revoked between the scan and now
            raise Problem(
                failing[0].error_types()[0],
                "Credential no longer valid",
                403,
                failing[0].errors[0].detail,
            )
        return {
            "client": row.client,
            "portal": grant.portal,
            "holder": grant.holder,
            "credentials": [dict(c) for c, _ in grant.credentials],
            "verifiedAt": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
