"""Signing in at a service of the suite (depute, the admin pages) with the gateway's QR login: the
service's side of :mod:`gateway.handoff`.

:func:`begin` sends the browser to the gateway with a fresh ``state`` and the S256 hash of a
code verifier, both kept in a short-lived signed cookie (SameSite=Lax: it must come back on the
gateway's redirect, a top-level navigation from another site in a real deployment).
:func:`complete` checks the state, redeems the code with the verifier over HTTP, and returns what
the gateway verified. :func:`admit` then decides, with the service's own verifier and trust,
whether those credentials give what the service needs: the gateway vouches for the presentation
(proofs, holder binding, challenge); the service still checks every credential itself.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from flask import Blueprint, Response, current_app, redirect, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from credgate.errors import DomainError
from credgate.problems import Problem, problem_of
from signin.pkce import s256
from verifier.engine import CredentialResult, Verifier
from verifier.pdp import Decision, Requirement, decide_credentials

COOKIE = "credgate_signin"
PENDING_TTL = 600  # seconds the browser has to finish the QR login
TIMEOUT = 10.0  # seconds for the code's redemption (loopback or the data space's network)


@dataclass(frozen=True)
class SignedIn:
    """What the gateway verified: the presentation's holder and the credentials it carried."""

    holder: str
    portal: str
    credentials: tuple[Mapping[str, Any], ...]


def gateway_url(config: Mapping[str, Any]) -> str | None:
    """``GATEWAY_URL``, else the suite's verifier service (the gateway lives there)."""
    return config.get("GATEWAY_URL") or (config.get("SERVICE_URLS") or {}).get("verifier")


def wallet_available() -> bool:
    """Whether a gateway is configured, so the sign-in page can offer the wallet."""
    return gateway_url(current_app.config) is not None


def add_wallet_routes(
    bp: Blueprint,
    path: str,
    *,
    client: str,
    portal: str,
    sign_in: Callable[[SignedIn], object],
    login_page: Callable[..., tuple[str, int]],
    signed_in_page: Callable[[], str],
) -> None:
    """A service's two wallet sign-in routes on ``bp``: ``GET <path>/wallet`` (endpoint
    ``wallet_login``) sends the browser to the gateway's QR login for ``client``/``portal``; it
    comes back to ``GET <path>/callback`` (``wallet_callback``), where :func:`finish` redeems the
    code and ``sign_in`` decides. ``login_page(problem=..., status=...)`` shows a refusal."""

    def callback_url() -> str:
        return url_for(f"{bp.name}.wallet_callback", _external=True)

    def wallet_login() -> Response:
        return start(client, portal, callback_url())

    def wallet_callback() -> Response:
        return finish(
            client,
            callback_url(),
            sign_in,
            refused=lambda problem: login_page(problem=problem, status=problem.status),
            signed_in_page=signed_in_page,
        )

    bp.add_url_rule(f"{path}/wallet", "wallet_login", wallet_login)
    bp.add_url_rule(f"{path}/callback", "wallet_callback", wallet_callback)


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="credgate-gateway-signin")


def _cookie(client: str) -> str:
    return f"{COOKIE}_{client}"


def start(client: str, portal: str, callback_url: str) -> Response:
    """The "Sign in with your wallet" link's view: off to the configured gateway."""
    gateway = gateway_url(current_app.config)
    if gateway is None:
        raise Problem("not-available", "Wallet sign-in unavailable", 503, "no gateway configured")
    return begin(gateway, client, portal, callback_url)


def finish(
    client: str,
    callback_url: str,
    sign_in: Callable[[SignedIn], object],
    *,
    refused: Callable[[Problem], tuple[str, int]],
    signed_in_page: Callable[[], str],
) -> Response:
    """The callback's view: redeem, let the service ``sign_in`` (it raises a problem to refuse),
    and answer with ``signed_in_page`` or the ``refused`` page."""
    try:
        sign_in(complete(gateway_url(current_app.config) or "", client, callback_url))
    except DomainError as error:  # a Problem, or a service's domain error (its registry status)
        problem = problem_of(error)
        if problem.status >= 500 and problem.status != 503:
            raise
        body, status = refused(problem)
        return forget(Response(body, status), client, callback_url)
    # A page of the service moves on (not a redirect): its SameSite=Strict session cookie is
    # then sent, also when the gateway that sent the browser here is another site.
    return forget(Response(signed_in_page()), client, callback_url)


