"""The credential endpoint's work: which configuration, whose key, then sign through a record.

Each credential gets its own issuance record and status index, reserved in one transaction
(``issuer.records.reserve``, as the VC-API does: ``exchange_id`` stays empty, so the sweeper ends a
reservation whose signing was interrupted), signed by the issuing DID's tenant on the issuer agent,
then recorded as issued. The SD-JWT VC's Token Status List reference points at the same list as
the W3C entry would (``<list>/token``), so one revocation flips both.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from agents.client import AgentError
from credgate.db import transaction
from credgate.problems import Problem
from issuer import credentials, records
from issuer.context import IssuerContext
from issuer.models import Oid4vciGrant
from issuer.oid4vci import grants, metadata
from issuer.oid4vci.errors import OAuthError, invalid_credential_request, invalid_proof
from issuer.oid4vci.grants import Oid4vciSettings
from issuer.oid4vci.proofs import HolderKey, check_proof
from issuer.tenants import agent_problem
from issuer.vcdm import subject_id

SIGNING_OPTIONS = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
SD_JWT_TYP = "dc+sd-jwt"
#: ACA-Py never makes these selectively disclosable (it matches them as name prefixes).
NEVER_SD_PREFIXES = ("iss", "iat", "exp", "cnf")
REGISTERED = ("iss", "iat", "nbf", "exp", "vct", "cnf", "status", "jti")


def requested_configuration(body: dict[str, Any], base: str) -> tuple[str, str]:
    """(type, format) of a credential request: by ``credential_configuration_id`` (1.0), or by
    ``format`` with ``vct`` / ``credential_definition.type`` (earlier drafts)."""
    if "credential_identifier" in body:
        raise OAuthError("unknown_credential_identifier",
                         "this issuer hands out no credential identifiers")  # fmt: skip
    if "credential_configuration_id" in body:
        parsed = metadata.parse_configuration_id(body["credential_configuration_id"])
        if parsed is None:
            raise OAuthError("unknown_credential_configuration",
                             "no such credential_configuration_id")  # fmt: skip
        return parsed
    fmt = body.get("format")
    if fmt in ("vc+sd-jwt", metadata.SD_JWT):
        for type_name in metadata.FAMILIES:
            if body.get("vct") == metadata.vct(base, type_name):
                return type_name, metadata.SD_JWT
    elif fmt in (metadata.JWT_VC, metadata.LDP_VC):
        definition = body.get("credential_definition")
        types = definition.get("type") if isinstance(definition, dict) else None
        ours = [t for t in types if t in metadata.FAMILIES] if isinstance(types, list) else []
        if len(ours) == 1:
            return ours[0], fmt
    raise invalid_credential_request(
        "name the credential by credential_configuration_id (or format with vct / type)"
    )


def proof_of(body: dict[str, Any]) -> str | None:
    """The one ``jwt`` proof of the request: ``proofs.jwt[0]`` (1.0) or ``proof.jwt`` (drafts)."""
    if "proofs" in body:
        proofs = body["proofs"]
        if not isinstance(proofs, dict) or set(proofs) != {"jwt"}:
            raise invalid_proof("proofs must hold jwt proofs only")
        jwts = proofs["jwt"]
        if not isinstance(jwts, list) or len(jwts) != 1:
            raise invalid_proof("send exactly one jwt proof (no batch issuance here)")
        return jwts[0]
    if "proof" in body:
        proof = body["proof"]
        if not isinstance(proof, dict) or proof.get("proof_type") != "jwt":
            raise invalid_proof("proof_type must be jwt")
        return proof.get("jwt")
    return None


def issue(
    ctx: IssuerContext,
    settings: Oid4vciSettings,
    grant: Oid4vciGrant,
    body: Any,
    base: str,
    now: datetime,
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise invalid_credential_request("the request must be a JSON object")
    type_name, fmt = requested_configuration(body, base)
    template = next((t for t in grant.templates or [] if t["type"] == type_name), None)
    if template is None:
        raise OAuthError("unknown_credential_configuration",
                         f"this offer does not include a {type_name}")  # fmt: skip
    proof = proof_of(body)
    holder: HolderKey | None = None
    if proof is not None:
        holder = check_proof(proof, audience=base, now=now, max_age=settings.proof_max_age)
    elif metadata.needs_proof(type_name, fmt):
        raise invalid_proof("a jwt key proof is required")
    if holder is not None:
        grants.spend_nonce(ctx, settings, holder.nonce, now)
    credential = _bound(template, type_name, fmt, holder, now)
    key = metadata.configuration_id(type_name, fmt)
    if not grants.claim_configuration(ctx, grant.id, key):
        raise OAuthError("credential_request_denied", f"{key} was already issued for this offer")
    try:
        issued = _sign(ctx, template, type_name, fmt, credential, holder, base)
    except BaseException:
        grants.release_configuration(ctx, grant.id, key)
        raise
    return {"credentials": [{"credential": issued}]}


def _bound(
    template: dict[str, Any], type_name: str, fmt: str, holder: HolderKey | None, now: datetime
) -> dict[str, Any]:
    """The template as a fresh credential, its subject the holder's DID where it names one."""
    credential = copy.deepcopy(template["credential"])
    credential["id"] = credentials.new_credential_id()
    credential["issuanceDate"] = credentials.xsd_datetime(now)
    if not metadata.binds_subject(type_name) or holder is None:
        return credential
    fixed = subject_id(credential)
    if fixed is None:
        return credentials.with_subject(credential, holder.did)
    if fixed != holder.did:
        raise invalid_proof(f"this credential is bound to {fixed}: prove possession of its key")
    return credential


