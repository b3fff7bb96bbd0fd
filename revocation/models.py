"""Tables of the revocation service: status lists, their entries, the history of every entry, the
change feed and the signed status-list credentials.

A list's bitstring is never stored: it is derived from its entries (a bit is set when the entry is
revoked, suspended or abandoned), so the published list and the entries cannot disagree. What is
stored is the last signed credential per list, tagged with the list version it was built from.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from credgate.changelog import ChangeRow, HeadRow
from credgate.db import (
    Actor,
    Base,
    Did,
    LongUri,
    Str16,
    Str32,
    Str64,
    Str80,
    Str200,
    Timestamps,
    Uri,
    WrittenAt,
)
from verifier.status import STATUS_LIST_MODELS

#: Entries per list: the minimum of both specifications (16 KiB of bits), for herd privacy.
LIST_SIZE = 131_072

PURPOSES = ("revocation", "suspension")
MODELS = tuple(STATUS_LIST_MODELS)  # ("StatusList2021", "BitstringStatusList")
STATES = ("reserved", "issued", "abandoned")
STATUSES = ("active", "revoked", "suspended")

#: The largest id, index or sequence number the INTEGER columns hold (on every database).
MAX_INTEGER = 2**31 - 1


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class StatusList(Base):
    """One status list of an issuing DID, for one purpose and one data model.

    ``seq`` numbers the lists of the same (issuer, purpose, model, base URL): when one fills up the
    next is created with ``seq + 1``; the unique constraint makes two workers agree on one list.
    ``version`` is the change-feed sequence number of the last change to the list.
    """

    __tablename__ = "status_lists"
    __table_args__ = (
        UniqueConstraint("issuer_did", "purpose", "model", "base_url", "seq"),
        CheckConstraint(_one_of("purpose", PURPOSES), name="purpose"),
        CheckConstraint(_one_of("model", MODELS), name="model"),
        CheckConstraint("size > 0", name="size"),
    )

    id: Mapped[Str64] = mapped_column(primary_key=True)
    issuer_did: Mapped[Did]
    purpose: Mapped[Str16]
    model: Mapped[Str32]
    base_url: Mapped[Uri]
    seq: Mapped[int]
    url: Mapped[LongUri]
    size: Mapped[int] = mapped_column(default=LIST_SIZE)
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[WrittenAt]


class StatusEntry(Timestamps, Base):
    """One index of a list, given to one credential.

    ``state`` follows the issuance (reserved -> issued, or reserved -> abandoned) and ``status``
    the operator's decisions (active, suspended, revoked). The unique (list, index) constraint is
    what guarantees that no index is given twice, also across workers.
    """

    __tablename__ = "status_entries"
    __table_args__ = (
        UniqueConstraint("list_id", "list_index"),
        CheckConstraint(_one_of("state", STATES), name="state"),
        CheckConstraint(_one_of("status", STATUSES), name="status"),
        CheckConstraint("list_index >= 0", name="list_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"))
    list_index: Mapped[int]
    credential_id: Mapped[Uri] = mapped_column(index=True)
    exchange_id: Mapped[Str200 | None]
    state: Mapped[Str16] = mapped_column(default="reserved")
    status: Mapped[Str16] = mapped_column(default="active")


class StatusEvent(Base):
    """The history of an entry: every allocation, issuance, abandonment and status change."""

    __tablename__ = "status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("status_entries.id"), index=True)
    action: Mapped[Str16]
    reason: Mapped[str]
    actor: Mapped[Actor]
    state: Mapped[Str16]  # after the action
    status: Mapped[Str16]  # after the action
    at: Mapped[WrittenAt]


class StatusFeedHead(HeadRow, Base):
    """The change feed's head row (see :mod:`credgate.changelog`)."""

    __tablename__ = "status_feed_head"


class StatusChange(ChangeRow, Base):
    """One change to a list, in feed order: what verifiers subscribe to."""

    __tablename__ = "status_changes"

    list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"))
    # The entry changed and its bit's meaning after the change (see revocation.feed).
    list_index: Mapped[int | None]
    status: Mapped[Str16 | None]


class StatusListCredential(Base):
    """The last signed status-list credential of a list, exactly as served.

    Kept apart from ``status_lists`` so that publishing never waits on a lock held by a writer.
    """

    __tablename__ = "status_list_credentials"

    list_id: Mapped[str] = mapped_column(ForeignKey("status_lists.id"), primary_key=True)
    version: Mapped[int]
    body: Mapped[str]
    etag: Mapped[Str80]
    valid_until: Mapped[datetime]
    signed_at: Mapped[WrittenAt]
