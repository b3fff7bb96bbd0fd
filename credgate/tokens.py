"""Operator API tokens: bearer tokens for automation against the admin APIs.

Only a SHA-256 of each token is stored in the database; the operator's first token is generated at
first start and kept in the secrets directory so that ``credgate token`` can print it again.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from credgate.config import Settings
from credgate.db import Base, UTCDateTime, transaction, utcnow
from credgate.secrets import get_or_create_secret

OPERATOR_TOKEN_NAME = "operator"


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ensure_operator_token(settings: Settings, factory: sessionmaker[Session]) -> str:
    """The operator's token, created (file and database row) on first use."""
    token = get_or_create_secret(settings.secrets_dir, "operator-token")
    digest = hash_token(token)
    with transaction(factory) as session:
        exists = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest))
        if exists is None:
            session.add(ApiToken(name=OPERATOR_TOKEN_NAME, token_hash=digest))
    return token


def find_token(session: Session, presented: str) -> ApiToken | None:
    """The live token matching ``presented``, or None."""
    digest = hash_token(presented)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    # The lookup is by hash; compare again in constant time so timing says nothing either.
    return row if hmac.compare_digest(row.token_hash, digest) else None
