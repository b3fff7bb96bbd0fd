"""issuer: OpenID4VCI offers, pre-authorized codes, access tokens and c_nonces (one table)

Revision ID: 0015_issuer_oid4vci
Revises: 0013_issuer_kcit_accreditations
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0015_issuer_oid4vci"
down_revision = "0013_issuer_kcit_accreditations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_oid4vci",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column(
            "exchange_id",
            sa.String(36),
            sa.ForeignKey("issuer_exchanges.id"),
            nullable=True,
            unique=True,
        ),
        sa.Column("code_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("tx_code_hash", sa.String(64), nullable=True),
        sa.Column("tx_code_failures", sa.Integer, nullable=False),
        sa.Column("code_used_at", UTCDateTime, nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("token_expires_at", UTCDateTime, nullable=True),
        sa.Column("nonce_hash", sa.String(64), nullable=True, unique=True),
        sa.Column("nonce_used_at", UTCDateTime, nullable=True),
        sa.Column("templates", sa.JSON, nullable=True),
        sa.Column("issued", sa.JSON, nullable=True),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_issuer_oid4vci_expires_at", "issuer_oid4vci", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_issuer_oid4vci_expires_at", table_name="issuer_oid4vci")
    op.drop_table("issuer_oid4vci")
