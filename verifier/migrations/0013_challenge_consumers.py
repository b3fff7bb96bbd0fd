"""verifier: each challenge belongs to the consumer that issued it

Revision ID: 0013_challenge_consumers
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_challenge_consumers"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Challenges live minutes: the ones outstanding now become "legacy", which no consumer takes.
    with op.batch_alter_table("verifier_challenges") as batch:
        batch.add_column(
            sa.Column("consumer", sa.String(length=64), nullable=False, server_default="legacy")
        )
    with op.batch_alter_table("verifier_challenges") as batch:
        batch.alter_column("consumer", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("verifier_challenges") as batch:
        batch.drop_column("consumer")
