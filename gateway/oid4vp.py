"""QR login over OpenID4VP: the same login, nonce, states and grant as the DIDComm QR login.

The login page shows ``openid4vp://?client_id=...&request_uri=...`` (QR code for another device,
link for this one). The wallet fetches the request object from ``request_uri`` (once; the login
becomes *scanned*), answers by ``direct_post`` to the ``response_uri``, and the gateway verifies
the ``vp_token`` (:mod:`verifier.vptoken`) and decides the portal like any login
(:meth:`~gateway.logins.LoginService.conclude`).

Versions spoken:

* OpenID4VP 1.0 (default): a signed request object (JAR, ``typ: oauth-authz-req+jwt``) by
  reference, ``response_type=vp_token``, ``response_mode=direct_post``, a DCQL query derived
  from the portal's presentation definition (``dc+sd-jwt`` by ``vct_values``, ``jwt_vc_json``
  by ``type_values``, ``ldp_vc`` by expanded type IRIs), client_id
  ``decentralized_identifier:<did:key>``.
* Drafts 18–22 (``request_uri`` with ``?draft=pe``): the same request with a
  ``presentation_definition`` (format keys ``vc+sd-jwt``, ``jwt_vp``/``jwt_vc``, ``ldp_vp``)
  and ``client_id_scheme=did``, client_id the bare did:key.

Client identification needs no PKI: the gateway's did:key signs the request object and a
wallet resolves the key from the client_id itself (``x509_san_dns`` would need a certificate
authority the wallet trusts; ``redirect_uri:`` cannot sign, so a wallet could not tell the
request was ours).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for
from jwcrypto import jwk
from nacl.signing import SigningKey

from credgate.openapi import operation, param
from credgate.problems import Problem
from credgate.secrets import get_or_create_secret
from gateway.challenges import login_challenges
from gateway.logins import LoginService
from gateway.state import gateway
from schemas.presentation import presentation_definition
from schemas.registry import VOCAB
from verifier import jose
from verifier.dids import did_key_from_public_key
from verifier.vptoken import verify_vp_token

REQUEST_TYPE = "oauth-authz-req+jwt"
REQUEST_AUDIENCE = "https://self-issued.me/v2"  # OpenID4VP 1.0 §5.8: the static wallet audience
W3C_VC = "https://www.w3.org/2018/credentials#VerifiableCredential"
SD_ALGS = ["EdDSA", "ES256"]
DID_PREFIX = "decentralized_identifier:"
MAX_FORM = 256 * 1024

oid4vp = Blueprint("gateway_oid4vp", __name__)
DIRECT_POST = {
    "type": "object",
    "properties": {
        key: {"type": "string"}
        for key in ("vp_token", "state", "presentation_submission", "error", "error_description")
    },
}


class RequestSigner:
    """The gateway's did:key for request objects, derived from a secret every worker shares."""

    def __init__(self, secret: str) -> None:
        seed = hashlib.sha256(
            b"credgate gateway openid4vp request key\0" + secret.encode()
        ).digest()
        signing = SigningKey(seed)
        public = bytes(signing.verify_key)
        self.did = did_key_from_public_key(public)
        self.kid = f"{self.did}#{self.did.removeprefix('did:key:')}"
        self.key = jwk.JWK(kty="OKP", crv="Ed25519", x=jose.b64url(public), d=jose.b64url(seed))

    @property
    def client_id(self) -> str:
        return DID_PREFIX + self.did

    @property
    def audiences(self) -> frozenset[str]:
        """What a KB-JWT or VP may name as its audience: either form of our client_id."""
        return frozenset({self.client_id, self.did})

    def sign(self, claims: Mapping[str, Any]) -> str:
        return jose.sign(claims, self.key, {"alg": "EdDSA", "typ": REQUEST_TYPE, "kid": self.kid})


# -- what is asked for ---------------------------------------------------------------------------


def _segments(path: str) -> list[str | None]:
    """``$.credentialSubject.powers[*].app`` -> ``["credentialSubject", "powers", None, "app"]``."""
    out: list[str | None] = []
    for part in path.removeprefix("$.").split("."):
        if part.endswith("[*]"):
            out += [part[:-3], None]
        else:
            out.append(part)
    return out


