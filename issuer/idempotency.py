"""``Idempotency-Key``: a client that retries an issuing request gets the first response again
instead of a second credential.

The key is claimed (a row, unique per actor and route) before the request runs and the response is
stored after it succeeded; a failed request releases its key so that the client can retry. The
same key with a different body is refused; a key whose first request is still running gets a 409.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import Response, g, json, make_response, request
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer.context import issuer_context
from issuer.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
#: A claim older than this whose request never finished (a crashed worker) may be taken over.
STALE_AFTER = timedelta(minutes=2)


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        key = _checked_key(key)
        factory = issuer_context().factory
        scope = f"{g.get('actor', 'public')} {request.method} {request.path}"[:300]
        payload = request.get_data()
        if request.query_string:  # it is part of the request (the VC-API issuer instance)
            payload = request.query_string + b"\n" + payload
        digest = hashlib.sha256(payload).hexdigest()
        earlier = claim(factory, scope, key, digest)
        if earlier is not None:
            return replay(earlier, digest)
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            release(factory, scope, key)
            raise
        if 200 <= response.status_code < 300 and response.is_json:
            store(factory, scope, key, response.status_code, response.get_json())
        else:
            release(factory, scope, key)
        return response

    return wrapped


def _checked_key(key: str) -> str:
    key = key.strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise DomainError(
            ProblemType.INVALID_IDEMPOTENCY_KEY,
            f"the {HEADER} header must be 1 to {MAX_KEY_LENGTH} printable characters",
        )
    return key


def claim(
    factory: sessionmaker[Session], scope: str, key: str, digest: str
) -> IdempotencyKey | None:
    """None if this request now owns the key, else the earlier request's row."""
    try:
        with transaction(factory) as session:
            session.add(IdempotencyKey(scope=scope, key=key, request_hash=digest))
        return None
    except IntegrityError:
        pass
    with transaction(factory) as session:
        row = session.scalar(
            select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        )
        if row is None:  # released in between: try once more
            session.add(IdempotencyKey(scope=scope, key=key, request_hash=digest))
            return None
        if row.status_code is None and row.created_at < utcnow() - STALE_AFTER:
            taken = session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id, IdempotencyKey.created_at == row.created_at)
                .values(created_at=utcnow(), request_hash=digest)
            ).rowcount
            if taken == 1:
                return None
        return row


def replay(row: IdempotencyKey, digest: str) -> Response:
    if row.request_hash != digest:
        raise DomainError(
            ProblemType.IDEMPOTENCY_KEY_REUSED,
            "this key was used for a different request; use a new key for a new request",
        )
    if row.status_code is None:
        raise DomainError(
            ProblemType.IDEMPOTENCY_REQUEST_IN_PROGRESS,
            "the first request with this key has not finished yet",
            retry_after=1,
        )
    return Response(
        json.dumps(row.response),
        status=row.status_code,
        mimetype="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


def store(
    factory: sessionmaker[Session], scope: str, key: str, status_code: int, body: Any
) -> None:
    with transaction(factory) as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .values(status_code=status_code, response=body)
        )


def release(factory: sessionmaker[Session], scope: str, key: str) -> None:
    with transaction(factory) as session:
        session.execute(
            delete(IdempotencyKey).where(
                IdempotencyKey.scope == scope,
                IdempotencyKey.key == key,
                IdempotencyKey.status_code.is_(None),
            )
        )
