"""The wallet's OpenID4VCI 1.0 side: take an ``openid-credential-offer://`` link, redeem its
pre-authorized code with the PIN (``tx_code``), prove possession of the wallet's key, and keep
what the issuer sends.

The holder key is the wallet user's did:key in the holder agent: ACA-Py signs the key proof
(``POST /wallet/jwt/sign``, ``typ: openid4vci-proof+jwt``, ``kid`` = the DID URL), so the key never
leaves the agent and credentials of all three formats are bound to the same DID the wallet uses
over DIDComm. ``ldp_vc`` credentials go into the agent's W3C store (presentable like any other);
SD-JWT VCs and VC-JWTs are kept as the wallet's own interaction records (the agent cannot hold
them), and shown with their live status (Token Status List, or the W3C status list).

Every URL comes from outside (the QR code, then the issuer's metadata) and goes through the
wallet's fetch policy; answers are size-capped and time-bounded.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import uuid4

import requests
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from sqlalchemy import select

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from verifier.encoding import ED25519_PUB, multikey_decode
from verifier.fetch import FetchError, FetchPolicy, check_url

SCHEME = "openid-credential-offer://"
PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
PROOF_TYP = "openid4vci-proof+jwt"
KIND = "oid4vci-credential"  # the wallet's interaction kind for a credential received this way
MAX_BYTES = 256 * 1024
DEADLINE = 10.0
FORMATS = ("dc+sd-jwt", "jwt_vc_json", "ldp_vc")
OWN_FORMATS = ("dc+sd-jwt", "jwt_vc_json")  # kept as the wallet's records; ldp_vc in the agent

Signer = Callable[[dict[str, Any]], str]  # proof payload -> signed proof JWT


class Oid4vciFailed(Problem):
    """The issuer refused a step, or answered something a wallet cannot use."""

    def __init__(self, step: str, detail: str, status: int = 502) -> None:
        super().__init__(
            "oid4vci-failed", "Credential issuance failed", status, f"{step}: {detail}"[:500]
        )


def is_offer_link(text: str) -> bool:
    return text.strip().startswith(SCHEME)


@dataclass
class Http:
    """POSTs and GETs under the wallet's fetch policy: no redirects, a deadline, a size cap."""

    policy: FetchPolicy | None = None
    deadline: float = DEADLINE
    session: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self) -> None:
        self.session.trust_env = False

    def raw(self, method: str, url: str, step: str, **kwargs: Any) -> tuple[int, bytes]:
        try:
            check_url(url, self.policy if self.policy is not None else FetchPolicy())
        except FetchError:
            raise Oid4vciFailed(step, "this wallet does not open links to that host", 400) from None
        try:
            headers = {"Accept-Encoding": "identity", **kwargs.pop("headers", {})}
            response = self.session.request(
                method,
                url,
                allow_redirects=False,
                stream=True,
                headers=headers,
                timeout=(self.deadline, self.deadline),
                **kwargs,
            )
            with response:
                body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException:
            raise Oid4vciFailed(step, "the issuer could not be reached") from None
        if len(body) > MAX_BYTES:
            raise Oid4vciFailed(step, "the issuer's answer is too large")
        return response.status_code, body

    def call(self, method: str, url: str, step: str, **kwargs: Any) -> tuple[int, Any]:
        status, body = self.raw(method, url, step, **kwargs)
        try:
            data = json.loads(body) if body else None
        except ValueError:
            raise Oid4vciFailed(step, "the issuer's answer is not JSON") from None
        return status, data

    def json(self, method: str, url: str, step: str, **kwargs: Any) -> dict[str, Any]:
        status, data = self.call(method, url, step, **kwargs)
        if status != 200 or not isinstance(data, dict):
            error = (
                data.get("error_description") or data.get("error")
                if isinstance(data, dict)
                else None
            )
            raise Oid4vciFailed(
                step, f"the issuer answered {status}" + (f": {error}" if error else "")
            )
        return data


@dataclass(frozen=True)
class Received:
    configuration_id: str
    format: str
    credential: Any  # a JSON-LD credential (ldp_vc) or a compact JWT / SD-JWT string


