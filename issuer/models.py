"""Tables of the issuer service: DIDComm exchanges, issuance records, idempotency keys, role
requests, certifiers and their software certifications.

An issuance record is written in the same transaction as its status-list index (revocation's
``allocate``), before the agent is asked for anything; it then moves ``offered`` -> ``issuing`` ->
``issued``, or to ``abandoned`` (and its index is marked abandoned, never reused). Only the record
states here decide whether the agent may sign: offers are created with ``auto_issue`` off.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from credgate.db import (
    Actor,
    AgentRecordId,
    Base,
    Did,
    Id32,
    Id36,
    LongUri,
    Md5Hex,
    Name,
    Sha256Hex,
    Str8,
    Str10,
    Str16,
    Str20,
    Str40,
    Str60,
    Str64,
    Str100,
    Str200,
    Str300,
    Timestamps,
    Uri,
    WrittenAt,
)

# Exchange states: the invitation is being created, is out, or the exchange has ended.
EXCHANGE_PREPARING = "preparing"
EXCHANGE_INVITED = "invited"
EXCHANGE_DONE = "done"
EXCHANGE_ABANDONED = "abandoned"
EXCHANGE_OPEN = (EXCHANGE_PREPARING, EXCHANGE_INVITED)

# Issuance record states.
OFFERED = "offered"  # status index reserved, offer out; the agent may not sign yet
ISSUING = "issuing"  # we told the agent to sign and send
ISSUED = "issued"  # the agent signed and sent it (VC-API: returned it)
ABANDONED = "abandoned"  # never issued; its status index is marked abandoned


class Exchange(Timestamps, Base):
    """One out-of-band invitation to a holder and the credentials it delivers."""

    __tablename__ = "issuer_exchanges"

    id: Mapped[Id36] = mapped_column(primary_key=True)
    short_id: Mapped[Id32] = mapped_column(unique=True)  # the QR code's /i/<short_id>
    workflow: Mapped[Str40]
    tenant: Mapped[Name]  # issuing tenant on the issuer agent
    wallet_id: Mapped[AgentRecordId]
    handshake: Mapped[bool]
    state: Mapped[Str20] = mapped_column(default=EXCHANGE_PREPARING)
    reason: Mapped[str | None]
    invi_msg_id: Mapped[AgentRecordId | None] = mapped_column(index=True)
    invitation: Mapped[dict[str, Any] | None]
    invitation_url: Mapped[str | None]
    connection_id: Mapped[AgentRecordId | None]
    fetched_at: Mapped[datetime | None]
    expires_at: Mapped[datetime]


class IssuedCredential(Timestamps, Base):
    """The issuance record of one credential: who asked, when, what, to whom, by which exchange."""

    __tablename__ = "issuer_credentials"

    id: Mapped[Id36] = mapped_column(primary_key=True)
    credential_id: Mapped[Uri] = mapped_column(unique=True)
    exchange_id: Mapped[str | None] = mapped_column(ForeignKey("issuer_exchanges.id"), index=True)
    type: Mapped[Str100]
    issuer_did: Mapped[Did]
    subject_id: Mapped[Did | None] = mapped_column(index=True)
    late_subject: Mapped[bool] = mapped_column(default=False)  # holder names its DID
    # The Data Integrity suite a DIDComm offer is signed with; None: Ed25519Signature2020.
    proof_type: Mapped[Str40 | None]
    workflow: Mapped[Str40]
    channel: Mapped[Str10]  # didcomm | vc-api
    actor: Mapped[Actor]
    state: Mapped[Str20] = mapped_column(default=OFFERED)
    reason: Mapped[str | None]
    status_entry_id: Mapped[int]
    status_purpose: Mapped[Str16]
    status_list_url: Mapped[LongUri]
    status_index: Mapped[int]
    thread_id: Mapped[AgentRecordId | None] = mapped_column(index=True)
    cred_ex_id: Mapped[AgentRecordId | None]
    acknowledged: Mapped[bool] = mapped_column(default=False)
    credential: Mapped[dict[str, Any]]
    issued_at: Mapped[datetime | None]

    exchange: Mapped[Exchange | None] = relationship()  # by exchange_id


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the response its first request got, replayed on retry."""

    __tablename__ = "issuer_idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[Str300]  # actor and route
    key: Mapped[Str200]
    request_hash: Mapped[Sha256Hex]
    status_code: Mapped[int | None]
    response: Mapped[dict[str, Any] | None]
    created_at: Mapped[WrittenAt]


