"""gateway: grants (tokens, sessions), QR logins, company credentials, decision audit log

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gateway_grants",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=500), nullable=False),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.Column("credential_ids", sa.JSON(), nullable=False),
        sa.Column("status_entries", sa.JSON(), nullable=False),
        sa.Column("portal", sa.String(length=64), nullable=True),
        sa.Column("session_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_grants")),
        sa.UniqueConstraint("session_hash", name=op.f("uq_gateway_grants_session_hash")),
    )
    op.create_index("ix_gateway_grants_expires_at", "gateway_grants", ["expires_at"])
    op.create_table(
        "gateway_logins",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("portal", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("challenge", sa.String(length=64), nullable=False),
        sa.Column("domain", sa.String(length=500), nullable=True),
        sa.Column("pres_ex_id", sa.String(length=64), nullable=True),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("invitation", sa.JSON(), nullable=False),
        sa.Column("browser_hash", sa.String(length=64), nullable=False),
        sa.Column("next_url", sa.String(length=500), nullable=True),
        sa.Column("holder", sa.String(length=500), nullable=True),
        sa.Column("grant_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("scanned_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("session_opened_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_logins")),
        sa.UniqueConstraint("pres_ex_id", name=op.f("uq_gateway_logins_pres_ex_id")),
    )
    op.create_index("ix_gateway_logins_expires_at", "gateway_logins", ["expires_at"])
    op.create_index(op.f("ix_gateway_logins_thread_id"), "gateway_logins", ["thread_id"])
    op.create_table(
        "gateway_company_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company", sa.String(length=500), nullable=False),
        sa.Column("credential_id", sa.String(length=500), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("registered_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_company_credentials")),
        sa.UniqueConstraint(
            "credential_id", name=op.f("uq_gateway_company_credentials_credential_id")
        ),
    )
    op.create_index(
        op.f("ix_gateway_company_credentials_company"), "gateway_company_credentials", ["company"]
    )
    op.create_table(
        "gateway_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("holder", sa.String(length=500), nullable=True),
        sa.Column("acting_for", sa.String(length=500), nullable=True),
        sa.Column("via", sa.String(length=16), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("route", sa.String(length=500), nullable=False),
        sa.Column("requirement", sa.String(length=500), nullable=False),
        sa.Column("allow", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("credentials", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gateway_decisions")),
    )
    op.create_index("ix_gateway_decisions_at", "gateway_decisions", ["at"])
    op.create_index("ix_gateway_decisions_holder", "gateway_decisions", ["holder"])


def downgrade() -> None:
    op.drop_index("ix_gateway_decisions_holder", table_name="gateway_decisions")
    op.drop_index("ix_gateway_decisions_at", table_name="gateway_decisions")
    op.drop_table("gateway_decisions")
    op.drop_index(
        op.f("ix_gateway_company_credentials_company"), table_name="gateway_company_credentials"
    )
    op.drop_table("gateway_company_credentials")
    op.drop_index(op.f("ix_gateway_logins_thread_id"), table_name="gateway_logins")
    op.drop_index("ix_gateway_logins_expires_at", table_name="gateway_logins")
    op.drop_table("gateway_logins")
    op.drop_index("ix_gateway_grants_expires_at", table_name="gateway_grants")
    op.drop_table("gateway_grants")