def parse_offer_link(text: str, http: Http) -> dict[str, Any]:
    """The credential offer a link carries (``credential_offer``) or points to (``..._uri``)."""
    query = parse_qs(urlsplit(text.strip()).query)
    if "credential_offer" in query:
        try:
            offer = json.loads(query["credential_offer"][0])
        except ValueError:
            raise Oid4vciFailed(
                "offer", "the QR code's credential offer is not JSON", 400
            ) from None
    elif "credential_offer_uri" in query:
        offer = http.json("GET", query["credential_offer_uri"][0], "offer")
    else:
        raise Oid4vciFailed("offer", "the link holds no credential offer", 400)
    if not isinstance(offer, dict) or not isinstance(offer.get("credential_issuer"), str):
        raise Oid4vciFailed("offer", "the credential offer names no credential issuer", 400)
    return offer


def receive(
    text: str,
    *,
    tx_code: str | None,
    signer: Signer,
    http: Http,
    formats: tuple[str, ...] = FORMATS,
) -> list[Received]:
    """Every offered configuration of ``formats``, issued to the key ``signer`` signs with."""
    offer = parse_offer_link(text, http)
    issuer = offer["credential_issuer"].rstrip("/")
    grant = (offer.get("grants") or {}).get(PRE_AUTH_GRANT)
    if not isinstance(grant, dict) or not grant.get("pre-authorized_code"):
        raise Oid4vciFailed("offer", "only the pre-authorized code grant is supported", 400)
    if grant.get("tx_code") is not None and not tx_code:
        raise DomainError(
            ProblemType.TX_CODE_REQUIRED,
            "the offer asks for the PIN shown beside the QR code (--tx-code)",
        )
    meta = http.json("GET", f"{issuer}/.well-known/openid-credential-issuer", "metadata")
    servers = meta.get("authorization_servers") or [issuer]
    auth = http.json(
        "GET", f"{str(servers[0]).rstrip('/')}/.well-known/oauth-authorization-server", "metadata"
    )
    form = {"grant_type": PRE_AUTH_GRANT, "pre-authorized_code": grant["pre-authorized_code"]}
    if tx_code:
        form["tx_code"] = tx_code
    token = http.json("POST", str(auth.get("token_endpoint")), "token", data=form)
    access = token.get("access_token")
    if not isinstance(access, str):
        raise Oid4vciFailed("token", "the token response has no access token")
    configurations = meta.get("credential_configurations_supported") or {}
    received: list[Received] = []
    failed: list[Oid4vciFailed] = []
    for config_id in offer.get("credential_configuration_ids") or []:
        config = configurations.get(config_id) or {}
        if config.get("format") not in formats:
            continue
        try:  # one format refused does not lose the others the issuer already signed
            received += _one(http, meta, issuer, access, config_id, config, signer)
        except Oid4vciFailed as exc:
            failed.append(exc)
    if not received:
        raise (
            failed[0]
            if failed
            else Oid4vciFailed("credential", "the offer holds no credential this wallet takes", 400)
        )
    return received


def _one(
    http: Http,
    meta: dict[str, Any],
    issuer: str,
    access: str,
    config_id: str,
    config: dict[str, Any],
    signer: Signer,
) -> list[Received]:
    body: dict[str, Any] = {"credential_configuration_id": config_id}
    if config.get("proof_types_supported"):
        nonce = http.json("POST", str(meta.get("nonce_endpoint")), "nonce").get("c_nonce")
        proof = signer({"aud": issuer, "iat": int(time.time()), "nonce": nonce})
        body["proofs"] = {"jwt": [proof]}
    answer = http.json(
        "POST",
        str(meta.get("credential_endpoint")),
        "credential",
        json=body,
        headers={"Authorization": f"Bearer {access}"},
    )
    return [
        Received(config_id, config["format"], item["credential"])
        for item in answer.get("credentials") or []
        if isinstance(item, dict) and isinstance(item.get("credential"), str | dict)
    ]


# -- what a credential says ------------------------------------------------------------------


