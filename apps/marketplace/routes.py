"""Marketplace routes, mounted by the gateway at ``/apps/marketplace``.

* ``GET /`` — offers and the caller's history (page); ``GET /api/offers``
* ``POST /api/offers`` — sell: DataProvider or ModelProvider, directly or as the attorney
  (power ``marketplace:sell``) of a company with the role
* ``POST /api/offers/<id>/purchase`` — buy: power ``marketplace:purchase`` (for a company), or
  a consumer role; then the offer's own policy against the buyer's credentials
* ``GET /api/history`` — purchases and sales of the caller (the company, for an attorney)

Each JSON route declares what it takes and answers (:func:`~gateway.plugin.operation`): the
declaration checks an offer's body before the view runs, with the problems the services' own
checks give (``invalid-field`` naming the field, ``invalid-request`` for a body that is not an
object), and describes the route in the gateway's ``/openapi.json``. What a schema cannot say (a
price's cents, a policy's roles and definition, as :mod:`apps.marketplace.policy` reads them)
the services still check.
"""

from __future__ import annotations

from flask import Blueprint, render_template

from apps.marketplace import services
from credgate.problems import json_body
from credgate.web import db_sessions
from gateway import plugin

bp = Blueprint("marketplace", __name__, template_folder="templates")

SELLERS = ("DataProvider", "ModelProvider")
SELL = plugin.AnyOf(
    *(plugin.Role(r) for r in SELLERS),
    plugin.ActingFor(plugin.AttorneyPower("marketplace", "sell"), SELLERS),
)
BUY = plugin.AnyOf(
    plugin.AttorneyPower("marketplace", "purchase"),
    plugin.Role("DataConsumer"),
    plugin.Role("ModelConsumer"),
)

# -- what the API takes and answers (the gateway's /openapi.json) --------------------------------

#: Every field error is the services' ``invalid-field`` (a missing one too), as before.
FIELD = "invalid-field"
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
INTEGER = {"type": "integer"}
TIME = {"type": "string", "format": "date-time"}
PRICE = {"type": "string", "pattern": r"^\d+\.\d{2}$"}
POLICY = plugin.obj(optional={"roles": STRINGS, "definition": STRING})
OFFER = plugin.component(
    "Offer",
    plugin.obj(
        required={
            "id": INTEGER,
            "seller": STRING,
            "title": STRING,
            "description": STRING,
            "price": PRICE,
            "currency": STRING,
            "policy": POLICY,
            "active": {"type": "boolean"},
            "created": TIME,
        },
        optional={"item": {"type": ["integer", "null"]}},
    ),
)
PURCHASE = plugin.component(
    "Purchase",
    plugin.obj(
        required={
            "id": INTEGER,
            "offer": INTEGER,
            "title": STRING,
            "price": PRICE,
            "currency": STRING,
            "seller": STRING,
            "buyer": STRING,
            "buyerHolder": STRING,
            "as": {"enum": ["buyer", "seller"]},
            "credentials": STRINGS,
            "created": TIME,
        }
    ),
)
NEW_OFFER = plugin.obj(
    problem="invalid-request",  # not an object at all
    required={
        "title": {
            "type": "string",
            "minLength": 1,
            "maxLength": 200,
            "pattern": r"\S",
            "x-problem": FIELD,
        },
        "price": {
            "type": ["string", "integer"],
            "minimum": 0,
            "x-problem": FIELD,
            "description": 'a decimal of at most two decimals, e.g. "12.50"',
        },
    },
    optional={
        "description": {"type": ["string", "null"], "maxLength": 5000, "x-problem": FIELD},
        "currency": {
            "type": "string",
            "pattern": "^[A-Z]{3}$",
            "default": "EUR",
            "x-problem": FIELD,
            "description": "ISO 4217",
        },
        "item": {
            "type": ["integer", "null"],
            "minimum": 1,
            "x-problem": FIELD,
            "description": "the catalogue item offered",
        },
        # Its members are policy.parse_policy's to check: each error names the member.
        "policy": {
            "type": ["object", "null"],
            "x-problem": FIELD,
            "description": 'who may buy: {"roles": [...], "definition": "<name>"}',
            "properties": {
                "roles": {"type": "array", "minItems": 1, "x-problem": FIELD},
                "definition": {"type": "string", "x-problem": FIELD},
            },
        },
    },
)
GATED = plugin.gated("marketplace")


@bp.get("/")
@plugin.requires(plugin.Participant())
@plugin.page
def index():
    principal = plugin.current_principal()
    return render_template(
        "marketplace/index.html",
        principal=principal,
        offers=services.list_offers(db_sessions()),
        history=services.history(db_sessions(), principal.party),
    )


@bp.get("/api/offers")
@plugin.requires(plugin.Participant())
@plugin.operation(
    "The active offers, newest first",
    **GATED,
    responses={
        **plugin.TO_LOGIN,
        200: plugin.listing("offers", OFFER),
    },
)
def offers():
    return {"offers": services.list_offers(db_sessions())}


@bp.post("/api/offers")
@plugin.requires(SELL)
@plugin.operation("Offer data or a model for sale", body=NEW_OFFER, responses={201: OFFER}, **GATED)
def create_offer():
    return services.create_offer(db_sessions(), json_body(), plugin.current_principal()), 201


@bp.post("/api/offers/<int:offer_id>/purchase")
@plugin.requires(BUY)
@plugin.operation(
    "Buy an offer, if the buyer meets its policy",
    responses={201: PURCHASE},
    **{**GATED, "problems": (403, 404, 409)},
)
def purchase(offer_id: int):
    return services.purchase(db_sessions(), offer_id, plugin.current_principal()), 201


@bp.get("/api/history")
@plugin.requires(plugin.Participant())
@plugin.operation(
    "The caller's purchases and sales (its company's, for an attorney)",
    **GATED,
    responses={
        **plugin.TO_LOGIN,
        200: plugin.obj(
            required={"party": STRING, "transactions": {"type": "array", "items": PURCHASE}}
        ),
    },
)
def history():
    principal = plugin.current_principal()
    transactions = services.history(db_sessions(), principal.party)
    return {"party": principal.party, "transactions": transactions}
