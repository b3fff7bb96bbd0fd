"""W3C VC-API: ``POST /credentials/issue`` (operator token), request and response as the VC-API
specifies: ``{"credential": ..., "options": ...}`` in, ``201 {"verifiableCredential": ...}`` out."""

from __future__ import annotations

from flask import Blueprint, jsonify

from credgate.auth import operator_required
from credgate.problems import json_body
from issuer import vcapi as service
from issuer.context import issuer_context
from issuer.idempotency import idempotent
from issuer.routes.common import actor

vc_api = Blueprint("issuer_vcapi", __name__)


@vc_api.post("/credentials/issue")
@operator_required
@idempotent
def issue_credential():
    signed = service.issue(issuer_context(), json_body(), actor())
    response = jsonify({"verifiableCredential": signed})
    response.status_code = 201
    return response
