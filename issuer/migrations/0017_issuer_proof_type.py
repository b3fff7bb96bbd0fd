"""issuer: the proof type each DIDComm offer (and role request) is signed with

Revision ID: 0017_issuer_proof_type
Revises: 0015_issuer_oid4vci
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_issuer_proof_type"
down_revision = "0015_issuer_oid4vci"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Null is the default suite (Ed25519Signature2020): existing records keep what they had.
    with op.batch_alter_table("issuer_credentials") as batch:
        batch.add_column(sa.Column("proof_type", sa.String(40), nullable=True))
    with op.batch_alter_table("issuer_role_requests") as batch:
        batch.add_column(sa.Column("proof_type", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("issuer_role_requests") as batch:
        batch.drop_column("proof_type")
    with op.batch_alter_table("issuer_credentials") as batch:
        batch.drop_column("proof_type")
