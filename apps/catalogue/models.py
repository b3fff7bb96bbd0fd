"""Tables of the catalogue: what participants publish (data products, services, models, and
certified flists with their certificates)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow

KINDS = ("data-product", "service", "model", "flist")


class CatalogueItem(Base):
    __tablename__ = "catalogue_items"
    __table_args__ = (
        Index("ix_catalogue_items_kind", "kind"),
        Index("ix_catalogue_items_owner", "owner"),
        Index("ix_catalogue_items_digest", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    # " kw1 kw2 " lower-cased: keyword and purpose filters are a portable LIKE.
    keywords_text: Mapped[str] = mapped_column(Text, default=" ")
    license: Mapped[str | None] = mapped_column(String(100), default=None)
    format: Mapped[str | None] = mapped_column(String(100), default=None)
    owner: Mapped[str] = mapped_column(String(500))  # the company (attorney) or the holder
    publisher: Mapped[str] = mapped_column(String(500))  # the holder who published it
    flist_url: Mapped[str | None] = mapped_column(String(500), default=None)
    digest: Mapped[str | None] = mapped_column(String(100), default=None)  # urn:sha256:<hex>
    md5: Mapped[str | None] = mapped_column(String(32), default=None)
    purposes: Mapped[list[str]] = mapped_column(JSON, default=list)
    purposes_text: Mapped[str] = mapped_column(Text, default=" ")
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