class RoleRequest(Base):
    """A participant's request for roles, decided by an operator."""

    __tablename__ = "issuer_role_requests"

    id: Mapped[Id36] = mapped_column(primary_key=True)
    subject_did: Mapped[Did] = mapped_column(index=True)
    roles: Mapped[list[str]]
    note: Mapped[str | None]
    proof_type: Mapped[Str40 | None]  # for the offer
    state: Mapped[Str20] = mapped_column(default="pending")
    reason: Mapped[str | None]
    decided_by: Mapped[Actor | None]
    decided_at: Mapped[datetime | None]
    exchange_id: Mapped[str | None] = mapped_column(ForeignKey("issuer_exchanges.id"))
    created_at: Mapped[WrittenAt]


class Certifier(Timestamps, Base):
    """A certifier: its own tenant (DID) on the issuer agent and the API token it calls us with.

    Whether it may certify is KCIT's to say (an accreditation of its DID), asked before signing.
    """

    __tablename__ = "issuer_certifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[Str100] = mapped_column(unique=True)
    tenant: Mapped[Name]
    did: Mapped[Did] = mapped_column(unique=True)
    token_hash: Mapped[Sha256Hex] = mapped_column(unique=True)


class Certification(Base):
    """An flist a certifier hashed and certified: its digests and the credential over them.

    Once its record is ``issued`` the signed credential (kept in the record) is public: the
    software registry serves it by digest."""

    __tablename__ = "issuer_certifications"

    id: Mapped[Id36] = mapped_column(primary_key=True)
    certifier_id: Mapped[int] = mapped_column(ForeignKey("issuer_certifiers.id"), index=True)
    name: Mapped[Name]
    version: Mapped[Str64]
    flist_url: Mapped[str | None]
    filename: Mapped[Str300 | None]
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[Sha256Hex] = mapped_column(index=True)
    digest_sri: Mapped[Str60]
    md5: Mapped[Md5Hex]
    purposes: Mapped[list[str]]
    statement: Mapped[str]
    record_id: Mapped[str] = mapped_column(ForeignKey("issuer_credentials.id"))
    created_at: Mapped[WrittenAt]

    record: Mapped[IssuedCredential] = relationship()  # by record_id


class Oid4vciGrant(Base):
    """OpenID4VCI state, one row per secret: a credential offer (its pre-authorized code, PIN
    and access token) or a spent ``c_nonce``.

    Secrets are kept only as keyed hashes (``code_hash``, ``token_hash``, ``nonce_hash``), so a
    database dump redeems nothing. Every use is a conditional update or a unique insert, so two
    requests racing on one code, token or nonce cannot both win, also across issuer processes.
    """

    __tablename__ = "issuer_oid4vci"

    id: Mapped[Str64] = mapped_column(primary_key=True)  # the offer id in its URI
    kind: Mapped[Str8]  # offer | nonce
    exchange_id: Mapped[str | None] = mapped_column(ForeignKey("issuer_exchanges.id"), unique=True)
    code_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    tx_code_hash: Mapped[Sha256Hex | None]
    tx_code_failures: Mapped[int] = mapped_column(default=0)  # PINs tried
    code_used_at: Mapped[datetime | None]
    token_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    token_expires_at: Mapped[datetime | None]
    nonce_hash: Mapped[Sha256Hex | None] = mapped_column(unique=True)
    nonce_used_at: Mapped[datetime | None]
    # The unsigned credentials the offer delivers (taken from its exchange when it is redeemed)
    # and the (type, format) pairs already issued under it.
    templates: Mapped[list[dict[str, Any]] | None]
    issued: Mapped[list[str] | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[WrittenAt]
