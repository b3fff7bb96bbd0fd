"""Tables of the marketplace: offers with their purchase policy, and purchase agreements."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow


class Offer(Base):
    __tablename__ = "marketplace_offers"
    __table_args__ = (Index("ix_marketplace_offers_seller", "seller"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seller: Mapped[str] = mapped_column(String(500))  # the company (attorney) or the holder
    seller_holder: Mapped[str] = mapped_column(String(500))
    item_id: Mapped[int | None] = mapped_column(Integer, default=None)  # a catalogue item
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Purchase(Base):
    """A purchase agreement: the offer's terms as they were, who bought, on which credentials."""

    __tablename__ = "marketplace_purchases"
    __table_args__ = (
        Index("ix_marketplace_purchases_buyer", "buyer"),
        Index("ix_marketplace_purchases_seller", "seller"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("marketplace_offers.id"))
    seller: Mapped[str] = mapped_column(String(500))
    buyer: Mapped[str] = mapped_column(String(500))  # the company (attorney) or the holder
    buyer_holder: Mapped[str] = mapped_column(String(500))
    title: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    credentials: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
