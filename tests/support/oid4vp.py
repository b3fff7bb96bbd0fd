"""OpenID4VP test issuers and holders: SD-JWT VCs and VC-JWTs signed with real keys, and a
loopback server publishing IETF Token Status Lists (``statuslist+jwt``) signed by the issuer;
the gateway's OpenID4VP login as a browser sees it, and a gateway to log in to (the fixtures of
tests/gateway/test_oid4vp.py and tests/security/test_oid4vp_attacks.py, imported by name).

Until the suite's OpenID4VCI issuer hands these out, tests issue them here, the way the specs
say an issuer does (RFC 9901 disclosures, SD-JWT VC claims, Token Status List encoding).
"""

from __future__ import annotations

import html
import itertools
import json
import re
import secrets
import time
from typing import Any

import pytest
from flask import Blueprint

from gateway.plugin import GatewayApp, Role, current_principal, requires
from tests.support.gateway import PortalBrowser, gateway_app, serving_gateway, wait_for_status_feed
from verifier import jose, sdjwt
from verifier.fetch import FetchPolicy
from verifier.testing import (
    LoopbackServer,
    Party,
    QuietHandler,
    StatusListServer,
    private_jwk,
    serving_lists,
)
from verifier.tokenstatus import deflate
from verifier.trust import StaticTrustRegistry
from wallet.oid4vp import Held, Signer, jose_kid, key_signer

_probe = Blueprint("oid4vp_probe", __name__)


@_probe.get("/data")
@requires(Role("DataProvider"))
def _data():
    return {"holder": current_principal().holder}


#: A gateway app at ``/apps/oid4vp-probe/data`` that admits a DataProvider and names its holder
#: (service nodes in processes of their own mount it by name: ``tests.support.oid4vp:PROBE``).
PROBE = GatewayApp("oid4vp-probe", "Probe", _probe)


def public_jwk(party: Party) -> dict[str, Any]:
    return json.loads(private_jwk(party).export_public())


def disclosure(name: str | None, value: Any) -> str:
    salt = secrets.token_urlsafe(16)
    item = [salt, value] if name is None else [salt, name, value]
    return jose.b64url(json.dumps(item).encode())


def issue_sdjwt(
    issuer: Party,
    holder: Party | None,
    vct: str,
    claims: dict[str, Any],
    *,
    status: tuple[str, int] | None = None,
    always_visible: tuple[str, ...] = (),
    exp: int | None = None,
    header: dict[str, Any] | None = None,
    signer: Party | None = None,
) -> str:
    """``<issuer JWT>~<disclosure>~...~``: every claim but ``always_visible`` selectively
    disclosable (top level)."""
    now = int(time.time())
    payload: dict[str, Any] = {"iss": issuer.did, "iat": now - 5, "vct": vct, "_sd_alg": "sha-256"}
    if exp is not None:
        payload["exp"] = exp
    if holder is not None:
        payload["cnf"] = {"jwk": public_jwk(holder)}
    if status is not None:
        payload["status"] = {"status_list": {"uri": status[0], "idx": status[1]}}
    disclosures = []
    payload["_sd"] = []
    for name, value in claims.items():
        if name in always_visible:
            payload[name] = value
            continue
        text = disclosure(name, value)
        disclosures.append(text)
        payload["_sd"].append(sdjwt.digest(text))
    payload["_sd"].sort()
    signing = signer or issuer
    head = {"alg": "EdDSA", "typ": "dc+sd-jwt", "kid": issuer.method, **(header or {})}
    token = jose.sign(payload, private_jwk(signing), head)
    return "~".join([token, *disclosures]) + "~"


def issue_vcjwt(issuer: Party, holder: Party, vc: dict[str, Any], *, jti: str | None = None) -> str:
    now = int(time.time())
    body = {k: v for k, v in vc.items() if k not in ("proof", "issuer", "issuanceDate")}
    body["credentialSubject"] = {k: v for k, v in vc["credentialSubject"].items() if k != "id"}
    payload = {
        "iss": issuer.did,
        "sub": holder.did,
        "nbf": now - 5,
        "exp": now + 3600,
        "vc": body,
        "jti": jti or f"urn:uuid:{secrets.token_hex(8)}",
    }
    return jose.sign(
        payload, private_jwk(issuer), {"alg": "EdDSA", "typ": "JWT", "kid": issuer.method}
    )


def held_sdjwt(credential: str, holder: Party) -> Held:
    return Held("dc+sd-jwt", credential, key_signer(private_jwk(holder)), holder.did)


def held_vcjwt(credential: str, holder: Party) -> Held:
    signer = key_signer(private_jwk(holder), jose_kid(holder.did))
    return Held("jwt_vc_json", credential, signer, holder.did)