def _descriptor_parts(descriptor: Mapping[str, Any]) -> tuple[str | None, list[tuple[list, Any]]]:
    """The credgate type a descriptor asks for and its subject claims (path, wanted value)."""
    wanted_type = None
    claims: list[tuple[list, Any]] = []
    for spec in (descriptor.get("constraints") or {}).get("fields") or []:
        path = (spec.get("path") or [""])[0]
        value = (spec.get("filter") or {}).get("const")
        if path == "$.type[*]":
            wanted_type = value
        elif path.startswith("$.credentialSubject."):
            claims.append((_segments(path)[1:], value))
    return wanted_type, claims


def vct_values(type_name: str, issuer_url: str | None) -> list[str]:
    values = [type_name]
    if issuer_url:
        values.insert(0, f"{issuer_url.rstrip('/')}/vct/{type_name}")
    return values


def _claim_list(prefix: list[str], claims: list[tuple[list, Any]]) -> list[dict[str, Any]]:
    found = []
    for path, value in claims:
        entry: dict[str, Any] = {"path": [*prefix, *path]}
        if isinstance(value, (str, int, bool)):
            entry["values"] = [value]
        found.append(entry)
    return found


def dcql_query(portal_name: str, issuer_url: str | None = None) -> dict[str, Any]:
    """The DCQL query of a portal: per input descriptor, one credential query per format and a
    required credential set whose options are those formats."""
    credentials: list[dict[str, Any]] = []
    sets: list[dict[str, Any]] = []
    for n, descriptor in enumerate(presentation_definition(portal_name)["input_descriptors"]):
        type_name, claims = _descriptor_parts(descriptor)
        if not type_name:
            continue
        base = f"{type_name}-{n}"

        credentials += [
            {
                "id": f"{base}-sd-jwt",
                "format": "dc+sd-jwt",
                "meta": {"vct_values": vct_values(type_name, issuer_url)},
                "claims": _claim_list([], claims),
            },
            {
                "id": f"{base}-jwt",
                "format": "jwt_vc_json",
                "meta": {"type_values": [["VerifiableCredential", type_name]]},
                "claims": _claim_list(["credentialSubject"], claims),
            },
            {
                "id": f"{base}-ldp",
                "format": "ldp_vc",
                "meta": {"type_values": [[W3C_VC, VOCAB + type_name]]},
                "claims": _claim_list(["credentialSubject"], claims),
            },
        ]
        sets.append(
            {"options": [[f"{base}-sd-jwt"], [f"{base}-jwt"], [f"{base}-ldp"]], "required": True}
        )
    return {"credentials": credentials, "credential_sets": sets}


def draft_definition(portal_name: str) -> dict[str, Any]:
    """The portal's presentation definition for wallets of the PE drafts: paths that also find
    an SD-JWT's top-level claims and a VC-JWT's ``vc`` claim, and the format keys those drafts
    know."""
    definition = presentation_definition(portal_name)
    for descriptor in definition["input_descriptors"]:
        descriptor.pop("schema", None)  # SD-JWTs have no JSON-LD schema to match
        for spec in (descriptor.get("constraints") or {}).get("fields") or []:
            path = spec["path"][0]
            if path == "$.type[*]":
                name = (spec.get("filter") or {}).get("const")
                spec["path"] = ["$.type[*]", "$.vc.type[*]", "$.vct"]
                spec["filter"] = {"type": "string", "pattern": f"(^|[/#:]){name}$"}
            elif path.startswith("$.credentialSubject."):
                rest = path.removeprefix("$.credentialSubject.")
                spec["path"] = [path, f"$.vc.credentialSubject.{rest}", f"$.{rest}"]
        descriptor["format"] = formats_for_drafts()
    return definition


