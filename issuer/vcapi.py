"""W3C VC-API ``POST /credentials/issue``: sign a credential directly, without an exchange.

Any credential that meets the VC Data Model (1.1 or 2.0) may be signed; one of ours must also meet
its JSON Schema and come from an issuer allowed for its type. The status entry is added here
(StatusList2021 for 1.1, BitstringStatusList for 2.0), in the transaction that records the
issuance; the signature comes from the issuer DID's tenant on the issuer agent.
"""

from __future__ import annotations

import copy
from typing import Any

from agents.client import AgentError
from credgate.db import transaction, utcnow
from credgate.problems import Problem
from issuer import credentials, inputs, records
from issuer.context import IssuerContext
from issuer.status import add_status_context
from issuer.tenants import agent_problem
from issuer.trust import authorize_issuer, unknown_issuer
from issuer.vcdm import data_model, issuer_id, types_of

SIGNING_OPTIONS = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
OPTIONS = ("credentialId",)


def issue(ctx: IssuerContext, body: Any, actor: str) -> dict[str, Any]:
    body = inputs.json_object(body, ("credential", "options"))
    if not isinstance(body.get("credential"), dict):
        raise inputs.invalid("credential must be a JSON object", "credential")
    options = inputs.json_object(body.get("options", {}), OPTIONS)
    credential = prepare(ctx, copy.deepcopy(body["credential"]), options)

    credentials.check_vcdm(credential)
    type_name = credgate_type(credential)
    if type_name is not None:
        credentials.check_schema(credential, placeholders=True, subject=False)
    did = issuer_id(credential)
    tenant = ctx.tenants.by_did(did) if did else None
    if tenant is None:
        raise unknown_issuer(did)
    authorize_issuer(ctx, type_name, tenant.did)

    with transaction(ctx.factory) as session:
        record = records.reserve(
            session, credential,
            type_name=type_name, workflow="vc-api", channel="vc-api", actor=actor,
            status_base_url=ctx.status_base_url,
        )  # fmt: skip
    try:
        signed = tenant.client.issue_vc(credential, SIGNING_OPTIONS)
    except AgentError as exc:
        with transaction(ctx.factory) as session:
            records.abandon(session, record, f"signing failed: {exc.message}")
        raise agent_problem(exc) from exc
    with transaction(ctx.factory) as session:
        delivered = records.deliver(session, record, credential=signed)
    if not delivered:  # swept as interrupted meanwhile: its index is abandoned, it cannot verify
        raise Problem(
            "issuance-interrupted", "Issuance interrupted", 503,
            "the issuance took too long and was abandoned; try again",
            headers={"Retry-After": "1"},
        )  # fmt: skip
    return signed


def prepare(ctx: IssuerContext, credential: dict[str, Any], options: dict[str, Any]) -> dict:
    """Fill in what the issuer decides when the client leaves it out: issuer, id, issuance date."""
    if "issuer" not in credential:
        credential["issuer"] = ctx.tenants.authority().did
    if "id" not in credential:
        credential_id = options.get("credentialId") or credentials.new_credential_id()
        if not isinstance(credential_id, str):
            raise inputs.invalid("options.credentialId must be a string", "options")
        credential["id"] = credential_id
    if data_model(credential) == "1.1" and "issuanceDate" not in credential:
        credential["issuanceDate"] = credentials.xsd_datetime(utcnow())
    add_status_context(credential)
    return credential


def credgate_type(credential: dict[str, Any]) -> str | None:
    """Our type if the credential declares one (then it is held to our rules), else None."""
    names = types_of(credential)
    if not any(name in credentials.CREDGATE_TYPES for name in names):
        return None
    return credentials.known_type(credential)
