"""The credential endpoint's work: which configuration, whose key, then sign the offer's record.

The credentials are the issuance records the DIDComm exchange reserved (with their status index,
in the exchange's transaction); redeeming the offer moved them to the OpenID4VCI channel. The
first credential request binds a late subject to the holder's DID and makes the record issued;
the same credential in another format shares its id and its status entry, so one revocation
(through the revocation API, depute, or the issuer's admin) ends every format at once. The
SD-JWT VC's Token Status List reference points at that same list (``<list URL>/token``).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from agents.client import AgentError
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import credentials, records
from issuer.context import IssuerContext
from issuer.models import ISSUED, ISSUING, IssuedCredential, Oid4vciGrant
from issuer.oid4vci import grants, metadata, sdjwt
from issuer.oid4vci.errors import OAuthError, invalid_credential_request, invalid_proof
from issuer.oid4vci.grants import Oid4vciSettings
from issuer.oid4vci.proofs import HolderKey, check_proof
from issuer.tenants import agent_problem
from issuer.vcdm import subject_id
from schemas.registry import SCHEMAS_DIR

#: A subject DID, as the credential schemas define it (``$defs/did``).
DID = re.compile(
    json.loads((SCHEMAS_DIR / "credential.schema.json").read_text())["$defs"]["did"]["pattern"]
)
SIGNING_OPTIONS = {"proofType": "Ed25519Signature2020", "proofPurpose": "assertionMethod"}
SD_JWT_TYP = "dc+sd-jwt"
REGISTERED = ("iss", "iat", "nbf", "exp", "vct", "cnf", "status", "jti")


def requested_configuration(body: dict[str, Any], base: str) -> tuple[str, str]:
    """(type, format) of a credential request: by ``credential_configuration_id`` (1.0), or by
    ``format`` with ``vct`` / ``credential_definition.type`` (earlier drafts)."""
    if "credential_identifier" in body:
        raise OAuthError(
            "unknown_credential_identifier", "this issuer hands out no credential identifiers"
        )
    if "credential_configuration_id" in body:
        parsed = metadata.parse_configuration_id(body["credential_configuration_id"])
        if parsed is None:
            raise OAuthError(
                "unknown_credential_configuration", "no such credential_configuration_id"
            )
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
        raise OAuthError(
            "unknown_credential_configuration", f"this offer does not include a {type_name}"
        )
    proof = proof_of(body)
    holder: HolderKey | None = None
    if proof is not None:
        holder = check_proof(proof, audience=base, now=now, max_age=settings.proof_max_age)
    elif metadata.needs_proof(type_name, fmt):
        raise invalid_proof("a jwt key proof is required")
    key = metadata.configuration_id(type_name, fmt)
    try:
        with transaction(ctx.factory) as session:  # one transaction: nothing half-spent
            if holder is not None:
                grants.spend_nonce_in(session, settings, holder.nonce, now)
            if not grants.claim_in(session, grant.id, key):
                raise OAuthError(
                    "credential_request_denied", f"{key} was already issued for this offer"
                )
            record = _bound_record(session, template["record"], type_name, holder)
    except IntegrityError:  # the nonce's row exists: it was spent before
        raise grants.invalid_nonce() from None
    try:
        issued = _sign(ctx, record, type_name, fmt, holder, base)
    except BaseException:
        grants.release_configuration(ctx, grant.id, key)
        raise
    return {"credentials": [{"credential": issued}]}


def _bound_record(
    session, record_id: str, type_name: str, holder: HolderKey | None
) -> IssuedCredential:
    """The offer's issuance record, its subject the holder's DID. The first request binds a
    late subject; every later one (another format of the same credential) must prove
    possession of the same DID's key, as must any request for a credential issued to a DID."""
    record = session.scalar(
        select(IssuedCredential).where(IssuedCredential.id == record_id).with_for_update()
    )
    if record is None or record.state not in (ISSUING, ISSUED):
        raise OAuthError("credential_request_denied", "this credential is no longer on offer")
    if not metadata.binds_subject(type_name) or holder is None:
        return record
    bound = subject_id(record.credential)
    if bound is None and record.state == ISSUING:
        # The rest of the credential met its schema when the exchange opened (with a stand-in
        # subject id); only the id changes here, so only the id is checked (a full schema
        # check costs ~10 ms).
        if not DID.fullmatch(holder.did):
            raise invalid_proof("the proof's key names no DID a credential subject can be")
        credential = credentials.with_subject(record.credential, holder.did)
        won = session.execute(
            update(IssuedCredential)
            .where(
                IssuedCredential.id == record.id,
                IssuedCredential.subject_id.is_(None),
                IssuedCredential.state == ISSUING,
            )
            .values(credential=credential, subject_id=holder.did, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            session.expunge(record)
            record.credential, record.subject_id = credential, holder.did
            return record
        session.refresh(record)
        bound = subject_id(record.credential)
    if bound != holder.did:
        raise invalid_proof(f"this credential is bound to {bound}: prove possession of its key")
    session.expunge(record)
    return record


def _sign(
    ctx: IssuerContext,
    record: IssuedCredential,
    type_name: str,
    fmt: str,
    holder: HolderKey | None,
    base: str,
) -> Any:
    """The record's credential in ``fmt``, signed by its issuer's key in the agent; the record
    becomes issued with the first format delivered (the others share its id and status)."""
    tenant = ctx.tenants.by_did(record.issuer_did)
    if tenant is None:
        raise DomainError(ProblemType.ISSUER_UNAVAILABLE, "the issuing DID's wallet is gone")
    credential = record.credential
    try:
        if fmt == metadata.LDP_VC:
            issued: Any = tenant.client.issue_vc(credential, SIGNING_OPTIONS)
        elif fmt == metadata.JWT_VC:
            issued = tenant.client.sign_jwt(
                vc_jwt_payload(credential), did=tenant.did, headers={"typ": "JWT"}
            )
        else:
            payload = sd_jwt_payload(
                credential,
                record.status_list_url,
                record.status_index,
                holder,
                metadata.vct(base, type_name),
            )
            issued = sdjwt.issue(
                payload,
                REGISTERED,
                lambda signed: tenant.client.sign_jwt(
                    signed, did=tenant.did, headers={"typ": SD_JWT_TYP}
                ),
            )
    except AgentError as exc:
        raise agent_problem(exc) from exc  # the record stays issuing: the wallet may retry
    if record.state != ISSUED:
        with transaction(ctx.factory) as session:
            delivered = records.deliver(session, record)
        if not delivered and _state(ctx, record.id) != ISSUED:
            raise DomainError(
                ProblemType.ISSUANCE_INTERRUPTED,
                "the offer expired before the credential was fetched",
            )
    return issued


def _state(ctx: IssuerContext, record_id: str) -> str | None:
    with ctx.factory() as session:
        record = session.get(IssuedCredential, record_id)
        return record.state if record else None


def _epoch(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).timestamp())
    except ValueError:
        return None


def _until(credential: dict[str, Any]) -> int | None:
    """The end of validity: ``expirationDate``, or the ``validUntil`` an Attorney credential
    states (VCDM 2.0's name, which our 1.1 mandates carry too)."""
    return _epoch(credential.get("expirationDate") or credential.get("validUntil"))


def vc_jwt_payload(credential: dict[str, Any]) -> dict[str, Any]:
    """VC-JWT as VCDM 1.1 §6.3.1 encodes it: registered claims beside the ``vc`` claim."""
    payload: dict[str, Any] = {
        "iss": credential["issuer"],
        "jti": credential["id"],
        "nbf": _epoch(credential.get("validFrom") or credential.get("issuanceDate")),
        "iat": _epoch(credential.get("issuanceDate")),
        "vc": credential,
    }
    subject = subject_id(credential)
    if subject:
        payload["sub"] = subject
    if (exp := _until(credential)) is not None:
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
        "nbf": _epoch(credential.get("validFrom") or credential.get("issuanceDate")),
        "vct": vct,
        "jti": credential["id"],
        "status": {"status_list": {"idx": index, "uri": f"{list_url}/token"}},
    }
    if (exp := _until(credential)) is not None:
        payload["exp"] = exp
    if holder is not None:
        payload["cnf"] = {"jwk": dict(holder.jwk)}
    clash = set(claims) & set(payload)
    if clash:
        raise invalid_credential_request(f"claims clash with registered names: {sorted(clash)}")
    return {**payload, **claims}
