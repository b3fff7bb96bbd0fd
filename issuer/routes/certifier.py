"""The certifier's API: certify an flist (by URL, or uploaded), list and revoke certifications.
Every route needs the certifier's own API token."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import RequestEntityTooLarge

from credgate.problems import json_body
from issuer import certification
from issuer.certifiers import certifier_required
from issuer.context import issuer_context
from issuer.flist import too_large
from issuer.idempotency import idempotent
from issuer.routes.common import exchange_view

certifier = Blueprint("issuer_certifier", __name__, url_prefix="/issuer/certifications")

UPLOAD_FIELD = "flist"
FORM_OVERHEAD = 64 * 1024  # multipart headers and the other fields


@certifier.before_request
def allow_flist_uploads():
    # An upload may be as large as an flist may be, not just the service-wide body limit.
    limit = issuer_context().settings.flist_max_bytes
    request.max_content_length = limit + FORM_OVERHEAD


@certifier.errorhandler(RequestEntityTooLarge)
def upload_too_large(_exc):
    raise too_large(issuer_context().settings.flist_max_bytes, 413)


@certifier.post("")
@certifier_required
@idempotent
def certify():
    ctx = issuer_context()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get(UPLOAD_FIELD)
        body = certification.form_fields(request.form)
    else:
        upload, body = None, json_body()
    cert, exchange = certification.certify(ctx, g.certifier, body, upload)
    _, record = certification.get_certification(ctx, g.certifier, cert.id)
    response = jsonify(
        {**certification.describe(ctx, cert, record), "exchange": exchange_view(exchange)}
    )
    response.status_code = 201
    return response


@certifier.get("")
@certifier_required
def list_certifications():
    return {"certifications": certification.list_certifications(issuer_context(), g.certifier)}


@certifier.get("/<certification_id>")
@certifier_required
def get_certification(certification_id: str):
    ctx = issuer_context()
    cert, record = certification.get_certification(ctx, g.certifier, certification_id)
    return certification.describe(ctx, cert, record)


@certifier.post("/<certification_id>/revoke")
@certifier_required
def revoke(certification_id: str):
    return certification.revoke(issuer_context(), g.certifier, certification_id, json_body())
