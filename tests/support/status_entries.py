"""The revocation service's status entries: reserved and marked issued in its store, as the issuer
does it; over its HTTP API, as the operator does it: the entries of a credential, and revoking
one."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import requests

from credgate.db import transaction
from revocation.allocation import StatusAllocation, allocate, mark_issued

TIMEOUT = 10


def reserved_entry(
    db,
    status_base_url: str,
    *,
    issuer_did: str | None = None,
    purpose: str = "revocation",
    model: str = "StatusList2021",
    credential_id: str | None = None,
    **options: Any,
) -> StatusAllocation:
    """A status entry reserved for one credential, as the issuer reserves one before it delivers
    (for a fresh issuer DID and credential id unless they are named)."""
    with transaction(db) as session:
        return allocate(
            session,
            issuer_did=issuer_did or f"did:example:{uuid4().hex}",
            purpose=purpose,
            model=model,
            credential_id=credential_id or f"urn:uuid:{uuid4()}",
            status_base_url=status_base_url,
            **options,
        )


def live_entry(db, status_base_url: str, **options: Any) -> StatusAllocation:
    """A live status entry: reserved (:func:`reserved_entry`), then marked issued."""
    got = reserved_entry(db, status_base_url, **options)
    with transaction(db) as session:
        mark_issued(session, got.entry_id)
    return got


def entries_of(revocation_url: str, credential_id: str, operator: dict[str, str]) -> list[dict]:
    """The status entries the revocation service holds for ``credential_id``."""
    return requests.get(
        f"{revocation_url}/status/entries",
        params={"credential_id": credential_id},
        headers=operator,
        timeout=TIMEOUT,
    ).json()["entries"]


def revoke_entry(
    revocation_url: str, entry_id: Any, operator: dict[str, str], reason: str = "test"
) -> requests.Response:
    """Revoke one status entry; the service's answer, once it said 200."""
    revoked = requests.post(
        f"{revocation_url}/status/entries/{entry_id}/revoke",
        json={"reason": reason},
        headers=operator,
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200, revoked.text
    return revoked
