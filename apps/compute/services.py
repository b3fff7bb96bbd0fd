"""Compute services: store flists, admit jobs only for certified software, run them, audit.

A job names a flist by digest, a dataset reference and a purpose. The app hashes the flist's
*bytes* again (the stored file could have been swapped), and admits the job only if a
SoftwareCertification credential for exactly that digest and that purpose verifies now — proof,
an accredited certifier (trust registry), not revoked or suspended, within its validity — and
its md5 (what Zero-OS checks) matches too. Certificates are found in the public registry of
certified software (by the digest of the bytes), in the catalogue's published flists, or come
with the job; wherever they come from, only the verifier's verdict on each counts. Every
admission, refusal, start and end is appended to the audit chain.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from apps import inputs
from apps.compute import audit
from apps.compute.executor import Executor, FlistError, Limits, LocalExecutor, SandboxUnavailable
from apps.compute.models import Flist, Job
from apps.registry import SoftwareRegistry
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.notify import notifier_for
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from gateway.plugin import CertifiedSoftware, Principal, evaluate, missing
from verifier.engine import CredentialResult

log = logging.getLogger(__name__)

PURPOSES = ("de-identification", "anonymisation", "harmonisation", "model-training")
TERMINAL = frozenset({"refused", "succeeded", "failed"})
JOBS_CHANNEL = "compute.jobs"


@dataclass
class ComputeRuntime:
    factory: sessionmaker[Session]
    store: Path
    executor: Executor = field(default_factory=LocalExecutor)
    limits: Limits = field(default_factory=Limits)
    max_archive_bytes: int = 64 * 1024 * 1024
    registry: SoftwareRegistry | None = None  # the public registry of certified software
    pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=2, thread_name_prefix="compute")
    )

    def path(self, digest: str) -> Path:
        return self.store / digest.removeprefix("urn:sha256:")

    def notify(self) -> None:
        """A job's state changed: wake its waiters, on every node (they re-read the job)."""
        notifier_for(self.factory).publish(JOBS_CHANNEL)

    def generation(self) -> int:
        return notifier_for(self.factory).generation(JOBS_CHANNEL)

    def wait(self, seen: int, timeout: float) -> None:
        notifier_for(self.factory).wait(JOBS_CHANNEL, seen, timeout)


def digests(data: bytes) -> tuple[str, str]:
    return "urn:sha256:" + hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest()


def store_flist(runtime: ComputeRuntime, data: bytes, uploaded_by: str) -> dict[str, Any]:
    if not data:
        raise inputs.invalid("body", "send the flist archive as the request body")
    digest, md5 = digests(data)
    runtime.store.mkdir(parents=True, exist_ok=True)
    target = runtime.path(digest)
    if not target.exists():
        tmp = target.with_suffix(f".{secrets.token_hex(4)}.tmp")
        tmp.write_bytes(data)
        tmp.replace(target)  # atomic: a reader never sees half a file
    try:
        with transaction(runtime.factory) as session:
            session.add(Flist(digest=digest, md5=md5, size=len(data), uploaded_by=uploaded_by))
    except IntegrityError:
        pass  # the same bytes were uploaded before
    return {"digest": digest, "md5": md5, "size": len(data)}


@dataclass(frozen=True)
class JobRequest:
    flist: str
    dataset: str
    purpose: str
    certificates: list[dict[str, Any]]


def parse_job(body: Any) -> JobRequest:
    body = inputs.obj(body)
    certificates = body.get("certificates", body.get("certificate", []))
    if isinstance(certificates, dict):
        certificates = [certificates]
    if (
        not isinstance(certificates, list)
        or len(certificates) > 10
        or not all(isinstance(c, dict) for c in certificates)
    ):
        raise inputs.invalid("certificates", "certificates is a list of at most 10 credentials")
    return JobRequest(
        flist=inputs.digest(body, "flist"),
        dataset=inputs.text(body, "dataset", max_length=500),
        purpose=inputs.choice(body, "purpose", PURPOSES),
        certificates=certificates,
    )


def job_json(job: Job) -> dict[str, Any]:
    def time_of(moment):
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None

    return {
        "id": job.id,
        "flist": job.flist,
        "dataset": job.dataset,
        "purpose": job.purpose,
        "holder": job.holder,
        "party": job.party,
        "state": job.state,
        "reason": job.reason,
        "certificates": job.certificates,
        "exitCode": job.exit_code,
        "timedOut": job.timed_out,
        "output": job.stdout,
        "errors": job.stderr,
        "created": time_of(job.created_at),
        "started": time_of(job.started_at),
        "finished": time_of(job.finished_at),
    }


def submit(
    runtime: ComputeRuntime,
    request: JobRequest,
    principal: Principal,
    verify: Any,  # credentials -> tuple[CredentialResult, ...]
) -> dict[str, Any]:
    job = Job(
        id=secrets.token_urlsafe(12),
        flist=request.flist,
        dataset=request.dataset,
        purpose=request.purpose,
        holder=principal.holder,
        party=principal.party,
        state="queued",
        certificates=[],
        timed_out=False,
    )
    try:
        certificate_ids = admit(runtime, request, verify)
    except DomainError as refusal:
        job.state, job.reason = "refused", f"{refusal.slug}: {refusal.detail}"
        job.finished_at = utcnow()
        with transaction(runtime.factory) as session:
            session.add(job)
        audit.append(runtime.factory, "refused", _audit_data(job), job.id)
        refusal.extra["job"] = job.id
        raise
    job.certificates = certificate_ids
    with transaction(runtime.factory) as session:
        session.add(job)
    audit.append(runtime.factory, "admitted", _audit_data(job), job.id)
    runtime.pool.submit(run_job, runtime, job.id)
    return job_json(job)


