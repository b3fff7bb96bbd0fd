"""The status entry of each credential we issue: which purpose and list model, through revocation.

Every credential carries exactly one entry (ACA-Py holders accept only one over DIDComm). The
families that can be suspended (attorney, software certification) get a ``suspension`` entry,
the others a ``revocation`` one; how revocation/ makes a suspension entry final is its business.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from issuer.vcdm import STATUS_LIST_2021_CONTEXT, data_model
from revocation.allocation import StatusAllocation, allocate, mark_abandoned, mark_issued
from schemas.registry import UnknownCredentialType, credential_type

__all__ = [
    "StatusAllocation",
    "add_status_context",
    "attach_status",
    "mark_abandoned",
    "mark_issued",
    "purpose_for",
]


def purpose_for(type_name: str | None) -> str:
    try:
        purposes = credential_type(type_name).status_purposes if type_name else ()
    except UnknownCredentialType:
        purposes = ()
    return "suspension" if "suspension" in purposes else "revocation"


def model_for(credential: Mapping[str, Any]) -> str:
    return "BitstringStatusList" if data_model(credential) == "2.0" else "StatusList2021"


def attach_status(
    session: Session,
    credential: dict[str, Any],
    *,
    type_name: str | None,
    issuer_did: str,
    status_base_url: str,
    exchange_id: str | None = None,
) -> StatusAllocation:
    """Reserve an index in the caller's transaction and put its entry into ``credential``."""
    allocation = allocate(
        session,
        issuer_did=issuer_did,
        purpose=purpose_for(type_name),
        model=model_for(credential),
        credential_id=credential["id"],
        status_base_url=status_base_url,
        exchange_id=exchange_id,
    )
    credential["credentialStatus"] = allocation.credential_status()
    add_status_context(credential)
    return allocation


def add_status_context(credential: dict[str, Any]) -> None:
    """credentials/v1 does not define StatusList2021Entry: the issuer that adds the entry adds
    its context too (else the entry would be dropped from what is signed)."""
    contexts = credential.get("@context")
    if (
        model_for(credential) == "StatusList2021"
        and isinstance(contexts, list)
        and STATUS_LIST_2021_CONTEXT not in contexts
    ):
        credential["@context"] = [*contexts, STATUS_LIST_2021_CONTEXT]
