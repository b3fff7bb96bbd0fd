"""gateway: hand-offs of QR logins to other services (one-time codes, PKCE)

Revision ID: 0012
Revises: 0005
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0012"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_handoffs",
        sa.Column("login_id", sa.String(length=32), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=200), nullable=False),
        sa.Column("code_challenge", sa.String(length=128), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("code_expires_at", UTCDateTime(), nullable=True),
        sa.Column("redeemed_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("login_id", name=op.f("pk_gateway_handoffs")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_gateway_handoffs_code_hash")),
    )


def downgrade() -> None:
    op.drop_table("gateway_handoffs")
