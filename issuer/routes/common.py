"""What several blueprints share: the public base URL, the exchange view, the body envelope."""

from __future__ import annotations

from flask import current_app, g, request

from issuer import inputs
from issuer.context import issuer_context
from issuer.exchanges import PROOF_TYPES, describe_exchange, get_exchange
from issuer.models import Exchange
from issuer.oid4vci.grants import offer_view


def public_url() -> str:
    """Where holders reach this service: the configured URL, else the one the client used."""
    return issuer_context().public_url or request.url_root


def actor() -> str:
    return g.get("actor", "public")


def exchange_view(exchange: Exchange) -> dict:
    exchange, issued = get_exchange(issuer_context(), exchange.id)
    view = describe_exchange(exchange, issued, public_url())
    view["oid4vci"] = oid4vci_offer(exchange)
    return view


def oid4vci_offer(exchange: Exchange) -> dict | None:
    """The exchange's OpenID4VCI twin (offer link and PIN) while it is open."""
    settings = current_app.extensions["issuer.oid4vci"]
    return offer_view(issuer_context(), settings, exchange, public_url().rstrip("/"))


def exchange_created(exchange: Exchange):
    view = exchange_view(exchange)
    return view, 201, {"Location": view["status_url"]}


# -- request bodies (their OpenAPI declarations) -----------------------------------------------

INVALID = {"x-problem": "invalid-request"}
#: The checks of :mod:`issuer.inputs` and :func:`issuer.exchanges.proof_type_of`, as schemas.
DID = {"type": "string", "maxLength": 500, "pattern": inputs.DID.pattern, **INVALID}
PROOF_TYPE = {"enum": list(PROOF_TYPES), **INVALID}
STRINGS = {"type": "array", "minItems": 1, "items": {"type": "string"}, **INVALID}


def text(max_length: int, *, required: bool = True) -> dict:
    """A non-blank string (an optional one may be null)."""
    kinds = "string" if required else ["string", "null"]
    return {"type": kinds, "maxLength": max_length, "pattern": r"\S", **INVALID}


def envelope(*members: str, required: tuple[str, ...] = (), **checked: dict) -> dict:
    """A body of these members only (else ``invalid-request``), the ``checked`` ones with their
    schemas; what the others hold is checked by the services and by the credential's JSON Schema
    (``schema-violation``, pointing into the credential)."""
    body = {
        "type": "object",
        **INVALID,
        "additionalProperties": False,
        "properties": {**{name: {} for name in members}, **checked},
    }
    if required:
        body["required"] = list(required)
    return body
