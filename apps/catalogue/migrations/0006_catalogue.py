"""catalogue: published data products, services, models and certified flists

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "catalogue_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("keywords_text", sa.Text(), nullable=False),
        sa.Column("license", sa.String(length=100), nullable=True),
        sa.Column("format", sa.String(length=100), nullable=True),
        sa.Column("owner", sa.String(length=500), nullable=False),
        sa.Column("publisher", sa.String(length=500), nullable=False),
        sa.Column("flist_url", sa.String(length=500), nullable=True),
        sa.Column("digest", sa.String(length=100), nullable=True),
        sa.Column("md5", sa.String(length=32), nullable=True),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("purposes_text", sa.Text(), nullable=False),
        sa.Column("certificate", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalogue_items")),
    )
    op.create_index("ix_catalogue_items_kind", "catalogue_items", ["kind"])
    op.create_index("ix_catalogue_items_owner", "catalogue_items", ["owner"])
    op.create_index("ix_catalogue_items_digest", "catalogue_items", ["digest"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_items_digest", table_name="catalogue_items")
    op.drop_index("ix_catalogue_items_owner", table_name="catalogue_items")
    op.drop_index("ix_catalogue_items_kind", table_name="catalogue_items")
    op.drop_table("catalogue_items")