def formats_for_drafts() -> dict[str, Any]:
    """Presentation Exchange 2.0 allows only the DIF claim format registry's designations here:
    SD-JWT is ``vc+sd-jwt`` (``dc+sd-jwt`` is OpenID4VP 1.0's, and wallets validating the
    definition against the PE schema refuse the whole request for it)."""
    sd = {"sd-jwt_alg_values": SD_ALGS, "kb-jwt_alg_values": SD_ALGS}
    return {
        "vc+sd-jwt": sd,
        "jwt_vp": {"alg": SD_ALGS},
        "jwt_vc": {"alg": SD_ALGS},
        "jwt_vp_json": {"alg": SD_ALGS},
        "jwt_vc_json": {"alg": SD_ALGS},
        "ldp_vp": {
            "proof_type": ["Ed25519Signature2018", "Ed25519Signature2020", "DataIntegrityProof"]
        },
        "ldp_vc": {
            "proof_type": ["Ed25519Signature2018", "Ed25519Signature2020", "DataIntegrityProof"]
        },
    }


def formats_supported() -> dict[str, Any]:
    """OpenID4VP 1.0 ``vp_formats_supported`` (client metadata)."""
    return {
        "dc+sd-jwt": {"sd-jwt_alg_values": SD_ALGS, "kb-jwt_alg_values": SD_ALGS},
        "jwt_vc_json": {"alg_values": SD_ALGS},
        "ldp_vc": {
            "proof_type_values": [
                "Ed25519Signature2018",
                "Ed25519Signature2020",
                "DataIntegrityProof",
            ],
            "cryptosuite_values": ["eddsa-rdfc-2022", "eddsa-jcs-2022"],
        },
    }


# -- the flow ------------------------------------------------------------------------------------


class OpenId4VpLogins:
    def __init__(self, logins: LoginService, signer: RequestSigner, issuer_url: str | None):
        self.logins = logins
        self.signer = signer
        self.issuer_url = issuer_url

    def authorization_url(self, login_id: str, *, draft: bool = False) -> str:
        """The ``openid4vp://`` link of a login (QR code, or a link on the same device)."""
        request_uri = url_for("gateway_oid4vp.request_object", login_id=login_id, _external=True)
        if draft:
            request_uri += "?draft=pe"
        client_id = self.signer.did if draft else self.signer.client_id
        query = {"client_id": client_id, "request_uri": request_uri}
        if draft:
            query["client_id_scheme"] = "did"
        return "openid4vp://?" + urlencode(query, safe=":/")

    def request_object(self, login_id: str, *, draft: bool) -> str:
        """The signed request object, once per login (the wallet scanned it)."""
        row = self.logins.mark_scanned(login_id)
        now = int(time.time())
        claims: dict[str, Any] = {
            # The signer: the DID whose document lists the kid (not the prefixed client_id), as
            # independent 1.0 wallets (Credo 0.6) check it; client_id carries the prefix.
            "iss": self.signer.did,
            "aud": REQUEST_AUDIENCE,
            "client_id": self.signer.did if draft else self.signer.client_id,
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "response_uri": url_for("gateway_oid4vp.response", login_id=login_id, _external=True),
            "nonce": row.challenge,
            "state": row.invitation["oid4vp_state"],
            "iat": now,
            "exp": int(row.expires_at.timestamp()),
        }
        if draft:
            claims["client_id_scheme"] = "did"
            claims["presentation_definition"] = draft_definition(row.portal)
            claims["client_metadata"] = {"vp_formats": formats_for_drafts()}
        else:
            claims["dcql_query"] = dcql_query(row.portal, self.issuer_url)
            claims["client_metadata"] = {"vp_formats_supported": formats_supported()}
        return self.signer.sign(claims)

    def respond(self, login_id: str, form: Mapping[str, Any]):
        """A wallet's direct_post: its refusal, or a vp_token for this login."""
        row = self.logins.open_row(login_id)
        state = form.get("state")
        expected = row.invitation.get("oid4vp_state")
        # The state is only in the signed request: a post without it cannot end anyone's login.
        if not isinstance(state, str) or not expected or not hmac.compare_digest(state, expected):
            raise Problem(
                "state-mismatch",
                "Unknown state",
                400,
                "the response's state is not this login's request",
            )
        if form.get("error"):
            reason = f"{form.get('error')}: {form.get('error_description') or 'no reason given'}"
            self.logins.fail(login_id, f"the wallet refused: {reason}")
            return self.logins.view(login_id)
        vp_token = form.get("vp_token")
        if not vp_token:
            raise Problem("invalid-request", "No vp_token", 400, "the response has no vp_token")
        store = login_challenges(self.logins.factory, row.portal, self.logins.ttl)
        query = dcql_query(row.portal, self.issuer_url)
        result = verify_vp_token(
            self.logins.verifier,
            vp_token,
            nonce=row.challenge,
            audience=self.signer.audiences,
            challenges=store,
            query_ids=frozenset(c["id"] for c in query["credentials"]),
        )
        return self.logins.conclude(login_id, result, via="openid4vp")