def _b64json(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def sd_jwt_claims(sd_jwt: str) -> dict[str, Any]:
    """The SD-JWT's payload with every disclosure put back in place (top-level claims)."""
    jws, *disclosures = sd_jwt.split("~")
    payload = _b64json(jws.split(".")[1])
    by_digest = {}
    for disclosure in disclosures:
        if not disclosure:
            continue
        digest = base64.urlsafe_b64encode(hashlib.sha256(disclosure.encode()).digest())
        by_digest[digest.rstrip(b"=").decode()] = json.loads(
            base64.urlsafe_b64decode(disclosure + "=" * (-len(disclosure) % 4))
        )
    for digest in payload.pop("_sd", []):
        found = by_digest.get(digest)
        if isinstance(found, list) and len(found) == 3:
            payload[found[1]] = found[2]
    payload.pop("_sd_alg", None)
    return payload


def w3c_view(fmt: str, credential: Any) -> dict[str, Any]:
    """A W3C-shaped view of any received credential (for listing and live status)."""
    if fmt == "ldp_vc":
        return credential
    if fmt == "jwt_vc_json":
        return _b64json(credential.split(".")[1]).get("vc") or {}
    claims = sd_jwt_claims(credential)
    registered = ("iss", "iat", "nbf", "exp", "vct", "cnf", "status", "jti")
    return {
        "id": claims.get("jti"),
        "type": ["VerifiableCredential", str(claims.get("vct", "")).rsplit("/", 1)[-1]],
        "issuer": claims.get("iss"),
        "credentialSubject": {k: v for k, v in claims.items() if k not in registered},
        "status_list": (claims.get("status") or {}).get("status_list"),
        "exp": claims.get("exp"),
    }


# -- the wallet service --------------------------------------------------------------------


def receive_into_wallet(
    ctx, account, text: str, *, tx_code: str | None, formats: tuple[str, ...] = FORMATS
):
    """Receive the offer's credentials into ``account``: ldp_vc into the holder agent, the rest
    as the wallet's records. Returns the interaction rows written."""
    from wallet import accounts
    from wallet.models import DONE, Interaction

    holder = accounts.holder(ctx, account)
    did = account.did

    def signer(payload: dict[str, Any]) -> str:
        return holder.call(lambda c: c.sign_jwt(payload, did=did, headers={"typ": PROOF_TYP}))

    http = Http(ctx.links.policy if ctx.links else None)
    received = receive(text, tx_code=tx_code, signer=signer, http=http, formats=formats)
    rows = []
    with transaction(ctx.factory) as session:
        for item in received:
            view = w3c_view(item.format, item.credential)
            record_id = uuid4().hex
            if item.format == "ldp_vc":
                credential = item.credential
                record_id = holder.call(lambda c, vc=credential: c.store_w3c_credential(vc))
            row = Interaction(
                id=uuid4().hex,
                user_id=account.id,
                kind=KIND,
                record_id=record_id[:64],
                state=DONE,
                counterparty_did=str(view.get("issuer"))[:500],
                request={"configuration_id": item.configuration_id, "format": item.format},
                outcome={"format": item.format, "credential": item.credential},
                detail=f"received {item.configuration_id} over OpenID4VCI",
                updated_at=utcnow(),
            )
            session.add(row)
            rows.append(row)
    return rows


def stored(ctx, account, *, with_credential: bool = False) -> list[dict[str, Any]]:
    """SD-JWT VCs and VC-JWTs this wallet received, with live status (and, with
    ``with_credential``, the credential as received and its disclosed claims)."""
    from wallet.models import DONE, Interaction

    with ctx.factory() as session:
        rows = list(
            session.scalars(
                select(Interaction)
                .where(
                    Interaction.user_id == account.id,
                    Interaction.kind == KIND,
                    Interaction.state == DONE,
                )
                .order_by(Interaction.created_at)
            )
        )
    http = Http(ctx.links.policy if ctx.links else None)
    result = []
    for row in rows:
        fmt = row.outcome.get("format")
        if fmt not in OWN_FORMATS:
            continue  # ldp_vc lives in the agent and is listed from there
        credential = row.outcome.get("credential")
        view = w3c_view(fmt, credential)
        if fmt == "dc+sd-jwt":
            live = {"status": sd_jwt_status(http, view)}
        else:
            live = ctx.status.check(view).to_dict()
        subject = view.get("credentialSubject") or {}
        result.append(
            {
                "record_id": row.record_id,
                "id": view.get("id"),
                "format": fmt,
                "types": [t for t in view.get("type") or [] if t != "VerifiableCredential"],
                "issuer": view.get("issuer"),
                "issuer_label": None,
                "subject": subject.get("id") if isinstance(subject, dict) else None,
                "issued": view.get("issuanceDate"),
                "expires": view.get("expirationDate"),
                "status": live,
            }
        )
        if with_credential:
            result[-1] |= {"credential": credential, "claims": subject}
    return result


def sd_jwt_status(http: Http, view: Mapping[str, Any]) -> str:
    """valid, revoked (the Token Status List says INVALID), expired, or unknown. The list token
    counts only if its issuer's key signed it and it names the credential's issuer and URI."""
    exp = view.get("exp")
    if isinstance(exp, int | float) and exp < time.time():
        return "expired"
    reference = view.get("status_list")
    if not isinstance(reference, Mapping) or not isinstance(reference.get("idx"), int):
        return "unknown"
    uri = str(reference.get("uri"))
    try:
        status, body = http.raw(
            "GET", uri, "status", headers={"Accept": "application/statuslist+jwt"}
        )
        if status != 200:
            return "unknown"
        jwt = body.decode("ascii").strip()
        claims = verified_status_token(jwt, str(view.get("issuer")), uri)
        value = decode_token_status(claims, reference["idx"])
    except (Oid4vciFailed, BadSignatureError, ValueError, KeyError, IndexError, TypeError):
        return "unknown"
    return "valid" if value == 0 else "suspended" if value == 2 else "revoked"


def verified_status_token(jwt: str, issuer: str, uri: str) -> dict[str, Any]:
    """The status list token's claims once its EdDSA signature by ``issuer``'s did:key holds."""
    header_part, payload_part, signature = jwt.split(".")
    header = _b64json(header_part)
    if header.get("typ") != "statuslist+jwt" or header.get("alg") != "EdDSA":
        raise ValueError("not an EdDSA status list token")
    did = str(header.get("kid", "")).partition("#")[0]
    if did != issuer or not did.startswith("did:key:"):
        raise ValueError("the status list token is not signed by the credential's issuer")
    key = multikey_decode(did.removeprefix("did:key:"), ED25519_PUB)
    sig = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    VerifyKey(key).verify(f"{header_part}.{payload_part}".encode(), sig)
    claims = _b64json(payload_part)
    if claims.get("sub") != uri:
        raise ValueError("the status list token is for another list")
    if isinstance(claims.get("exp"), int | float) and claims["exp"] < time.time():
        raise ValueError("the status list token expired")
    return claims


def decode_token_status(claims: Mapping[str, Any], index: int) -> int:
    """The status value of ``index`` in a status list token's claims (bits 1, 2, 4 or 8)."""
    claims = claims["status_list"]
    bits = int(claims["bits"])
    lst = claims["lst"]
    inflater = zlib.decompressobj()
    data = inflater.decompress(base64.urlsafe_b64decode(lst + "=" * (-len(lst) % 4)), 1 << 24)
    per_byte = 8 // bits
    return (data[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)


def forget(ctx, account, record_id: str) -> None:
    """Drop a received credential; the history keeps that it was received (without it)."""
    from wallet.models import DECLINED, DONE, Interaction

    with transaction(ctx.factory) as session:
        row = session.scalar(
            select(Interaction).where(
                Interaction.user_id == account.id,
                Interaction.kind == KIND,
                Interaction.record_id == record_id,
                Interaction.state == DONE,
            )
        )
        if row is not None:
            row.state = DECLINED
            row.outcome = {"format": row.outcome.get("format"), "forgotten": True}
            row.updated_at = utcnow()
