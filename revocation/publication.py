"""Publishing status lists as signed credentials.

A list is signed lazily: the first request after a change (or once the last signature has used
half its validity) builds the credential from the entries, has the issuing DID sign it, and stores
it with the list version it was built from; every other request serves the stored bytes. Several
workers may sign the same version at once; each result is correct and the newest stays.

The list version is read *before* the entries, so stored bits are never older than the version
they are labelled with: a change racing with signing only causes one more signature.

The credential is valid for ``ttl`` seconds (``expirationDate`` / ``validUntil``; the
BitstringStatusList also states ``ttl`` in milliseconds): a copy held past that, e.g. by a verifier
whose change feed broke, stops counting instead of hiding revocations forever.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from credgate.db import transaction, utcnow
from credgate.problems import Problem
from revocation import store
from revocation.bitstring import bitstring, encode_list
from revocation.models import StatusList, StatusListCredential
from revocation.signing import sign_credential
from revocation.store import dialect_insert

SIGNING_WAIT = 15.0  # how long a request waits for another thread signing the same list

CONTEXTS = {
    "StatusList2021": [
        "https://www.w3.org/2018/credentials/v1",
        "https://w3id.org/vc/status-list/2021/v1",
    ],
    "BitstringStatusList": ["https://www.w3.org/ns/credentials/v2"],
}
MEDIA_TYPES = {
    "StatusList2021": "application/ld+json",
    "BitstringStatusList": "application/vc+ld+json",
}


@dataclass(frozen=True)
class PublishedList:
    body: str
    etag: str
    version: int
    media_type: str
    signed_at: datetime
    valid_until: datetime


def unsigned_credential(
    status_list: StatusList, set_bits: list[int], *, now: datetime, ttl: int
) -> dict[str, Any]:
    """The status-list credential of ``status_list`` with ``set_bits`` set, valid ``ttl`` s."""
    encoded = encode_list(bitstring(status_list.size, set_bits), status_list.model)
    start, end = _timestamp(now), _timestamp(now + timedelta(seconds=ttl))
    credential: dict[str, Any] = {
        "@context": list(CONTEXTS[status_list.model]),
        "id": status_list.url,
        "issuer": status_list.issuer_did,
    }
    subject = {
        "id": f"{status_list.url}#list",
        "statusPurpose": status_list.purpose,
        "encodedList": encoded,
    }
    if status_list.model == "StatusList2021":
        credential |= {
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "issuanceDate": start,
            "expirationDate": end,
            "credentialSubject": {"type": "StatusList2021", **subject},
        }
    else:
        credential |= {
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "validFrom": start,
            "validUntil": end,
            "credentialSubject": {"type": "BitstringStatusList", **subject, "ttl": ttl * 1000},
        }
    return credential


def published_list(
    factory: sessionmaker[Session], agent: AdminClient | None, list_id: str, *, ttl: int
) -> PublishedList:
    """The signed credential of the list, signed anew if the list changed or is near expiry."""
    status_list, stored = _load(factory, list_id)
    if _fresh(stored, status_list, ttl):
        return _view(stored, status_list)
    lock = _signing_lock(list_id)
    if not lock.acquire(timeout=SIGNING_WAIT):
        raise Problem(
            "status-list-unavailable", "Status list unavailable", 503,
            "the status list is being signed; retry shortly", headers={"Retry-After": "1"},
        )  # fmt: skip
    try:
        status_list, stored = _load(factory, list_id)  # another thread may have signed it
        if _fresh(stored, status_list, ttl):
            return _view(stored, status_list)
        try:
            return _sign_and_store(factory, agent, status_list, ttl)
        except Problem:
            # The agent is down: a signature of the current version that is still valid is true.
            current = stored is not None and stored.version == status_list.version
            if current and stored.valid_until > utcnow():
                return _view(stored, status_list)
            raise
    finally:
        lock.release()


def _load(
    factory: sessionmaker[Session], list_id: str
) -> tuple[StatusList, StatusListCredential | None]:
    with factory() as session:
        status_list = store.find_list(session, list_id)
        if status_list is None:
            raise Problem(
                "unknown-status-list", "Unknown status list", 404, f"no status list {list_id!r}"
            )
        return status_list, session.get(StatusListCredential, list_id)


def _fresh(stored: StatusListCredential | None, status_list: StatusList, ttl: int) -> bool:
    if stored is None or stored.version != status_list.version:
        return False
    return stored.valid_until - utcnow() > timedelta(seconds=ttl / 2)


def _sign_and_store(
    factory: sessionmaker[Session], agent: AdminClient | None, status_list: StatusList, ttl: int
) -> PublishedList:
    with factory() as session:
        # Version first, then the bits (see the module docstring).
        version = store.find_list(session, status_list.id).version
        set_bits = store.set_indices(session, status_list.id)
    now = utcnow().replace(microsecond=0)
    credential = unsigned_credential(status_list, set_bits, now=now, ttl=ttl)
    signed = sign_credential(factory, agent, credential)
    body = json.dumps(signed, separators=(",", ":"), ensure_ascii=False)
    row = {
        "list_id": status_list.id,
        "version": version,
        "body": body,
        "etag": hashlib.sha256(body.encode()).hexdigest()[:40],
        "valid_until": now + timedelta(seconds=ttl),
        "signed_at": now,
    }
    table = StatusListCredential.__table__
    with transaction(factory) as session:
        statement = dialect_insert(session, table).values(row)
        # Never replace a signature of a newer version with ours.
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.list_id],
            set_={k: statement.excluded[k] for k in row if k != "list_id"},
            where=table.c.version <= statement.excluded.version,
        )
        session.execute(statement)
    stored = StatusListCredential(**row)
    return _view(stored, status_list)


def _view(stored: StatusListCredential, status_list: StatusList) -> PublishedList:
    return PublishedList(
        body=stored.body,
        etag=stored.etag,
        version=stored.version,
        media_type=MEDIA_TYPES[status_list.model],
        signed_at=stored.signed_at,
        valid_until=stored.valid_until,
    )


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _signing_lock(list_id: str) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(list_id, threading.Lock())
