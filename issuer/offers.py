"""Offering any credgate credential over DIDComm from one of our tenants (the operator's API, and
what depute builds on for Attorney credentials).

A credential without a subject id is bound late: the holder names its DID when it accepts.
"""

from __future__ import annotations

import copy
from typing import Any

from credgate.db import utcnow
from issuer import credentials, inputs
from issuer.context import IssuerContext
from issuer.exchanges import Offer, open_exchange
from issuer.models import Exchange
from issuer.status import add_status_context
from issuer.trust import authorize_issuer, unknown_issuer
from issuer.vcdm import data_model, issuer_id, subject_id


def offer_credential(ctx: IssuerContext, body: Any, actor: str) -> Exchange:
    body = inputs.json_object(body, ("credential",))
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
        ctx, workflow="offer", tenant=tenant,
        offers=[Offer(credential, late_subject=late)], actor=actor,
    )  # fmt: skip
