"""Compute routes, mounted by the gateway at ``/apps/compute``.

* ``POST /api/flists`` — upload a flist archive (raw body) → ``{"digest", "md5", "size"}``
* ``POST /api/jobs`` ``{"flist": <digest>, "dataset", "purpose", "certificate"?}`` → 202, or a
  403 saying why the software is not certified for that purpose (the refusal is audited too)
* ``GET /api/jobs/<id>?wait=<s>`` — the job (waits up to 30 s for it to finish)
* ``GET /api/audit/verify`` — check the audit chain (Governance or DataIntermediary)

Where this machine cannot make the job sandbox, ``POST /api/jobs`` is a 503
``sandbox-unavailable`` problem: compute never runs a job unsandboxed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from apps import inputs
from apps.compute import audit, services
from credgate.problems import Problem, json_body
from gateway.plugin import (
    AnyOf,
    AttorneyPower,
    Participant,
    Role,
    current_principal,
    requires,
    verify_evidence,
)

bp = Blueprint("compute", __name__)
EXTENSION = "apps.compute"

RUN = AnyOf(AttorneyPower("compute", "run"), Role("DataConsumer"), Role("ModelConsumer"),
            Role("ModelProvider"), Role("DataProvider"), Role("DataIntermediary"))  # fmt: skip
AUDITOR = AnyOf(Role("Governance"), Role("DataIntermediary"))


def runtime() -> services.ComputeRuntime:
    return current_app.extensions[EXTENSION]


@bp.post("/api/flists")
@requires(RUN)
def upload():
    request.max_content_length = runtime().max_archive_bytes  # flists are bigger than JSON
    stored = services.store_flist(runtime(), request.get_data(cache=False),
                                  current_principal().holder)  # fmt: skip
    return stored, 201


@bp.post("/api/jobs")
@requires(RUN)
def submit():
    sandbox = getattr(runtime().executor, "sandbox", None)
    if sandbox is not None and not sandbox.available:
        raise Problem("sandbox-unavailable", "Compute sandbox unavailable", 503,
                      f"this machine cannot sandbox jobs, so compute runs none: {sandbox.reason}")
    job = services.submit(runtime(), services.parse_job(json_body()), current_principal(),
                          verify_evidence)  # fmt: skip
    return job, 202, {"Location": f"/apps/compute/api/jobs/{job['id']}"}


@bp.get("/api/jobs/<job_id>")
@requires(Participant())
def get_job(job_id: str):
    wait = inputs.integer(request.args.get("wait"), "wait", default=0, low=0, high=30)
    return services.get_job(runtime(), job_id, current_principal(), wait)


@bp.get("/api/audit/verify")
@requires(AUDITOR)
def verify_audit():
    return audit.verify_chain(runtime().factory).to_json()