def _sign(
    ctx: IssuerContext,
    template: dict[str, Any],
    type_name: str,
    fmt: str,
    credential: dict[str, Any],
    holder: HolderKey | None,
    base: str,
) -> Any:
    tenant = ctx.tenants.by_did(template["issuer"])
    if tenant is None:
        raise Problem("issuer-unavailable", "Issuer unavailable", 503,
                      "the issuing DID's wallet is gone")  # fmt: skip
    with transaction(ctx.factory) as session:
        record = records.reserve(
            session, credential,
            type_name=type_name, workflow=f"oid4vci:{template['workflow']}"[:40],
            channel="oid4vci", actor="oid4vci", status_base_url=ctx.status_base_url,
        )  # fmt: skip
    credential = record.credential
    try:
        if fmt == metadata.LDP_VC:
            issued: Any = tenant.client.issue_vc(credential, SIGNING_OPTIONS)
        elif fmt == metadata.JWT_VC:
            issued = tenant.client.sign_jwt(vc_jwt_payload(credential), did=tenant.did,
                                            headers={"typ": "JWT"})  # fmt: skip
        else:
            payload = sd_jwt_payload(credential, record.status_list_url, record.status_index,
                                     holder, metadata.vct(base, type_name))  # fmt: skip
            issued = tenant.client.sign_sd_jwt(
                payload, did=tenant.did, non_sd=non_sd_paths(payload), headers={"typ": SD_JWT_TYP}
            )
    except AgentError as exc:
        with transaction(ctx.factory) as session:
            records.abandon(session, record, f"signing failed: {exc.message}")
        raise agent_problem(exc) from exc
    with transaction(ctx.factory) as session:
        delivered = records.deliver(
            session, record, credential=issued if isinstance(issued, dict) else credential
        )
    if not delivered:
        raise Problem("issuance-interrupted", "Issuance interrupted", 503,
                      "the issuance took too long and was abandoned; try again",
                      headers={"Retry-After": "1"})  # fmt: skip
    return issued


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp())
    except ValueError:
        return None


def vc_jwt_payload(credential: dict[str, Any]) -> dict[str, Any]:
    """VC-JWT as VCDM 1.1 §6.3.1 encodes it: registered claims beside the ``vc`` claim."""
    payload: dict[str, Any] = {
        "iss": credential["issuer"],
        "jti": credential["id"],
        "nbf": _epoch(credential.get("issuanceDate")),
        "iat": _epoch(credential.get("issuanceDate")),
        "vc": credential,
    }
    subject = subject_id(credential)
    if subject:
        payload["sub"] = subject
    if (exp := _epoch(credential.get("expirationDate"))) is not None:
        payload["exp"] = exp
    return payload


def sd_jwt_payload(
    credential: dict[str, Any],
    list_url: str,
    index: int,
    holder: HolderKey | None,
    vct: str,
) -> dict[str, Any]:
    """SD-JWT VC claims: the subject's claims (each one selectively disclosable) beside the
    registered ones (never disclosable): iss, iat, nbf, exp, vct, cnf, status, jti."""
    claims = {k: v for k, v in credential["credentialSubject"].items() if k != "id"}
    payload: dict[str, Any] = {
        "iss": credential["issuer"],
        "iat": _epoch(credential.get("issuanceDate")),
        "nbf": _epoch(credential.get("issuanceDate")),
        "vct": vct,
        "jti": credential["id"],
        "status": {"status_list": {"idx": index, "uri": f"{list_url}/token"}},
    }
    if (exp := _epoch(credential.get("expirationDate"))) is not None:
        payload["exp"] = exp
    if holder is not None:
        payload["cnf"] = {"jwk": dict(holder.jwk)}
    clash = set(claims) & set(payload)
    if clash:
        raise invalid_credential_request(f"claims clash with registered names: {sorted(clash)}")
    return {**payload, **claims}


def non_sd_paths(payload: dict[str, Any]) -> list[str]:
    """Every claim path ACA-Py would make disclosable except the subject's top-level claims:
    registered claims stay plain, and a disclosed claim's value is disclosed whole."""
    paths: list[str] = []
    for name, value in payload.items():
        if name.startswith(NEVER_SD_PREFIXES):
            continue
        if name in REGISTERED:
            paths.append(name)
        _nested(value, name, paths)
    return paths


def _nested(value: Any, path: str, paths: list[str]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.startswith(NEVER_SD_PREFIXES):
                continue
            paths.append(f"{path}.{key}")
            _nested(inner, f"{path}.{key}", paths)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            if isinstance(inner, dict | list):
                _nested(inner, f"{path}[{i}]", paths)
            else:
                paths.append(f"{path}[{i}]")
