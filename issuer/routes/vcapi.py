"""W3C VC-API: ``POST /credentials/issue`` (operator token), request and response as the VC-API
specifies: ``{"credential": ..., "options": ...}`` in, ``201 {"verifiableCredential": ...}`` out."""

from __future__ import annotations

from flask import Blueprint, request

from credgate.auth import operator_required
from credgate.openapi import operation
from credgate.problems import json_body
from issuer import vcapi as service
from issuer.context import issuer_context
from issuer.idempotency import idempotent
from issuer.routes.common import actor, envelope

vc_api = Blueprint("issuer_vcapi", __name__)


@vc_api.post("/credentials/issue")
@operator_required
@idempotent
@operation(
    "VC-API: issue a credential (VCDM 2.0)",
    body=envelope("credential", "options"),
    responses={201: {"type": "object", "required": ["verifiableCredential"]}},
    problems=(409, 422, 503),
    auth="operatorToken",
)
def issue_credential():
    # ?cryptosuite=eddsa-rdfc-2022: the Data Integrity instance (default: Ed25519Signature2020)
    cryptosuite = request.args.get("cryptosuite")
    signed = service.issue(issuer_context(), json_body(), actor(), cryptosuite)
    return {"verifiableCredential": signed}, 201
