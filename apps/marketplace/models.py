"""Tables of the marketplace: offers with their purchase policy, and purchase agreements."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, CurrencyCode, Did, Name, WrittenAt


class Offer(Base):
    __tablename__ = "marketplace_offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    seller: Mapped[Did] = mapped_column(index=True)  # the company (attorney) or the holder
    seller_holder: Mapped[Did]
    item_id: Mapped[int | None]  # a catalogue item
    title: Mapped[Name]
    description: Mapped[str] = mapped_column(default="")
    price_cents: Mapped[int]
    currency: Mapped[CurrencyCode]
    policy: Mapped[dict[str, Any]]
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[WrittenAt]


class Purchase(Base):
    """A purchase agreement: the offer's terms as they were, who bought, on which credentials."""

    __tablename__ = "marketplace_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("marketplace_offers.id"))
    seller: Mapped[Did] = mapped_column(index=True)
    buyer: Mapped[Did] = mapped_column(index=True)  # the company (attorney) or the holder
    buyer_holder: Mapped[Did]
    title: Mapped[Name]
    price_cents: Mapped[int]
    currency: Mapped[CurrencyCode]
    policy: Mapped[dict[str, Any]]
    credentials: Mapped[list[str]]
    created_at: Mapped[WrittenAt]
