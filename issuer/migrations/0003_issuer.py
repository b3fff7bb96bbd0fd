"""issuer: DIDComm exchanges, issuance records, idempotency keys, role requests, certifiers and
software certifications

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuer_certifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("did", sa.String(length=500), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("accredited", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_certifiers")),
        sa.UniqueConstraint("did", name=op.f("uq_issuer_certifiers_did")),
        sa.UniqueConstraint("name", name=op.f("uq_issuer_certifiers_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_issuer_certifiers_token_hash")),
    )
    op.create_table(
        "issuer_exchanges",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("short_id", sa.String(length=32), nullable=False),
        sa.Column("workflow", sa.String(length=40), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("wallet_id", sa.String(length=64), nullable=False),
        sa.Column("handshake", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("invi_msg_id", sa.String(length=64), nullable=True),
        sa.Column("invitation", sa.JSON(), nullable=True),
        sa.Column("invitation_url", sa.Text(), nullable=True),
        sa.Column("connection_id", sa.String(length=64), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=True),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_exchanges")),
        sa.UniqueConstraint("short_id", name=op.f("uq_issuer_exchanges_short_id")),
    )
    op.create_index(
        op.f("ix_issuer_exchanges_invi_msg_id"), "issuer_exchanges", ["invi_msg_id"], unique=False
    )
    op.create_table(
        "issuer_idempotency_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_idempotency_keys")),
        sa.UniqueConstraint("scope", "key", name=op.f("uq_issuer_idempotency_keys_scope")),
    )
    op.create_table(
        "issuer_credentials",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("credential_id", sa.String(length=500), nullable=False),
        sa.Column("exchange_id", sa.String(length=36), nullable=True),
        sa.Column("type", sa.String(length=100), nullable=False),
        sa.Column("issuer_did", sa.String(length=500), nullable=False),
        sa.Column("subject_id", sa.String(length=500), nullable=True),
        sa.Column("late_subject", sa.Boolean(), nullable=False),
        sa.Column("workflow", sa.String(length=40), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("status_entry_id", sa.Integer(), nullable=False),
        sa.Column("status_purpose", sa.String(length=16), nullable=False),
        sa.Column("status_list_url", sa.String(length=600), nullable=False),
        sa.Column("status_index", sa.Integer(), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("cred_ex_id", sa.String(length=64), nullable=True),
        sa.Column("acknowledged", sa.Boolean(), nullable=False),
        sa.Column("credential", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("issued_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["issuer_exchanges.id"],
            name=op.f("fk_issuer_credentials_exchange_id_issuer_exchanges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_credentials")),
        sa.UniqueConstraint("credential_id", name=op.f("uq_issuer_credentials_credential_id")),
    )
    for column in ("exchange_id", "subject_id", "thread_id"):
        op.create_index(
            op.f(f"ix_issuer_credentials_{column}"), "issuer_credentials", [column], unique=False
        )
    op.create_table(
        "issuer_role_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("subject_did", sa.String(length=500), nullable=False),
        sa.Column("roles", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("exchange_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["exchange_id"],
            ["issuer_exchanges.id"],
            name=op.f("fk_issuer_role_requests_exchange_id_issuer_exchanges"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_role_requests")),
    )
    op.create_index(
        op.f("ix_issuer_role_requests_subject_did"),
        "issuer_role_requests",
        ["subject_did"],
        unique=False,
    )
    op.create_table(
        "issuer_certifications",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("certifier_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("flist_url", sa.Text(), nullable=True),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("digest_sri", sa.String(length=60), nullable=False),
        sa.Column("md5", sa.String(length=32), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("record_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certifier_id"],
            ["issuer_certifiers.id"],
            name=op.f("fk_issuer_certifications_certifier_id_issuer_certifiers"),
        ),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["issuer_credentials.id"],
            name=op.f("fk_issuer_certifications_record_id_issuer_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_issuer_certifications")),
    )
    for column in ("certifier_id", "sha256"):
        op.create_index(
            op.f(f"ix_issuer_certifications_{column}"),
            "issuer_certifications",
            [column],
            unique=False,
        )


def downgrade() -> None:
    op.drop_table("issuer_certifications")
    op.drop_table("issuer_role_requests")
    op.drop_table("issuer_credentials")
    op.drop_table("issuer_idempotency_keys")
    op.drop_table("issuer_exchanges")
    op.drop_table("issuer_certifiers")
