"""Marketplace routes, mounted by the gateway at ``/apps/marketplace``.

* ``GET /`` — offers and the caller's history (page); ``GET /api/offers``
* ``POST /api/offers`` — sell: DataProvider or ModelProvider, directly or as the attorney
  (power ``marketplace:sell``) of a company with the role
* ``POST /api/offers/<id>/purchase`` — buy: power ``marketplace:purchase`` (for a company), or
  a consumer role; then the offer's own policy against the buyer's credentials
* ``GET /api/history`` — purchases and sales of the caller (the company, for an attorney)
"""

from __future__ import annotations

from flask import Blueprint, render_template

from apps.marketplace import services
from credgate.problems import json_body
from credgate.web import db_sessions
from gateway.plugin import (
    ActingFor,
    AnyOf,
    AttorneyPower,
    Participant,
    Role,
    current_principal,
    requires,
)

bp = Blueprint("marketplace", __name__, template_folder="templates")

SELLERS = ("DataProvider", "ModelProvider")
SELL = AnyOf(*(Role(r) for r in SELLERS), ActingFor(AttorneyPower("marketplace", "sell"), SELLERS))
BUY = AnyOf(AttorneyPower("marketplace", "purchase"), Role("DataConsumer"), Role("ModelConsumer"))


@bp.get("/")
@requires(Participant())
def page():
    principal = current_principal()
    return render_template(
        "marketplace/index.html", principal=principal,
        offers=services.list_offers(db_sessions()),
        history=services.history(db_sessions(), principal.party),
    )  # fmt: skip


@bp.get("/api/offers")
@requires(Participant())
def offers():
    return {"offers": services.list_offers(db_sessions())}


@bp.post("/api/offers")
@requires(SELL)
def create_offer():
    return services.create_offer(db_sessions(), json_body(), current_principal()), 201


@bp.post("/api/offers/<int:offer_id>/purchase")
@requires(BUY)
def purchase(offer_id: int):
    return services.purchase(db_sessions(), offer_id, current_principal()), 201


@bp.get("/api/history")
@requires(Participant())
def history():
    principal = current_principal()
    transactions = services.history(db_sessions(), principal.party)
    return {"party": principal.party, "transactions": transactions}
