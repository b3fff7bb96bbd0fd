"""verifier: single-use presentation challenges

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "verifier_challenges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=500), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_verifier_challenges")),
        sa.UniqueConstraint("value", name=op.f("uq_verifier_challenges_value")),
    )
    op.create_index(
        "ix_verifier_challenges_expires_at", "verifier_challenges", ["expires_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_verifier_challenges_expires_at", table_name="verifier_challenges")
    op.drop_table("verifier_challenges")
