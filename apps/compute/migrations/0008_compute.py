"""compute: flists, jobs, hash-chained audit log

Revision ID: 0008
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "compute_flists",
        sa.Column("digest", sa.String(length=100), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_compute_flists")),
    )
    op.create_table(
        "compute_jobs",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("flist", sa.String(length=100), nullable=False),
        sa.Column("dataset", sa.String(length=500), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=500), nullable=False),
        sa.Column("party", sa.String(length=500), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("certificates", sa.JSON(), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=True),
        sa.Column("timed_out", sa.Boolean(), nullable=False),
        sa.Column("stdout", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compute_jobs")),
    )
    op.create_index("ix_compute_jobs_party", "compute_jobs", ["party"])
    op.create_table(
        "compute_audit",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_compute_audit")),
    )


def downgrade() -> None:
    op.drop_table("compute_audit")
    op.drop_index("ix_compute_jobs_party", table_name="compute_jobs")
    op.drop_table("compute_jobs")
    op.drop_table("compute_flists")
