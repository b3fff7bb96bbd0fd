"""Compute routes, mounted by the gateway at ``/apps/compute``.

* ``POST /api/flists`` — upload a flist archive (raw body) → ``{"digest", "md5", "size"}``
* ``POST /api/jobs`` ``{"flist": <digest>, "dataset", "purpose", "certificate"?}`` → 202, or a
  403 saying why the software is not certified for that purpose (the refusal is audited too)
* ``GET /api/jobs/<id>?wait=<s>`` — the job (waits up to 30 s for it to finish)
* ``GET /api/audit/verify`` — check the audit chain (Governance or DataIntermediary)

Where this machine cannot make the job sandbox, ``POST /api/jobs`` is a 503
``sandbox-unavailable`` problem: compute never runs a job unsandboxed.

Each route declares what it takes and answers (:func:`~gateway.plugin.operation`): the
declaration checks a job's body and the ``wait`` parameter before the view runs, with the
problems the services' own checks give (``invalid-field`` naming the field, ``invalid-request``
for a body that is not an object), and describes the route in the gateway's ``/openapi.json``.
"""

from __future__ import annotations

from flask import Blueprint, current_app, request

from apps import inputs
from apps.compute import audit, services
from credgate.problems import Problem, json_body
from gateway import plugin

bp = Blueprint("compute", __name__)
EXTENSION = "apps.compute"

RUN = plugin.AnyOf(
    plugin.AttorneyPower("compute", "run"),
    plugin.Role("DataConsumer"),
    plugin.Role("ModelConsumer"),
    plugin.Role("ModelProvider"),
    plugin.Role("DataProvider"),
    plugin.Role("DataIntermediary"),
)
AUDITOR = plugin.AnyOf(plugin.Role("Governance"), plugin.Role("DataIntermediary"))


def runtime() -> services.ComputeRuntime:
    return current_app.extensions[EXTENSION]


def sandbox_ready() -> None:
    """A 503 where this machine cannot sandbox jobs, whatever the body says (run before it)."""
    sandbox = getattr(runtime().executor, "sandbox", None)
    if sandbox is not None and not sandbox.available:
        raise Problem(
            "sandbox-unavailable",
            "Compute sandbox unavailable",
            503,
            f"this machine cannot sandbox jobs, so compute runs none: {sandbox.reason}",
        )


# -- what the API takes and answers (the gateway's /openapi.json) --------------------------------

#: Every field error is the services' ``invalid-field`` (a missing one too), as before.
FIELD = "invalid-field"
STRING = {"type": "string"}
INTEGER = {"type": "integer"}
OPTIONAL_TEXT = {"type": ["string", "null"]}
OPTIONAL_TIME = {"type": ["string", "null"], "format": "date-time"}
DIGEST = {
    "type": "string",
    "pattern": f"^{inputs.DIGEST.pattern}$",
    "x-problem": FIELD,
    "description": "urn:sha256:<64 lower-case hex digits>",
}
#: One credential, or a list of at most ten (services.parse_job reads either).
CERTIFICATES = {
    "type": ["object", "array"],
    "maxItems": 10,
    "items": {"type": "object"},
    "x-problem": FIELD,
}
NEW_JOB = plugin.obj(
    problem="invalid-request",  # not an object at all
    required={
        "flist": DIGEST,
        "dataset": {
            "type": "string",
            "minLength": 1,
            "maxLength": 500,
            "pattern": r"\S",
            "x-problem": FIELD,
            "description": "a reference to the dataset",
        },
        "purpose": {"enum": list(services.PURPOSES), "x-problem": FIELD},
    },
    optional={
        "certificates": {
            **CERTIFICATES,
            "description": "SoftwareCertification credentials of the flist",
        },
        "certificate": {**CERTIFICATES, "description": "the same (read without certificates)"},
    },
)
JOB = plugin.component(
    "ComputeJob",
    plugin.obj(
        required={
            "id": STRING,
            "flist": STRING,
            "dataset": STRING,
            "purpose": STRING,
            "holder": STRING,
            "party": STRING,
            "state": {"enum": ["queued", "running", "refused", "succeeded", "failed"]},
            "created": OPTIONAL_TIME,
        },
        optional={
            "reason": OPTIONAL_TEXT,
            "certificates": {"type": ["array", "null"], "items": STRING},
            "exitCode": {"type": ["integer", "null"]},
            "timedOut": {"type": ["boolean", "null"]},
            "output": OPTIONAL_TEXT,
            "errors": OPTIONAL_TEXT,
            "started": OPTIONAL_TIME,
            "finished": OPTIONAL_TIME,
        },
    ),
)
STORED = plugin.obj(required={"digest": STRING, "md5": STRING, "size": INTEGER})
CHAIN = plugin.obj(
    required={"ok": {"type": "boolean"}, "entries": INTEGER},
    optional={"brokenAt": {"type": ["integer", "null"]}, "reason": OPTIONAL_TEXT},
)
WAIT = {"type": "integer", "minimum": 0, "maximum": 30, "x-problem": FIELD}
GATED = plugin.gated("compute", problems=None)


@bp.post("/api/flists")
@plugin.requires(RUN)
@plugin.operation(
    "Upload a flist archive: the raw body, of any media type",
    **GATED,
    problems=(400, 403, 413),
    responses={201: STORED},
    body={"type": "string", "format": "binary"},
    body_media="application/octet-stream",
)
def upload():
    request.max_content_length = runtime().max_archive_bytes  # flists are bigger than JSON
    stored = services.store_flist(
        runtime(), request.get_data(cache=False), plugin.current_principal().holder
    )
    return stored, 201


@bp.post("/api/jobs")
@plugin.requires(RUN)
@plugin.operation(
    "Run a certified flist on a dataset, for a purpose it is certified for",
    **GATED,
    body=NEW_JOB,
    before=sandbox_ready,
    problems=(403, 404, 409, 503),
    responses={202: JOB},
)
def submit():
    job = services.submit(
        runtime(),
        services.parse_job(json_body()),
        plugin.current_principal(),
        plugin.verify_evidence,
    )
    return job, 202, {"Location": f"/apps/compute/api/jobs/{job['id']}"}


@bp.get("/api/jobs/<job_id>")
@plugin.requires(plugin.Participant())
@plugin.operation(
    "One of the caller's jobs (waiting up to ?wait= seconds for it to end)",
    **GATED,
    query={"wait": plugin.param("seconds to wait for the job to end (0-30)", WAIT)},
    problems=(403, 404),
    responses={200: JOB, **plugin.TO_LOGIN},
)
def get_job(job_id: str):
    wait = inputs.integer(request.args.get("wait"), "wait", default=0, low=0, high=30)
    return services.get_job(runtime(), job_id, plugin.current_principal(), wait)


@bp.get("/api/audit/verify")
@plugin.requires(AUDITOR)
@plugin.operation(
    "Check the audit chain (Governance or DataIntermediary)",
    **GATED,
    problems=(403,),
    responses={200: CHAIN, **plugin.TO_LOGIN},
)
def verify_audit():
    return audit.verify_chain(runtime().factory).to_json()
