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

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from credgate.db import Base, UTCDateTime, utcnow

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


class Exchange(Base):
    """One out-of-band invitation to a holder and the credentials it delivers."""

    __tablename__ = "issuer_exchanges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    short_id: Mapped[str] = mapped_column(String(32), unique=True)  # the QR code's /i/<short_id>
    workflow: Mapped[str] = mapped_column(String(40))
    tenant: Mapped[str] = mapped_column(String(200))  # issuing tenant on the issuer agent
    wallet_id: Mapped[str] = mapped_column(String(64))
    handshake: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(20), default=EXCHANGE_PREPARING)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    invi_msg_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    invitation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    invitation_url: Mapped[str | None] = mapped_column(Text, default=None)
    connection_id: Mapped[str | None] = mapped_column(String(64), default=None)
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IssuedCredential(Base):
    """The issuance record of one credential: who asked, when, what, to whom, by which exchange."""

    __tablename__ = "issuer_credentials"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    credential_id: Mapped[str] = mapped_column(String(500), unique=True)
    exchange_id: Mapped[str | None] = mapped_column(
        ForeignKey("issuer_exchanges.id"), default=None, index=True
    )
    type: Mapped[str] = mapped_column(String(100))
    issuer_did: Mapped[str] = mapped_column(String(500))
    subject_id: Mapped[str | None] = mapped_column(String(500), default=None, index=True)
    late_subject: Mapped[bool] = mapped_column(Boolean, default=False)  # holder names its DID
    # The Data Integrity suite a DIDComm offer is signed with; None: Ed25519Signature2020.
    proof_type: Mapped[str | None] = mapped_column(String(40), default=None)
    workflow: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # didcomm | vc-api
    actor: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(20), default=OFFERED)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    status_entry_id: Mapped[int] = mapped_column(Integer)
    status_purpose: Mapped[str] = mapped_column(String(16))
    status_list_url: Mapped[str] = mapped_column(String(600))
    status_index: Mapped[int] = mapped_column(Integer)
    thread_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    cred_ex_id: Mapped[str | None] = mapped_column(String(64), default=None)
    acknowledged: Mapped[bool] = mapped_column(Boolean, default=False)
    credential: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class IdempotencyKey(Base):
    """A client's Idempotency-Key and the response its first request got, replayed on retry."""

    __tablename__ = "issuer_idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(300))  # actor and route
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RoleRequest(Base):
    """A participant's request for roles, decided by an operator."""

    __tablename__ = "issuer_role_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    subject_did: Mapped[str] = mapped_column(String(500), index=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    proof_type: Mapped[str | None] = mapped_column(String(40), default=None)  # for the offer
    state: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    exchange_id: Mapped[str | None] = mapped_column(ForeignKey("issuer_exchanges.id"), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certifier(Base):
    """A certifier: its own tenant (DID) on the issuer agent and the API token it calls us with.

    Whether it may certify is KCIT's to say (an accreditation of its DID), asked before signing.
    """

    __tablename__ = "issuer_certifiers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    tenant: Mapped[str] = mapped_column(String(200))
    did: Mapped[str] = mapped_column(String(500), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certification(Base):
    """An flist a certifier hashed and certified: its digests and the credential over them.

    Once its record is ``issued`` the signed credential (kept in the record) is public: the
    software registry serves it by digest."""

    __tablename__ = "issuer_certifications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    certifier_id: Mapped[int] = mapped_column(ForeignKey("issuer_certifiers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    flist_url: Mapped[str | None] = mapped_column(Text, default=None)
    filename: Mapped[str | None] = mapped_column(String(300), default=None)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    digest_sri: Mapped[str] = mapped_column(String(60))
    md5: Mapped[str] = mapped_column(String(32))
    purposes: Mapped[list[str]] = mapped_column(JSON)
    statement: Mapped[str] = mapped_column(Text)
    record_id: Mapped[str] = mapped_column(ForeignKey("issuer_credentials.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Oid4vciGrant(Base):
    """OpenID4VCI state, one row per secret: a credential offer (its pre-authorized code, PIN
    and access token) or a spent ``c_nonce``.

    Secrets are kept only as keyed hashes (``code_hash``, ``token_hash``, ``nonce_hash``), so a
    database dump redeems nothing. Every use is a conditional update or a unique insert, so two
    requests racing on one code, token or nonce cannot both win, also across issuer processes.
    """

    __tablename__ = "issuer_oid4vci"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the offer id in its URI
    kind: Mapped[str] = mapped_column(String(8))  # offer | nonce
    exchange_id: Mapped[str | None] = mapped_column(
        ForeignKey("issuer_exchanges.id"), default=None, unique=True
    )
    code_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    tx_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    tx_code_failures: Mapped[int] = mapped_column(Integer, default=0)  # PINs tried
    code_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    token_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    token_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    nonce_hash: Mapped[str | None] = mapped_column(String(64), default=None, unique=True)
    nonce_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The unsigned credentials the offer delivers (taken from its exchange when it is redeemed)
    # and the (type, format) pairs already issued under it.
    templates: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)
    issued: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
