"""kcit: companies, their DIDs, accreditations, change history and change feed

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0010"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kcit_companies",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("legal_name", sa.String(length=300), nullable=False),
        sa.Column("vat_id", sa.String(length=40), nullable=True),
        sa.Column("lei", sa.String(length=20), nullable=True),
        sa.Column("euid", sa.String(length=80), nullable=True),
        sa.Column("national_id", sa.String(length=80), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("subdivision", sa.String(length=6), nullable=True),
        sa.Column("addresses", sa.JSON(), nullable=False),
        sa.Column("representatives", sa.JSON(), nullable=False),
        sa.Column("level_of_assurance", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("powers", sa.JSON(), nullable=False),
        sa.Column("follow_hash", sa.String(length=64), nullable=True),
        sa.Column("provisioning", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'identified', 'suspended', 'removed')",
            name=op.f("ck_kcit_companies_status"),
        ),
        sa.CheckConstraint(
            "level_of_assurance IN ('self-registration', 'verified')",
            name=op.f("ck_kcit_companies_level_of_assurance"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kcit_companies")),
        sa.UniqueConstraint("follow_hash", name=op.f("uq_kcit_companies_follow_hash")),
    )
    op.create_index(op.f("ix_kcit_companies_vat_id"), "kcit_companies", ["vat_id"], unique=False)
    op.create_index(op.f("ix_kcit_companies_lei"), "kcit_companies", ["lei"], unique=False)
    op.create_table(
        "kcit_dids",
        sa.Column("did", sa.String(length=500), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.String(length=600), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("origin IN ('declared', 'depute')", name=op.f("ck_kcit_dids_origin")),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["kcit_companies.id"],
            name=op.f("fk_kcit_dids_company_id_kcit_companies"),
        ),
        sa.PrimaryKeyConstraint("did", name=op.f("pk_kcit_dids")),
    )
    op.create_index(op.f("ix_kcit_dids_company_id"), "kcit_dids", ["company_id"], unique=False)
    op.create_table(
        "kcit_accreditations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("did", sa.String(length=500), nullable=False),
        sa.Column("credential_type", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("granted_by", sa.String(length=200), nullable=False),
        sa.Column("granted_at", UTCDateTime(), nullable=False),
        sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kcit_accreditations")),
        sa.UniqueConstraint("did", "credential_type", name=op.f("uq_kcit_accreditations_did")),
    )
    op.create_index(
        op.f("ix_kcit_accreditations_did"), "kcit_accreditations", ["did"], unique=False
    )
    op.create_table(
        "kcit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.String(length=40), nullable=True),
        sa.Column("did", sa.String(length=500), nullable=True),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kcit_events")),
    )
    op.create_index(op.f("ix_kcit_events_company_id"), "kcit_events", ["company_id"], unique=False)
    op.create_index(op.f("ix_kcit_events_did"), "kcit_events", ["did"], unique=False)
    feed_head = op.create_table(
        "kcit_feed_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kcit_feed_head")),
    )
    op.bulk_insert(feed_head, [{"id": 1, "last": 0}])
    op.create_table(
        "kcit_changes",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("did", sa.String(length=500), nullable=True),
        sa.Column("company_id", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_kcit_changes")),
    )


def downgrade() -> None:
    op.drop_table("kcit_changes")
    op.drop_table("kcit_feed_head")
    op.drop_index(op.f("ix_kcit_events_did"), table_name="kcit_events")
    op.drop_index(op.f("ix_kcit_events_company_id"), table_name="kcit_events")
    op.drop_table("kcit_events")
    op.drop_index(op.f("ix_kcit_accreditations_did"), table_name="kcit_accreditations")
    op.drop_table("kcit_accreditations")
    op.drop_index(op.f("ix_kcit_dids_company_id"), table_name="kcit_dids")
    op.drop_table("kcit_dids")
    op.drop_index(op.f("ix_kcit_companies_lei"), table_name="kcit_companies")
    op.drop_index(op.f("ix_kcit_companies_vat_id"), table_name="kcit_companies")
    op.drop_table("kcit_companies")
