"""What several blueprints share: the public base URL, the exchange view, the body envelope."""

from __future__ import annotations

from flask import current_app, g, jsonify, request

from issuer.context import issuer_context
from issuer.exchanges import describe_exchange, get_exchange
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
    response = jsonify(view)
    response.status_code = 201
    response.headers["Location"] = view["status_url"]
    return response


def envelope(*members: str) -> dict:
    """A body of these members only (else ``invalid-request``); what they hold is checked by the
    services and by the credential's JSON Schema (``schema-violation``, pointing into it)."""
    return {"type": "object", "x-problem": "invalid-request", "additionalProperties": False,
            "properties": {name: {} for name in members}}  # fmt: skip
