"""Operator API tokens: bearer tokens for automation against the admin APIs.

Only a SHA-256 of each token is stored in the database; the operator's first token is generated at
first start and kept in the secrets directory so that ``credgate token`` can print it again (or
comes from configuration, see :mod:`credgate.secrets`). Service nodes need only the database's
hash; ``CREDGATE_OPERATOR_TOKEN_HASH`` (hex SHA-256) registers the operator's token there without
the token itself ever reaching a node.
"""

from __future__ import annotations

import hmac
import os
import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from credgate.config import Settings
from credgate.db import Base, Sha256Hex, Str100, WrittenAt, transaction
from credgate.hashing import hash_token
from credgate.secrets import SecretConfigError, get_or_create_secret

OPERATOR_TOKEN_NAME = "operator"
HASH_ENV = "CREDGATE_OPERATOR_TOKEN_HASH"
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Str100]
    token_hash: Mapped[Sha256Hex] = mapped_column(unique=True)
    created_at: Mapped[WrittenAt]
    revoked_at: Mapped[datetime | None]


def ensure_operator_token(settings: Settings, factory: sessionmaker[Session]) -> str:
    """The operator's token, created (file and database row) on first use."""
    token = get_or_create_secret(settings.secrets_dir, "operator-token")
    digest = hash_token(token)
    with transaction(factory) as session:
        exists = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest))
        if exists is None:
            session.add(ApiToken(name=OPERATOR_TOKEN_NAME, token_hash=digest))
    return token


def register_configured_operator(factory: sessionmaker[Session]) -> bool:
    """Store ``CREDGATE_OPERATOR_TOKEN_HASH`` as the operator's token (once); False without it."""
    digest = os.environ.get(HASH_ENV, "").strip().lower()
    if not digest:
        return False
    if not _SHA256_HEX.fullmatch(digest):
        raise SecretConfigError(f"{HASH_ENV} must be a hex SHA-256 of the operator token")
    try:
        with transaction(factory) as session:
            exists = session.scalar(select(ApiToken.id).where(ApiToken.token_hash == digest))
            if exists is None:
                session.add(ApiToken(name=OPERATOR_TOKEN_NAME, token_hash=digest))
    except IntegrityError:
        pass  # another node starting at the same moment stored it
    return True


def find_token(session: Session, presented: str) -> ApiToken | None:
    """The live token matching ``presented``, or None."""
    digest = hash_token(presented)
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest))
    if row is None or row.revoked_at is not None:
        return None
    # The lookup is by hash; compare again in constant time so timing says nothing either.
    return row if hmac.compare_digest(row.token_hash, digest) else None
