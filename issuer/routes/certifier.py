"""The certifier's API: certify an flist (by URL, or uploaded), list, download and revoke
certifications (every route needs the certifier's own API token); and the public, read-only
registry of certified software by digest (``/issuer/software``)."""

from __future__ import annotations

from flask import Blueprint, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from credgate.openapi import Guard, operation
from credgate.problems import json_body, problem_response
from issuer import certification, certified_software
from issuer.certifiers import certifier_required
from issuer.context import issuer_context
from issuer.flist import too_large
from issuer.idempotency import idempotent
from issuer.routes.common import envelope, text

certifier = Blueprint("issuer_certifier", __name__, url_prefix="/issuer/certifications")
software = Blueprint("issuer_software", __name__, url_prefix="/issuer/software")

UPLOAD_FIELD = "flist"
FORM_OVERHEAD = 64 * 1024  # multipart headers and the other fields
#: A certifier route's ``auth``: the document names a bearer token, and a request without the
#: certifier's own is refused before any other check (certifying checks it before its
#: idempotency key instead, with ``@certifier_required``).
CERTIFIER_TOKEN = Guard("bearer", certifier_required)


@certifier.before_request
def allow_flist_uploads():
    # An upload may be as large as an flist may be, not just the service-wide body limit.
    limit = issuer_context().settings.flist_max_bytes
    request.max_content_length = limit + FORM_OVERHEAD


@certifier.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc):
    # Returned, not raised: an exception raised inside an error handler becomes a 500.
    return problem_response(too_large(issuer_context().settings.flist_max_bytes, 413))


@certifier.post("")
@certifier_required
@idempotent
@operation(
    "Certify software: upload its flist; a credential is signed",
    responses={
        201: {"type": "object", "required": ["id", "name", "subject", "verifiableCredential"]}
    },
    problems=(400, 409, 413, 415, 422, 503),
    auth="bearer",
)
def certify():
    ctx = issuer_context()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get(UPLOAD_FIELD)
        body = certification.form_fields(request.form)
    else:
        upload, body = None, json_body()
    cert = certification.certify(ctx, g.certifier, body, upload)
    _, record = certification.get_certification(ctx, g.certifier, cert.id)
    described = certification.describe(ctx, cert, record)
    answer = {**described, "verifiableCredential": record.credential}
    return answer, 201, {"Location": described["registry"]}


@certifier.get("")
@operation(
    "This certifier's certifications",
    responses={200: {"type": "object", "required": ["certifications"]}},
    problems=(503,),
    auth=CERTIFIER_TOKEN,
)
def list_certifications():
    return {"certifications": certification.list_certifications(issuer_context(), g.certifier)}


@certifier.get("/<certification_id>")
@operation(
    "A certification",
    responses={200: {"type": "object", "required": ["id", "name", "subject"]}},
    problems=(404, 503),
    auth=CERTIFIER_TOKEN,
)
def get_certification(certification_id: str):
    ctx = issuer_context()
    cert, record = certification.get_certification(ctx, g.certifier, certification_id)
    return certification.describe(ctx, cert, record)


@certifier.get("/<certification_id>/credential")
@operation(
    "The signed credential",
    responses={200: {"type": "object", "required": ["verifiableCredential"]}},
    problems=(404, 503),
    auth=CERTIFIER_TOKEN,
)
def download(certification_id: str):
    """The signed credential, as the VC-API returns one: to keep, or to hand to a publisher."""
    signed = certification.signed_credential(issuer_context(), g.certifier, certification_id)
    return {"verifiableCredential": signed}


@certifier.post("/<certification_id>/revoke")
@operation(
    "Revoke a certification (a reason)",
    body=envelope(reason=text(1000), required=("reason",)),
    responses={200: {"type": "object", "required": ["id", "name", "subject"]}},
    problems=(404, 409, 422, 503),
    auth=CERTIFIER_TOKEN,
)
def revoke(certification_id: str):
    return certification.revoke(issuer_context(), g.certifier, certification_id, json_body())


# -- the public registry of certified software -----------------------------------------------------


@software.get("")
@operation(
    "Search certified software",
    responses={200: {"type": "object", "required": ["software", "total", "limit", "offset"]}},
    problems=(400, 503),
)
def list_software():
    return certified_software.search(issuer_context(), request.args)


@software.get("/<digest>")
@operation(
    "Certified software by its digest",
    path={"digest": {"type": "string", "pattern": certified_software.DIGEST.pattern}},
    responses={200: {"type": "object", "required": ["digest", "certificates"]}},
    problems=(400, 404, 503),
)
def software_by_digest(digest: str):
    return certified_software.by_digest(issuer_context(), digest)
