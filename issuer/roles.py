"""Role requests: a participant asks for roles, an operator approves (which issues the Role
credential over DIDComm) or rejects with a reason.

The request id is the participant's handle on it (unguessable): with it they follow the decision
and, once approved, pick up the invitation. The credential is bound to the DID in the request, so
only whoever controls that DID can ever present it.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from sqlalchemy import select, update

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer import credentials, inputs
from issuer.context import IssuerContext
from issuer.exchanges import DEFAULT_PROOF_TYPE, Offer, open_exchange, proof_type_of
from issuer.models import Exchange, RoleRequest

PENDING, APPROVING, APPROVED, REJECTED = "pending", "approving", "approved", "rejected"
STATES = (PENDING, APPROVING, APPROVED, REJECTED)
PLACEHOLDER_ISSUER = credentials.PLACEHOLDER_DID  # the authority's DID is not needed to check roles


def request_roles(ctx: IssuerContext, body: Any) -> RoleRequest:
    body = inputs.json_object(body, ("did", "roles", "note", "proofType"))
    subject_did = inputs.did(body, "did")
    proof_type = proof_type_of(body)
    roles = inputs.strings(body, "roles")
    note = inputs.text(body, "note", required=False, max_length=2000)
    # The roles are checked now against the Role credential's schema, not at approval time.
    draft = credentials.role(
        PLACEHOLDER_ISSUER, subject_did, roles, utcnow(), ctx.settings.role_validity
    )
    credentials.check_schema(draft, placeholders=True)
    with transaction(ctx.factory) as session:
        row = RoleRequest(
            id=str(uuid4()), subject_did=subject_did, roles=roles, note=note, proof_type=proof_type
        )
        session.add(row)
    return row


def get_request(ctx: IssuerContext, request_id: str) -> RoleRequest:
    with ctx.factory() as session:
        row = session.get(RoleRequest, request_id)
    if row is None:
        raise DomainError(ProblemType.ROLE_REQUEST_NOT_FOUND)
    return row


def list_requests(ctx: IssuerContext, state: str | None = None) -> list[RoleRequest]:
    if state is not None and state not in STATES:
        raise inputs.invalid(f"state must be one of {', '.join(STATES)}", "state")
    query = select(RoleRequest).order_by(RoleRequest.created_at, RoleRequest.id).limit(500)
    if state:
        query = query.where(RoleRequest.state == state)
    with ctx.factory() as session:
        return list(session.scalars(query))


def approve(ctx: IssuerContext, request_id: str, actor: str) -> RoleRequest:
    """Issue the Role credential; approving an approved request again returns it unchanged."""
    row = get_request(ctx, request_id)
    if row.state == APPROVED:
        return row
    if not _claim(ctx, request_id, PENDING, APPROVING):
        raise _decided(get_request(ctx, request_id))
    try:
        authority = ctx.tenants.authority()
        role = credentials.role(
            authority.did, row.subject_did, row.roles, utcnow(), ctx.settings.role_validity
        )
        offer = Offer(role, proof_type=row.proof_type or DEFAULT_PROOF_TYPE)
        exchange = open_exchange(
            ctx, workflow="role-request", tenant=authority, offers=[offer], actor=actor
        )
    except BaseException:
        _claim(ctx, request_id, APPROVING, PENDING)  # let the operator try again
        raise
    with transaction(ctx.factory) as session:
        session.execute(
            update(RoleRequest)
            .where(RoleRequest.id == request_id)
            .values(state=APPROVED, decided_by=actor, decided_at=utcnow(), exchange_id=exchange.id)
        )
    return get_request(ctx, request_id)


def reject(ctx: IssuerContext, request_id: str, actor: str, body: Any) -> RoleRequest:
    body = inputs.json_object(body, ("reason",))
    reason = inputs.text(body, "reason", max_length=2000)
    get_request(ctx, request_id)
    with transaction(ctx.factory) as session:
        done = session.execute(
            update(RoleRequest)
            .where(RoleRequest.id == request_id, RoleRequest.state == PENDING)
            .values(state=REJECTED, reason=reason, decided_by=actor, decided_at=utcnow())
        ).rowcount
    row = get_request(ctx, request_id)
    if not done and not (row.state == REJECTED and row.reason == reason):
        raise _decided(row)
    return row


def _claim(ctx: IssuerContext, request_id: str, from_state: str, to_state: str) -> bool:
    with transaction(ctx.factory) as session:
        return (
            session.execute(
                update(RoleRequest)
                .where(RoleRequest.id == request_id, RoleRequest.state == from_state)
                .values(state=to_state)
            ).rowcount
            == 1
        )


def _decided(row: RoleRequest) -> DomainError:
    return DomainError(
        ProblemType.ROLE_REQUEST_DECIDED,
        f"the request is {row.state}",
        state=row.state,
    )


def describe(row: RoleRequest, exchange: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "did": row.subject_did,
        "roles": row.roles,
        "note": row.note,
        "proofType": row.proof_type or DEFAULT_PROOF_TYPE,
        "state": row.state,
        "reason": row.reason,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "created_at": row.created_at.isoformat(),
        "exchange": exchange,
    }


def exchange_of(ctx: IssuerContext, row: RoleRequest) -> Exchange | None:
    if row.exchange_id is None:
        return None
    with ctx.factory() as session:
        return session.get(Exchange, row.exchange_id)
