"""Publishing status lists as signed credentials.

A list is signed lazily: the first request after a change (or once the last signature has used
half its validity) starts a signing job that builds the credential from the entries, has the
issuing DID sign it, and stores it with the list version it was built from; every other request
serves the stored bytes. Several workers may sign the same version at once; each result is
correct and the newest stays.

The signer (the issuer agent) may be down or hung. Then the last signed list keeps being served
until it expires, and the job retries with back-off, so the list is published again soon after
the signer returns. A revocation made meanwhile is not lost on verifiers that follow the change
feed: each change names its entry, and they refuse it at once (``verifier.status``). Requests
never wait on a failing signer, and on a slow one only :data:`STALE_WAIT` when a signed list can
be served instead.

The list version is read *before* the entries, so stored bits are never older than the version
they are labelled with: a change racing with signing only causes one more signature.

The credential is valid for ``ttl`` seconds (``expirationDate`` / ``validUntil``; the
BitstringStatusList also states ``ttl`` in milliseconds): a copy held past that, e.g. by a verifier
whose change feed broke, stops counting instead of hiding revocations forever.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from agents.client import AdminClient
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from credgate.signals import Signal
from revocation import store
from revocation.bitstring import bitstring, encode_list
from revocation.models import StatusList, StatusListCredential
from revocation.signing import sign_credential, unavailable
from revocation.store import dialect_insert

SIGNING_WAIT = 15.0  # how long a request without a valid stored signature waits for one
STALE_WAIT = 2.0  # ... and one with a valid (older) signature, before it serves that one
RETRY_FIRST = 0.5  # back-off between signing attempts while the signer fails: first,
RETRY_MAX = 5.0  # longest,
RETRY_FOR = 600.0  # and for how long a job keeps trying before the next request restarts it

LOGGER = logging.getLogger(__name__)

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
    """The signed credential of the list, signed anew if the list changed or is near expiry.

    Signing runs in the background (:class:`_Signing`); a request waits for it only briefly when
    a valid signature is stored, and not at all while the signer is known to be failing: the
    last signed list is then served until it expires (see the module docstring)."""
    status_list, stored = _load(factory, list_id)
    if _fresh(stored, status_list, ttl):
        return _view(stored, status_list)
    valid = stored is not None and stored.valid_until > utcnow()
    deadline = time.monotonic() + (STALE_WAIT if valid else SIGNING_WAIT)
    outcome: PublishedList | DomainError | None = None
    while (remaining := deadline - time.monotonic()) > 0:
        job = _signing_job(factory, agent, list_id, ttl)
        outcome = job.wait(status_list.version, remaining)
        if not (outcome is None and job.finished):
            break  # signed, failing, or still signing; a job that just ended gets a successor
    if isinstance(outcome, PublishedList):
        return outcome
    if valid:
        # Stale but signed and unexpired: verifiers that follow the change feed learn the newer
        # changes from it; the rest see them once the signer is back.
        return _view(stored, status_list)
    if isinstance(outcome, DomainError):
        raise outcome
    raise DomainError(
        ProblemType.STATUS_LIST_UNAVAILABLE,
        "the status list is being signed; retry shortly",
        retry_after=1,
    )


@dataclass(eq=False)
class _Signing:
    """Signs one list until its newest version is signed, retrying with back-off while the
    signer fails (for at most :data:`RETRY_FOR` seconds; the next request starts it again).

    Only the job's own thread writes ``published``, ``error`` and ``finished``, each followed by a
    poke of ``_changed``; requests wait on it."""

    key: tuple[int, str]
    factory: sessionmaker[Session]
    agent: AdminClient | None
    list_id: str
    ttl: int
    published: PublishedList | None = field(default=None, init=False)
    # The last attempt failed (cleared by a success).
    error: DomainError | None = field(default=None, init=False)
    finished: bool = field(default=False, init=False)
    _changed: Signal = field(default_factory=Signal, init=False, repr=False)
    _stopped: threading.Event = field(default_factory=threading.Event, init=False, repr=False)

    def wait(self, version: int, timeout: float) -> PublishedList | DomainError | None:
        """A signature of ``version`` or newer, the failure of the last attempt, or None."""
        self._changed.wait_until(
            lambda: self._signed(version) or self.error is not None or self.finished, timeout
        )
        if self._signed(version):
            return self.published
        return self.error

    def _signed(self, version: int) -> bool:
        return self.published is not None and self.published.version >= version

    def run(self) -> None:
        give_up = time.monotonic() + RETRY_FOR
        backoff = RETRY_FIRST
        try:
            while True:
                try:
                    status_list, stored = _load(self.factory, self.list_id)
                    if _fresh(stored, status_list, self.ttl):
                        self._report(_view(stored, status_list))
                        return
                    self._report(_sign_and_store(self.factory, self.agent, status_list, self.ttl))
                    backoff = RETRY_FIRST
                    continue  # the list may have changed meanwhile: check again
                except DomainError as exc:
                    self._fail(exc)
                except Exception as exc:  # e.g. the database went away; retried the same way
                    LOGGER.warning("signing status list %s: %s", self.list_id, type(exc).__name__)
                    self._fail(unavailable("the status list could not be signed; retry"))
                if time.monotonic() + backoff > give_up:
                    return
                if self._stopped.wait(backoff):  # stop_signing(): the service is shutting down
                    return
                backoff = min(backoff * 2, RETRY_MAX)
        finally:
            with _JOBS_GUARD:
                if _JOBS.get(self.key) is self:
                    del _JOBS[self.key]
            self.finished = True
            self._changed.poke()

    def _report(self, published: PublishedList) -> None:
        if self.error is not None:
            LOGGER.info("status list %s signed again", self.list_id)
        self.published, self.error = published, None
        self._changed.poke()

    def _fail(self, problem: DomainError) -> None:
        if self.error is None:
            LOGGER.warning("status list %s not signed: %s", self.list_id, problem.detail)
        self.error = problem
        self._changed.poke()


_JOBS: dict[tuple[int, str], _Signing] = {}
_JOBS_GUARD = threading.Lock()


def stop_signing(factory: sessionmaker[Session]) -> None:
    """At the service's shutdown: the signing jobs on ``factory``'s database give up instead of
    retrying (for up to :data:`RETRY_FOR` seconds) against a signer or a database going away."""
    bind = id(factory.kw.get("bind"))
    with _JOBS_GUARD:
        jobs = [job for key, job in _JOBS.items() if key[0] == bind]
    for job in jobs:
        job._stopped.set()


def _signing_job(
    factory: sessionmaker[Session], agent: AdminClient | None, list_id: str, ttl: int
) -> _Signing:
    """The list's running signing job, started if there is none (one per list and database)."""
    key = (id(factory.kw.get("bind")), list_id)
    with _JOBS_GUARD:
        job = _JOBS.get(key)
        if job is None or job.finished:
            job = _JOBS[key] = _Signing(key, factory, agent, list_id, ttl)
            threading.Thread(target=job.run, name="credgate-status-signing", daemon=True).start()
        return job


def _load(
    factory: sessionmaker[Session], list_id: str
) -> tuple[StatusList, StatusListCredential | None]:
    with factory() as session:
        status_list = store.find_list(session, list_id)
        if status_list is None:
            raise DomainError(ProblemType.UNKNOWN_STATUS_LIST, f"no status list {list_id!r}")
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
