"""agents: webhooks kept in the database, so a waiter on any service node sees them

Revision ID: 0016_agent_webhook_events
Revises: 0001
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0016_agent_webhook_events"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_webhook_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agent_webhook_events")),
    )
    op.create_index(
        op.f("ix_agent_webhook_events_received_at"), "agent_webhook_events", ["received_at"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_agent_webhook_events_received_at"), table_name="agent_webhook_events")
    op.drop_table("agent_webhook_events")
