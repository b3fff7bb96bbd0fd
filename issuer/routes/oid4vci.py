"""OpenID4VCI 1.0 endpoints, the project's JSON-LD context and the SD-JWT VC type metadata.

Public: ``GET /.well-known/openid-credential-issuer``,
``GET /.well-known/oauth-authorization-server``, ``GET /oid4vci/offers/<id>`` (credential offer
by reference), ``POST /oid4vci/token``, ``POST /oid4vci/nonce``, ``POST /oid4vci/credential``,
``GET /vct/<type>``, ``GET /contexts/credgate/v1``. Protocol refusals are OAuth error objects
(``{"error", "error_description"}``, 400; a bad access token 401), never a 500.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, jsonify, request

from credgate.db import utcnow
from credgate.openapi import obj, operation
from credgate.problems import Problem, json_body
from issuer.context import issuer_context
from issuer.oid4vci import grants, issuance, metadata
from issuer.oid4vci.errors import OAuthError, invalid_credential_request
from issuer.oid4vci.grants import Oid4vciSettings
from issuer.routes.common import public_url
from schemas.loader import CONTEXTS_DIR

oid4vci = Blueprint("issuer_oid4vci", __name__)
#: RFC 6749's error answer (OpenID4VCI's endpoints speak OAuth, not problem documents).
OAUTH_ERROR = obj(required={"error": {"type": "string"}})

NO_STORE = {"Cache-Control": "no-store"}
CONTEXT_FILE = CONTEXTS_DIR / "credgate-v1.jsonld"
CONTEXT_MAX_AGE = 86400  # a published context version never changes; a day keeps fixes possible


def oid4vci_settings() -> Oid4vciSettings:
    return current_app.extensions["issuer.oid4vci"]


def base_url() -> str:
    return public_url().rstrip("/")


@oid4vci.after_request
def cross_origin(response):
    """Browser-based wallets call these endpoints from their own origin (no cookies involved:
    bearer tokens and form posts only); Flask answers the preflight ``OPTIONS`` itself."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response.headers["Access-Control-Allow-Methods"] = "GET, POST"
    return response


@oid4vci.errorhandler(OAuthError)
def oauth_error(exc: OAuthError):
    return exc.response()


def _json(document, *, cache: str = "no-store"):
    response = jsonify(document)
    response.headers["Cache-Control"] = cache
    return response


@oid4vci.get("/.well-known/openid-credential-issuer")
@operation(
    "OpenID4VCI credential issuer metadata",
    responses={
        200: {
            "type": "object",
            "required": [
                "credential_issuer",
                "credential_endpoint",
                "credential_configurations_supported",
            ],
        }
    },
)
def issuer_metadata():
    name = current_app.config["OID4VCI_ISSUER_NAME"]
    return _json(metadata.issuer_metadata(base_url(), name), cache="max-age=300")


@oid4vci.get("/.well-known/oauth-authorization-server")
@operation(
    "OAuth authorization server metadata (pre-authorized code)",
    responses={200: {"type": "object", "required": ["issuer", "token_endpoint"]}},
)
def authorization_server_metadata():
    return _json(metadata.authorization_server_metadata(base_url()), cache="max-age=300")


@oid4vci.get("/oid4vci/offers/<offer_id>")
@operation(
    "A credential offer",
    responses={
        200: {
            "type": "object",
            "required": ["credential_issuer", "credential_configuration_ids", "grants"],
        },
        404: {"type": "object", "required": ["error"]},
    },
    problems=(503,),
)
def credential_offer(offer_id: str):
    if len(offer_id) > 64:
        raise OAuthError("not_found", "no such credential offer", 404)
    document = grants.offer_document(
        issuer_context(), oid4vci_settings(), offer_id, base_url(), utcnow()
    )
    return _json(document)


@oid4vci.post("/oid4vci/token")
@operation(
    "Token endpoint (form-encoded; OAuth errors)",
    body={"type": "object"},
    body_media="application/x-www-form-urlencoded",
    responses={
        200: {"type": "object", "required": ["access_token", "token_type"]},
        400: OAUTH_ERROR,
        401: OAUTH_ERROR,
        503: None,
    },
)
def token():
    if request.mimetype != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "send the token request form-encoded")
    try:
        form = request.form
    except Exception:  # noqa: BLE001 - any unreadable form is the client's error
        raise OAuthError("invalid_request", "the form could not be read") from None
    answer = grants.redeem(issuer_context(), oid4vci_settings(), form, utcnow())
    return _json(answer)


@oid4vci.post("/oid4vci/nonce")
@operation("A fresh c_nonce", responses={200: {"type": "object", "required": ["c_nonce"]}})
def nonce():
    return _json({"c_nonce": grants.new_nonce(oid4vci_settings(), utcnow())})


@oid4vci.post("/oid4vci/credential")
@operation(
    "Credential endpoint (bearer access token; OAuth errors)",
    responses={
        200: {"type": "object", "required": ["credentials"]},
        400: OAUTH_ERROR,
        401: OAUTH_ERROR,
        503: None,
    },
)
def credential():
    ctx, settings, now = issuer_context(), oid4vci_settings(), utcnow()
    grant = grants.grant_of_token(ctx, settings, request.headers.get("Authorization"), now)
    try:
        body = json_body()
    except Problem as problem:
        if problem.status >= 500:
            raise
        raise invalid_credential_request(problem.detail or problem.title) from None
    return _json(issuance.issue(ctx, settings, grant, body, base_url(), now))


@oid4vci.get("/vct/<type_name>")
@operation(
    "SD-JWT VC type metadata",
    responses={200: {"type": "object", "required": ["vct"]}},
    problems=(404,),
)
def type_metadata(type_name: str):
    if type_name not in metadata.FAMILIES:
        raise Problem("unknown-credential-type", "Unknown credential type", 404)
    return _json(metadata.type_metadata(base_url(), type_name), cache="max-age=3600")


@oid4vci.get("/contexts/credgate/v1")
@operation(
    "The project's JSON-LD context, as bundled",
    responses={200: ("application/ld+json", {"type": "object"}), 304: None},
)
def credgate_context():
    """The project's JSON-LD context, byte for byte as bundled (what signatures were made with)."""
    body = CONTEXT_FILE.read_bytes()
    json.loads(body)  # never serve a broken file as a context
    response = Response(body, mimetype="application/ld+json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = f"public, max-age={CONTEXT_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)