class TokenListServer(LoopbackServer):
    """Token Status Lists at ``/tsl/<id>`` (1 bit per token), signed by their issuer; changes
    go on ``feed`` (the status server whose change feed the gateway follows)."""

    def __init__(self, feed: StatusListServer | None = None) -> None:
        self.lists: dict[str, tuple[Party, bytearray]] = {}
        self.feed = feed
        self.signer_override: dict[str, Party] = {}
        self.signers: dict[str, tuple[str, Signer]] = {}
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802
                list_id = self.path.removeprefix("/tsl/")
                if list_id not in server.lists:
                    self.reply(404)
                    return
                self.reply(200, server.token(list_id).encode(), "application/statuslist+jwt")

        super().__init__(Handler)

    def add(
        self,
        list_id: str,
        issuer: Party | None,
        *,
        did: str | None = None,
        sign: Signer | None = None,
    ) -> str:
        """A list signed by ``issuer``, or by ``sign`` for ``did`` (an agent's key)."""
        self.lists[list_id] = (issuer, bytearray(1024))
        if sign is not None:
            self.signers[list_id] = (str(did), sign)
        return self.uri(list_id)

    def uri(self, list_id: str) -> str:
        return f"{self.url}/tsl/{list_id}"

    def token(self, list_id: str) -> str:
        issuer, bits = self.lists[list_id]
        now = int(time.time())
        if list_id in self.signers:
            did, sign = self.signers[list_id]
            payload = {
                "iss": did,
                "sub": self.uri(list_id),
                "iat": now,
                "exp": now + 3600,
                "status_list": {"bits": 1, "lst": deflate(bytes(bits))},
            }
            return sign(payload, {"typ": "statuslist+jwt"})
        signer = self.signer_override.get(list_id, issuer)
        assert signer is not None
        payload = {
            "iss": signer.did,
            "sub": self.uri(list_id),
            "iat": now,
            "exp": now + 3600,
            "status_list": {"bits": 1, "lst": deflate(bytes(bits))},
        }
        return jose.sign(
            payload,
            private_jwk(signer),
            {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": signer.method},
        )

    def set(self, list_id: str, index: int, value: bool = True) -> None:
        """Flip token ``index`` (bit ``index % 8`` from the least significant end) and report it
        on the change feed, naming the entry, as the revocation service does."""
        _, bits = self.lists[list_id]
        mask = 1 << (index % 8)
        bits[index // 8] = bits[index // 8] | mask if value else bits[index // 8] & ~mask
        if self.feed is not None:
            feed = self.feed
            feed.changes.append(
                {
                    "seq": len(feed.changes) + 1,
                    "url": self.uri(list_id),
                    "index": index,
                    "status": "revoked" if value else "active",
                }
            )
            feed._changed.poke()  # wakes the feed's long polls, as its own set() does


class Browser(PortalBrowser):
    def open(self, portal: str = "data-provider") -> dict[str, str]:
        """The portal's OpenID4VP login: with its 1.0 and its drafts' request links."""
        found = self.portal(portal, timeout=10, protocol="openid4vp")
        page = found["page"]
        found["link"] = html.unescape(re.search(r'id="oid4vp-link" href="([^"]+)"', page).group(1))
        found["draft"] = html.unescape(
            re.search(r'id="oid4vp-draft-link" href="([^"]+)"', page).group(1)
        )
        return found


# -- a gateway with OpenID4VP login: its onboarding AUTHORITY's lists, a HOLDER ------------------

AUTHORITY = Party.generate()
HOLDER = Party.generate()
#: Status list indexes, one per credential.
INDEXES = itertools.count(1)


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(("v2-roles", AUTHORITY, "revocation"))


@pytest.fixture(scope="module")
def token_lists(status_server):
    server = TokenListServer(feed=status_server).start()
    server.add("roles", AUTHORITY)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(settings, db, status_server, token_lists):
    trust = StaticTrustRegistry(onboarding_authority=AUTHORITY.did)
    app = gateway_app(
        settings,
        db,
        trust=trust,
        status_url=status_server.url,
        apps=[PROBE],
        FETCH_ALLOW=[status_server.url, token_lists.url],
    )
    wait_for_status_feed(app)
    yield from serving_gateway(app)


@pytest.fixture(scope="module")
def policy(gateway):
    return FetchPolicy([gateway.url])


def role_sdjwt(token_lists, holder=HOLDER, *, roles=("DataProvider",), issuer=AUTHORITY, **kw):
    """A RoleCredential SD-JWT VC with an entry in ``token_lists``' "roles"; (it, its index)."""
    index = next(INDEXES)
    credential = issue_sdjwt(
        issuer,
        holder,
        "RoleCredential",
        {"roles": list(roles)},
        status=(token_lists.uri("roles"), index),
        exp=int(time.time()) + 3600,
        **kw,
    )
    return credential, index
