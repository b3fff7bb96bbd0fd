"""depute: company wallets, authorisations, admin sessions, audit log

Revision ID: 0011
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0011"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "depute_companies",
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("did", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("onboarding_exchange_id", sa.String(length=36), nullable=True),
        sa.Column("onboarding_state", sa.String(length=20), nullable=True),
        sa.Column("admin_authorisation_id", sa.String(length=36), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_depute_companies")),
    )
    op.create_table(
        "depute_authorisations",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("mandatee_name", sa.String(length=200), nullable=False),
        sa.Column("mandatee_email", sa.String(length=254), nullable=False),
        sa.Column("powers", sa.JSON(), nullable=False),
        sa.Column("signer", sa.JSON(), nullable=False),
        sa.Column("valid_from", UTCDateTime(), nullable=False),
        sa.Column("valid_until", UTCDateTime(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=500), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=False),
        sa.Column("status_entry_id", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_depute_authorisations")),
        sa.UniqueConstraint("record_id", name=op.f("uq_depute_authorisations_record_id")),
    )
    op.create_index(
        op.f("ix_depute_authorisations_company_id"),
        "depute_authorisations",
        ["company_id"],
        unique=False,
    )
    op.create_table(
        "depute_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("holder_did", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credential_id", sa.String(length=500), nullable=False),
        sa.Column("status_list_url", sa.String(length=600), nullable=True),
        sa.Column("status_index", sa.Integer(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_depute_sessions")),
    )
    op.create_table(
        "depute_audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("authorisation_id", sa.String(length=36), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_depute_audit")),
    )
    op.create_index(
        op.f("ix_depute_audit_company_id"), "depute_audit", ["company_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_depute_audit_company_id"), table_name="depute_audit")
    op.drop_table("depute_audit")
    op.drop_table("depute_sessions")
    op.drop_index(op.f("ix_depute_authorisations_company_id"), table_name="depute_authorisations")
    op.drop_table("depute_authorisations")
    op.drop_table("depute_companies")
