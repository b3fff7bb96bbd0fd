"""revocation: status lists, entries, history, change feed, signed status lists

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "status_lists",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("issuer_did", sa.String(length=500), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=32), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=600), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "purpose IN ('revocation', 'suspension')", name=op.f("ck_status_lists_purpose")
        ),
        sa.CheckConstraint(
            "model IN ('StatusList2021', 'BitstringStatusList')", name=op.f("ck_status_lists_model")
        ),
        sa.CheckConstraint("size > 0", name=op.f("ck_status_lists_size")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_lists")),
        sa.UniqueConstraint(
            "issuer_did",
            "purpose",
            "model",
            "base_url",
            "seq",
            name=op.f("uq_status_lists_issuer_did"),
        ),
    )
    op.create_table(
        "status_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("list_index", sa.Integer(), nullable=False),
        sa.Column("credential_id", sa.String(length=500), nullable=False),
        sa.Column("exchange_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "state IN ('reserved', 'issued', 'abandoned')", name=op.f("ck_status_entries_state")
        ),
        sa.CheckConstraint(
            "status IN ('active', 'revoked', 'suspended')", name=op.f("ck_status_entries_status")
        ),
        sa.CheckConstraint("list_index >= 0", name=op.f("ck_status_entries_list_index")),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["status_lists.id"],
            name=op.f("fk_status_entries_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_entries")),
        sa.UniqueConstraint("list_id", "list_index", name=op.f("uq_status_entries_list_id")),
    )
    op.create_index(
        op.f("ix_status_entries_credential_id"), "status_entries", ["credential_id"], unique=False
    )
    op.create_table(
        "status_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["status_entries.id"],
            name=op.f("fk_status_events_entry_id_status_entries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_events")),
    )
    op.create_index(op.f("ix_status_events_entry_id"), "status_events", ["entry_id"], unique=False)
    feed_head = op.create_table(
        "status_feed_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_feed_head")),
    )
    # The one row writers increment (see revocation.feed).
    op.bulk_insert(feed_head, [{"id": 1, "last": 0}])
    op.create_table(
        "status_changes",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["status_lists.id"],
            name=op.f("fk_status_changes_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_status_changes")),
    )
    op.create_table(
        "status_list_credentials",
        sa.Column("list_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("etag", sa.String(length=80), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("signed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["list_id"],
            ["status_lists.id"],
            name=op.f("fk_status_list_credentials_list_id_status_lists"),
        ),
        sa.PrimaryKeyConstraint("list_id", name=op.f("pk_status_list_credentials")),
    )


def downgrade() -> None:
    op.drop_table("status_list_credentials")
    op.drop_table("status_changes")
    op.drop_table("status_feed_head")
    op.drop_index(op.f("ix_status_events_entry_id"), table_name="status_events")
    op.drop_table("status_events")
    op.drop_index(op.f("ix_status_entries_credential_id"), table_name="status_entries")
    op.drop_table("status_entries")
    op.drop_table("status_lists")