def _audit_data(job: Job, **extra: Any) -> dict[str, Any]:
    return {
        "flist": job.flist,
        "dataset": job.dataset,
        "purpose": job.purpose,
        "holder": job.holder,
        "party": job.party,
        "certificates": job.certificates,
        "reason": job.reason,
        **extra,
    }


def admit(runtime: ComputeRuntime, request: JobRequest, verify: Any) -> list[str]:
    """The ids of the certificates that admit the job, or a 4xx problem saying why not."""
    path = runtime.path(request.flist)
    if not path.is_file():
        raise DomainError(ProblemType.UNKNOWN_FLIST, f"no flist {request.flist} was uploaded")
    actual, md5 = digests(path.read_bytes())
    if actual != request.flist:
        raise DomainError(
            ProblemType.FLIST_TAMPERED,
            f"the stored bytes hash to {actual}, not {request.flist}",
        )
    found = runtime.registry
    certificates = _distinct(
        request.certificates
        # published with the flist by a mounted app (the catalogue), then the public registry's
        + (found.published(actual) + found.certificates(actual) if found is not None else [])
    )
    results: tuple[CredentialResult, ...] = verify(certificates) if certificates else ()
    decision = evaluate(CertifiedSoftware(actual, request.purpose), results)
    if not decision.allow:
        failures = [
            f"{r.credential.get('id')}: {', '.join(r.error_types())}"
            for r in results
            if not r.verified
        ]
        reason = decision.reasons[0]
        raise Problem(
            reason.code,
            "Software not certified for this job",
            403,
            reason.detail + (f" (refused certificates: {'; '.join(failures)})" if failures else ""),
            missing=missing(decision.reasons),
            certificateErrors=failures,
        )
    for certificate in decision.granted_by:
        subject = certificate.get("credentialSubject") or {}
        certified_md5 = subject.get("md5")
        if certified_md5 not in (None, md5):
            raise DomainError(
                ProblemType.MD5_MISMATCH,
                f"the bytes' md5 is {md5}, the certificate's {certified_md5}",
            )
    return list(decision.credentials)


def _distinct(certificates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One of each (the registry and the catalogue often hold the same certificate)."""
    seen: set[str] = set()
    kept = []
    for certificate in certificates:
        key = json.dumps(certificate, sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(certificate)
    return kept


def run_job(runtime: ComputeRuntime, job_id: str) -> None:
    factory = runtime.factory
    try:
        with transaction(factory) as session:
            job = session.get(Job, job_id)
            job.state, job.started_at = "running", utcnow()
        runtime.notify()
        audit.append(factory, "started", {"flist": job.flist}, job_id)
        try:
            result = runtime.executor.run(
                runtime.path(job.flist),
                dataset=job.dataset,
                purpose=job.purpose,
                limits=runtime.limits,
            )
            state = "succeeded" if audit.succeeded(result) else "failed"
            values = {
                "exit_code": result.exit_code,
                "timed_out": result.timed_out,
                "stdout": result.stdout,
                "stderr": result.stderr,
            }
            reason = audit.reason(result)
        except (FlistError, SandboxUnavailable) as exc:  # never run unsandboxed
            state, values, reason = "failed", {}, str(exc)
            result = None
        with transaction(factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(state=state, reason=reason, finished_at=utcnow(), **values)
            )
        output_hash = hashlib.sha256((values.get("stdout") or "").encode()).hexdigest()
        audit.append(
            factory,
            "finished",
            {
                "state": state,
                "exitCode": values.get("exit_code"),
                "reason": reason,
                "outputSha256": output_hash,
                "durationMs": result.duration_ms if result else 0,
                **(audit.ending(result) if result else {"ended": "not-started"}),
            },
            job_id,
        )
    except Exception:
        log.exception("compute job %s crashed", job_id)
        with transaction(factory) as session:
            session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(state="failed", reason="the executor crashed", finished_at=utcnow())
            )
    finally:
        runtime.notify()


def get_job(
    runtime: ComputeRuntime, job_id: str, principal: Principal, wait: float = 0.0
) -> dict[str, Any]:
    deadline = time.monotonic() + wait
    while True:
        seen = runtime.generation()  # before reading: a change after the read still wakes us
        with runtime.factory() as session:
            job = session.get(Job, job_id) if len(job_id) <= 32 else None
        if job is None or job.party != principal.party:  # others' jobs do not exist for you
            raise DomainError(ProblemType.UNKNOWN_JOB, f"no job {job_id} of yours")
        remaining = deadline - time.monotonic()
        if job.state in TERMINAL or remaining <= 0:
            return job_json(job)
        runtime.wait(seen, min(remaining, 0.5))
