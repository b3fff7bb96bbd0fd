"""Tables of the catalogue: what participants publish (data products, services, models, and
certified flists with their certificates)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, Did, Md5Hex, Name, Str16, Str100, Uri, WrittenAt

KINDS = ("data-product", "service", "model", "flist")


class CatalogueItem(Base):
    __tablename__ = "catalogue_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[Str16] = mapped_column(index=True)
    title: Mapped[Name]
    description: Mapped[str] = mapped_column(default="")
    keywords: Mapped[list[str]] = mapped_column(default=list)
    # " kw1 kw2 " lower-cased: keyword and purpose filters are a portable LIKE.
    keywords_text: Mapped[str] = mapped_column(default=" ")
    license: Mapped[Str100 | None]
    format: Mapped[Str100 | None]
    owner: Mapped[Did] = mapped_column(index=True)  # the company (attorney) or the holder
    publisher: Mapped[Did]  # the holder who published it
    flist_url: Mapped[Uri | None]
    digest: Mapped[Str100 | None] = mapped_column(index=True)  # urn:sha256:<hex>
    md5: Mapped[Md5Hex | None]
    purposes: Mapped[list[str]] = mapped_column(default=list)
    purposes_text: Mapped[str] = mapped_column(default=" ")
    certificate: Mapped[dict[str, Any] | None]
    created_at: Mapped[WrittenAt]
