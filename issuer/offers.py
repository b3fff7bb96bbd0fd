"""Offering any credgate credential over DIDComm from one of our tenants (the operator's API, and
what depute builds on for Attorney credentials).

A credential with a subject id is bound up front (what Aries RFC 0593 wallets such as Credo
expect: they copy the offer into their request); one without is bound late, the holder naming its
DID when it accepts (ACA-Py's ``holder_did``). Either way the schemas of our families require a
DID subject, so no credential is issued without one. ``proofType`` picks the signature suite.
"""

from __future__ import annotations

import copy
from typing import Any

from credgate.db import utcnow
from issuer import credentials, inputs
from issuer.context import IssuerContext
from issuer.exchanges import Offer, open_exchange, proof_type_of
from issuer.models import Exchange
from issuer.status import add_status_context
from issuer.trust import authorize_issuer, unknown_issuer
from issuer.vcdm import data_model, issuer_id, subject_id


def offer_credential(ctx: IssuerContext, body: Any, actor: str) -> Exchange:
    body = inputs.json_object(body, ("credential", "proofType"))
    proof_type = proof_type_of(body)
    if not isinstance(body.get("credential"), dict):
        raise inputs.invalid("credential must be a JSON object", "credential")
    credential = copy.deepcopy(body["credential"])
    if data_model(credential) == "2.0":
        # Aries wallets in use (ACA-Py, Credo) cannot present VCDM 2.0, so DIDComm offers stay 1.1.
        raise inputs.invalid("DIDComm offers are VCDM 1.1; use the VC-API for 2.0", "credential")
    credential.setdefault("id", credentials.new_credential_id())
    credential.setdefault("issuanceDate", credentials.xsd_datetime(utcnow()))
    add_status_context(credential)
    credentials.check_vcdm(credential)
    type_name = credentials.known_type(credential)
    did = issuer_id(credential)
    tenant = ctx.tenants.by_did(did) if did else None
    if tenant is None:
        raise unknown_issuer(did)
    authorize_issuer(ctx, type_name, tenant.did)
    late = subject_id(credential) is None
    return open_exchange(
        ctx,
        workflow="offer",
        tenant=tenant,
        offers=[Offer(credential, late_subject=late, proof_type=proof_type)],
        actor=actor,
    )
