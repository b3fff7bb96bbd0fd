"""Marketplace services: offers, purchases checked against the offer's policy, history."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from apps import inputs
from apps.marketplace.models import Offer, Purchase
from apps.marketplace.policy import parse_policy, requirements
from credgate.db import transaction
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from gateway.plugin import Principal, describe, missing

CURRENCY = re.compile(r"[A-Z]{3}")
MAX_CENTS = 10**12


def parse_price(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise inputs.invalid("price", 'price is a decimal string, e.g. "12.50"')
    try:
        amount = Decimal(str(value))
        cents = amount * 100
    except InvalidOperation:
        raise inputs.invalid("price", 'price is a decimal string, e.g. "12.50"') from None
    whole = amount.is_finite() and cents == cents.to_integral_value()
    if not whole or amount < 0 or cents > MAX_CENTS:
        raise inputs.invalid("price", "price is ≥ 0 with at most two decimals")
    return int(cents)


def _time(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def offer_json(offer: Offer) -> dict[str, Any]:
    return {
        "id": offer.id,
        "seller": offer.seller,
        "item": offer.item_id,
        "title": offer.title,
        "description": offer.description,
        "price": f"{offer.price_cents / 100:.2f}",
        "currency": offer.currency,
        "policy": offer.policy,
        "active": offer.active,
        "created": _time(offer.created_at),
    }


def create_offer(factory: sessionmaker[Session], body: Any, principal: Principal) -> dict[str, Any]:
    body = inputs.obj(body)
    currency = body.get("currency", "EUR")
    if not isinstance(currency, str) or not CURRENCY.fullmatch(currency):
        raise inputs.invalid("currency", "currency is an ISO 4217 code, e.g. EUR")
    item = body.get("item")
    if item is not None and (isinstance(item, bool) or not isinstance(item, int) or item < 1):
        raise inputs.invalid("item", "item is a catalogue item id")
    offer = Offer(
        seller=principal.party,
        seller_holder=principal.holder,
        item_id=item,
        title=inputs.text(body, "title", max_length=200),
        description=inputs.text(body, "description", max_length=5000, required=False, default="")
        or "",
        price_cents=parse_price(body.get("price")),
        currency=currency,
        policy=parse_policy(body.get("policy")),
    )
    with transaction(factory) as session:
        session.add(offer)
    return offer_json(offer)


def list_offers(factory: sessionmaker[Session], limit: int = 100) -> list[dict[str, Any]]:
    with factory() as session:
        rows = session.scalars(
            select(Offer).where(Offer.active.is_(True)).order_by(Offer.id.desc()).limit(limit)
        ).all()
    return [offer_json(o) for o in rows]


def purchase(factory: sessionmaker[Session], offer_id: int, principal: Principal) -> dict[str, Any]:
    """A purchase agreement, if the buyer's credentials as they stand now meet the policy."""
    with factory() as session:
        offer = session.get(Offer, offer_id)
    if offer is None or not offer.active:
        raise DomainError(ProblemType.UNKNOWN_OFFER, f"no active offer {offer_id}")
    if offer.seller == principal.party:
        raise DomainError(ProblemType.OWN_OFFER, "a seller cannot buy its own offer")
    evidence: list[str] = []
    for requirement in requirements(offer.policy):
        decision = principal.check(requirement)
        if not decision.allow:
            raise DomainError(
                ProblemType.POLICY_UNSATISFIED,
                f"this offer requires {describe(requirement)}",
                required=describe(requirement),
                missing=missing(decision.reasons),
                reasons=[r.to_dict() for r in decision.reasons],
            )
        evidence.extend(decision.credentials)
    agreement = Purchase(
        offer_id=offer.id,
        seller=offer.seller,
        buyer=principal.party,
        buyer_holder=principal.holder,
        title=offer.title,
        price_cents=offer.price_cents,
        currency=offer.currency,
        policy=offer.policy,
        credentials=sorted(set(evidence + list(principal.decision.credentials))),
    )
    with transaction(factory) as session:
        session.add(agreement)
    return purchase_json(agreement, principal.party)


def purchase_json(row: Purchase, party: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "offer": row.offer_id,
        "title": row.title,
        "price": f"{row.price_cents / 100:.2f}",
        "currency": row.currency,
        "seller": row.seller,
        "buyer": row.buyer,
        "buyerHolder": row.buyer_holder,
        "as": "buyer" if row.buyer == party else "seller",
        "credentials": row.credentials,
        "created": _time(row.created_at),
    }


def history(factory: sessionmaker[Session], party: str, limit: int = 100) -> list[dict[str, Any]]:
    """The participant's transactions, as buyer and as seller, newest first."""
    with factory() as session:
        rows = session.scalars(
            select(Purchase)
            .where(or_(Purchase.buyer == party, Purchase.seller == party))
            .order_by(Purchase.id.desc())
            .limit(limit)
        ).all()
    return [purchase_json(r, party) for r in rows]