def begin(gateway: str, client: str, portal: str, callback_url: str) -> Response:
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode(
        {
            "portal": portal,
            "redirect_uri": callback_url,
            "state": state,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        }
    )
    response = redirect(f"{gateway.rstrip('/')}/connect/{client}?{query}", 303)
    response.set_cookie(
        _cookie(client),
        _serializer().dumps({"state": state, "verifier": verifier}),
        max_age=PENDING_TTL,
        path=urlsplit(callback_url).path,
        httponly=True,
        samesite="Lax",
        # Behind a TLS-terminating proxy the request looks plain: the service's own session
        # setting (SESSION_COOKIE_SECURE) then says so.
        secure=request.is_secure or bool(current_app.config.get("SESSION_COOKIE_SECURE")),
    )
    return response


def forget(response: Response, client: str, callback_url: str) -> Response:
    response.delete_cookie(_cookie(client), path=urlsplit(callback_url).path)
    return response


def complete(gateway: str, client: str, callback_url: str) -> SignedIn:
    """Redeem the code the gateway sent the browser back with; a problem if anything is off."""
    try:
        pending = _serializer().loads(request.cookies.get(_cookie(client), ""), max_age=PENDING_TTL)
    except BadSignature:  # also SignatureExpired
        raise Problem(
            "signin-expired",
            "Sign-in expired",
            400,
            "this sign-in was not started here or took too long; sign in again",
        ) from None
    state, code = request.args.get("state", ""), request.args.get("code", "")
    expected = str(pending.get("state", ""))
    if not code or not state.isascii() or not secrets.compare_digest(state, expected):
        raise Problem(
            "signin-state-mismatch",
            "Sign-in refused",
            400,
            "the gateway's answer does not belong to this sign-in; sign in again",
        )
    try:
        answer = requests.post(
            f"{gateway.rstrip('/')}/connect/token",
            json={
                "client": client,
                "code": code,
                "code_verifier": pending["verifier"],
                "redirect_uri": callback_url,
            },
            timeout=TIMEOUT,
        )
    except requests.RequestException:
        raise Problem(
            "gateway-unavailable",
            "Gateway unavailable",
            503,
            "the gateway did not answer; try again",
        ) from None
    try:
        body = answer.json()
    except ValueError:
        body = None
    if answer.status_code != 200 or not isinstance(body, dict):
        detail = body.get("detail") if isinstance(body, dict) else None
        raise Problem(
            "signin-refused",
            "Sign-in refused",
            401,
            detail or f"the gateway answered {answer.status_code}",
        )
    holder, credentials = body.get("holder"), body.get("credentials")
    if not isinstance(holder, str) or not isinstance(credentials, list):
        raise Problem("signin-refused", "Sign-in refused", 401, "the gateway's answer is malformed")
    return SignedIn(
        holder, str(body.get("portal")), tuple(c for c in credentials if isinstance(c, dict))
    )


def admit(
    verifier: Verifier, signed_in: SignedIn, requirement: Requirement
) -> tuple[Decision, list[CredentialResult]]:
    """Verify each handed-over credential again (proof, trust, validity; status as ``verifier``
    is configured) and decide ``requirement`` over those whose subject is the holder."""
    results = [verifier.verify_credential(c) for c in signed_in.credentials]
    bound = [r for r in results if r.facts is not None and signed_in.holder in r.facts.subject_ids]
    return decide_credentials(bound, requirement), results


def refusal(results: list[CredentialResult]) -> Problem | None:
    """Why a sign-in that :func:`admit` did not allow is refused, when a credential failed
    verification (its first error, with its own type); None when they verified but grant too
    little (the service names what is missing)."""
    first = next((e for r in results for e in r.errors), None)
    return None if first is None else Problem(first.slug, "Sign-in refused", 401, first.detail)
