"""revocation: each change names the entry it changed (index and status)

The change feed carries them, so a verifier can refuse a revoked entry at once even while the
list cannot be signed again (its signer is down).

Revision ID: 0014_status_change_entries
Revises: 0002
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_status_change_entries"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Older changes keep NULLs: a verifier treats them as "the list changed" and fetches it.
    with op.batch_alter_table("status_changes") as batch:
        batch.add_column(sa.Column("list_index", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("status_changes") as batch:
        batch.drop_column("status")
        batch.drop_column("list_index")
