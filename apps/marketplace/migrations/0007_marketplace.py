"""marketplace: offers with purchase policies, purchase agreements

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "marketplace_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seller", sa.String(length=500), nullable=False),
        sa.Column("seller_holder", sa.String(length=500), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_offers")),
    )
    op.create_index("ix_marketplace_offers_seller", "marketplace_offers", ["seller"])
    op.create_table(
        "marketplace_purchases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.Integer(), nullable=False),
        sa.Column("seller", sa.String(length=500), nullable=False),
        sa.Column("buyer", sa.String(length=500), nullable=False),
        sa.Column("buyer_holder", sa.String(length=500), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("policy", sa.JSON(), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["marketplace_offers.id"],
            name=op.f("fk_marketplace_purchases_offer_id_marketplace_offers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketplace_purchases")),
    )
    op.create_index("ix_marketplace_purchases_buyer", "marketplace_purchases", ["buyer"])
    op.create_index("ix_marketplace_purchases_seller", "marketplace_purchases", ["seller"])


def downgrade() -> None:
    op.drop_index("ix_marketplace_purchases_seller", table_name="marketplace_purchases")
    op.drop_index("ix_marketplace_purchases_buyer", table_name="marketplace_purchases")
    op.drop_table("marketplace_purchases")
    op.drop_index("ix_marketplace_offers_seller", table_name="marketplace_offers")
    op.drop_table("marketplace_offers")