def service() -> OpenId4VpLogins:
    gw = gateway()
    found = current_app.extensions.get("credgate.gateway.oid4vp")
    if found is None or gw.logins is None:
        raise Problem("not-available", "OpenID4VP login unavailable", 503)
    return found


def init_oid4vp(app, logins: LoginService) -> OpenId4VpLogins:
    secret = get_or_create_secret(
        app.config["CREDGATE_SETTINGS"].secrets_dir, "gateway-openid4vp-key"
    )
    issuer_url = (app.config.get("SERVICE_URLS") or {}).get("issuer")
    found = OpenId4VpLogins(logins, RequestSigner(secret), issuer_url)
    app.extensions["credgate.gateway.oid4vp"] = found
    app.register_blueprint(oid4vp)
    return found


# -- routes --------------------------------------------------------------------------------------


@oid4vp.route("/oid4vp/request/<login_id>", methods=["GET", "POST"])
@operation(
    "OpenID4VP request_uri: the signed request object (GET, or POST by request_uri_method)",
    responses={200: ("application/oauth-authz-req+jwt", {"type": "string"})},
    problems=(404, 409, 410),
    query={"draft": param("pe: the Presentation Exchange draft's form")},
)
def request_object(login_id: str):
    """``request_uri``: the signed request object (GET, or POST by ``request_uri_method``)."""
    token = service().request_object(login_id, draft=request.args.get("draft") == "pe")
    return Response(
        token, mimetype="application/oauth-authz-req+jwt", headers={"Cache-Control": "no-store"}
    )


@oid4vp.post("/oid4vp/response/<login_id>")
@operation(
    "OpenID4VP response_uri (direct_post): vp_token and state, or error",
    body=DIRECT_POST,
    body_media="application/x-www-form-urlencoded",
    responses={
        200: {
            "type": "object",
            "maxProperties": 0,
            "description": "accepted (the login page learns the outcome)",
        }
    },
    problems=(400, 404, 409, 410, 413),
)
def response(login_id: str):
    """``response_uri`` (direct_post): form-encoded ``vp_token``, ``state`` (and the drafts'
    ``presentation_submission``), or ``error``."""
    if (request.content_length or 0) > MAX_FORM:
        raise Problem("payload-too-large", "Response too large", 413)
    if request.mimetype != "application/x-www-form-urlencoded":
        raise Problem(
            "invalid-request",
            "Not a form",
            400,
            "direct_post sends application/x-www-form-urlencoded",
        )
    keys = ("vp_token", "state", "presentation_submission", "error", "error_description")
    form = {key: request.form.get(key) for key in keys}
    view = service().respond(login_id, form)
    if view.state != "verified" and not form.get("error"):
        raise Problem(
            "login-failed",
            "Presentation refused",
            400,
            view.reason or "refused",
            login=view.to_json(),
            errors=_slugs(view.reason),
        )
    return {}


def _slugs(reason: str | None) -> list[str]:
    """The error types a failed login's reason names (``slug: detail; ...``)."""
    return [part.split(":", 1)[0].strip() for part in (reason or "").split("; ") if ":" in part]


__all__ = ["OpenId4VpLogins", "RequestSigner", "dcql_query", "draft_definition"]
