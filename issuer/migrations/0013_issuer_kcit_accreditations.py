"""issuer: certifiers are accredited in KCIT only; the issuer's own accreditation flag moves there

Revision ID: 0013_issuer_kcit_accreditations
Revises: 0003
Depends on: 0010 (KCIT's accreditations table)
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from credgate.db import UTCDateTime, utcnow

revision = "0013_issuer_kcit_accreditations"
down_revision = "0003"
branch_labels = None
depends_on = "0010"

CERTIFICATION = "SoftwareCertificationCredential"
ACTOR = "migration:issuer-certifiers"

certifiers = sa.table(
    "issuer_certifiers", sa.column("did", sa.String), sa.column("accredited", sa.Boolean)
)
accreditations = sa.table(
    "kcit_accreditations",
    sa.column("did", sa.String),
    sa.column("credential_type", sa.String),
    sa.column("active", sa.Boolean),
    sa.column("granted_by", sa.String),
    sa.column("granted_at", UTCDateTime),
)
events = sa.table(
    "kcit_events",
    sa.column("did", sa.String),
    sa.column("action", sa.String),
    sa.column("actor", sa.String),
    sa.column("reason", sa.Text),
    sa.column("changes", sa.JSON),
    sa.column("at", UTCDateTime),
)


def upgrade() -> None:
    conn = op.get_bind()
    accredited = (
        conn.execute(sa.select(certifiers.c.did).where(certifiers.c.accredited)).scalars().all()
    )
    known = set(
        conn.execute(
            sa.select(accreditations.c.did).where(accreditations.c.credential_type == CERTIFICATION)
        ).scalars()
    )
    now = utcnow()
    for did in accredited:
        if did in known:  # KCIT already decided about this DID: its decision stands
            continue
        conn.execute(
            accreditations.insert().values(
                did=did,
                credential_type=CERTIFICATION,
                active=True,
                granted_by=ACTOR,
                granted_at=now,
            )
        )
        conn.execute(
            events.insert().values(
                did=did,
                action="accredit",
                actor=ACTOR,
                reason="moved from the issuer's certifier list",
                changes={"accreditation": [CERTIFICATION, True]},
                at=now,
            )
        )
    with op.batch_alter_table("issuer_certifiers") as batch:
        batch.drop_column("accredited")


def downgrade() -> None:
    with op.batch_alter_table("issuer_certifiers") as batch:
        batch.add_column(
            sa.Column("accredited", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    conn = op.get_bind()
    active = sa.select(accreditations.c.did).where(
        accreditations.c.credential_type == CERTIFICATION, accreditations.c.active
    )
    conn.execute(certifiers.update().where(certifiers.c.did.in_(active)).values(accredited=True))
