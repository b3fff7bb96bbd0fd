"""wallet: wallet users, interactions (history), trusted issuers

Revision ID: 0009
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0009"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallet_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("did", sa.String(length=500), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=True),
        sa.Column("failed_pins", sa.Integer(), nullable=False),
        sa.Column("locked_until", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_users")),
        sa.UniqueConstraint("name", name=op.f("uq_wallet_users_name")),
    )
    op.create_table(
        "wallet_interactions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("counterparty", sa.String(length=200), nullable=True),
        sa.Column("counterparty_did", sa.String(length=500), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["wallet_users.id"],
            name=op.f("fk_wallet_interactions_user_id_wallet_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_interactions")),
        sa.UniqueConstraint(
            "user_id", "kind", "record_id", name=op.f("uq_wallet_interactions_user_id")
        ),
    )
    op.create_index(
        "ix_wallet_interactions_user_id_created_at",
        "wallet_interactions",
        ["user_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "wallet_trusted_issuers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=500), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["wallet_users.id"],
            name=op.f("fk_wallet_trusted_issuers_user_id_wallet_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_wallet_trusted_issuers")),
        sa.UniqueConstraint("user_id", "did", name=op.f("uq_wallet_trusted_issuers_user_id")),
    )


def downgrade() -> None:
    op.drop_table("wallet_trusted_issuers")
    op.drop_index("ix_wallet_interactions_user_id_created_at", table_name="wallet_interactions")
    op.drop_table("wallet_interactions")
    op.drop_table("wallet_users")
