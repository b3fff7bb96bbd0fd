"""Offers, pre-authorized codes, access tokens and c_nonces: issued, checked and spent.

The pre-authorized code and the ``tx_code`` of an offer are derived from the offer id with a key
only the issuer holds (HMAC), so the page can show the PIN again on every refresh and the offer
URI can hand out the code, while the database keeps only keyed hashes. Access tokens are random
and stored as keyed hashes too. A ``c_nonce`` carries its own expiry under the same key; only a
spent nonce is written (its keyed hash, unique), so issuing nonces costs no database write.

An offer is the OpenID4VCI twin of a DIDComm exchange: redeeming its code takes the exchange's
offered credentials (their records move from ``offered`` to ``issuing`` on the OpenID4VCI channel,
so the DIDComm invitation no longer delivers them, and the exchange ends), or fails with
``invalid_grant`` if the DIDComm side got there first. Credentials redeemed but never fetched
before the access token expired are abandoned by :func:`sweep`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from credgate.db import transaction, utcnow
from credgate.qr import qr_svg
from issuer import records
from issuer.context import IssuerContext
from issuer.models import (
    EXCHANGE_DONE,
    EXCHANGE_OPEN,
    ISSUING,
    OFFERED,
    Exchange,
    IssuedCredential,
    Oid4vciGrant,
)
from issuer.oid4vci import metadata
from issuer.oid4vci.errors import OAuthError, invalid_grant
from verifier.encoding import b64url_decode
from verifier.encoding import b64url_encode as b64url

PRE_AUTH_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
OFFER_SCHEME = "openid-credential-offer://"
TX_CODE_LENGTH = 6
MAX_TX_CODE_ATTEMPTS = 5  # PINs tried per offer, the right one included
OFFER, NONCE = "offer", "nonce"
CHANNEL = "oid4vci"  # the issuance records' channel once OpenID4VCI took them


@dataclass(frozen=True)
class Oid4vciSettings:
    key: bytes  # derives codes and PINs, keys every stored hash
    token_ttl: timedelta = timedelta(minutes=5)
    nonce_ttl: timedelta = timedelta(minutes=5)
    proof_max_age: float = 300.0


def settings_from_config(config: Any) -> Oid4vciSettings:
    """The key from ``OID4VCI_KEY`` (shared by every node), else this machine's secret file."""
    from credgate.secrets import get_or_create_secret

    key = config.get("OID4VCI_KEY") or get_or_create_secret(
        config["CREDGATE_SETTINGS"].secrets_dir, "issuer-oid4vci-key"
    )
    return Oid4vciSettings(key=key.encode())


def _mac(settings: Oid4vciSettings, purpose: str, value: str) -> str:
    return hmac.new(settings.key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def pre_authorized_code(settings: Oid4vciSettings, offer_id: str) -> str:
    return "pac_" + _mac(settings, "code", offer_id)[:43]


def tx_code(settings: Oid4vciSettings, offer_id: str) -> str:
    number = int(_mac(settings, "tx-code", offer_id)[:15], 16) % 10**TX_CODE_LENGTH
    return str(number).zfill(TX_CODE_LENGTH)


# -- offers ----------------------------------------------------------------------------------


def offer_for_exchange(ctx: IssuerContext, settings: Oid4vciSettings, exchange: Exchange) -> str:
    """The id of the exchange's OpenID4VCI offer, made on first use (one per exchange)."""
    found = _offer_of(ctx, exchange.id)
    if found is not None:
        return found
    offer_id = secrets.token_urlsafe(16)
    try:
        with transaction(ctx.factory) as session:
            session.add(
                Oid4vciGrant(
                    id=offer_id,
                    kind=OFFER,
                    exchange_id=exchange.id,
                    code_hash=_mac(settings, "code-hash", pre_authorized_code(settings, offer_id)),
                    tx_code_hash=_mac(
                        settings, "tx-hash", f"{offer_id}:{tx_code(settings, offer_id)}"
                    ),
                    tx_code_failures=0,
                    expires_at=exchange.expires_at,
                )
            )
    except IntegrityError:  # another request made it a moment ago: take that one
        found = _offer_of(ctx, exchange.id)
        if found is None:
            raise
        return found
    return offer_id


def _offer_of(ctx: IssuerContext, exchange_id: str) -> str | None:
    with ctx.factory() as session:
        return session.scalar(
            select(Oid4vciGrant.id).where(Oid4vciGrant.exchange_id == exchange_id)
        )


def offer_uri(base: str, offer_id: str) -> str:
    return f"{base}/oid4vci/offers/{offer_id}"


def offer_link(base: str, offer_id: str) -> str:
    return f"{OFFER_SCHEME}?credential_offer_uri={quote(offer_uri(base, offer_id), safe='')}"


def offer_view(
    ctx: IssuerContext, settings: Oid4vciSettings, exchange: Exchange, base: str
) -> dict[str, Any] | None:
    """What the page (or the API client who opened the exchange) shows beside DIDComm: the
    offer link, its QR code (SVG) and the PIN; None once the exchange has ended."""
    if exchange.state not in EXCHANGE_OPEN:
        return None
    offer_id = offer_for_exchange(ctx, settings, exchange)
    link = offer_link(base.rstrip("/"), offer_id)
    return {
        "credential_offer_uri": offer_uri(base.rstrip("/"), offer_id),
        "offer_link": link,
        "tx_code": tx_code(settings, offer_id),
    }


def offer_qr(view: dict[str, Any] | None) -> str | None:
    """The offer link's QR code as SVG, or None when it does not fit a scannable code."""
    if view is None:
        return None
    try:
        return qr_svg(view["offer_link"])
    except ValueError:
        return None


def offer_document(
    ctx: IssuerContext, settings: Oid4vciSettings, offer_id: str, base: str, now: datetime
) -> dict[str, Any]:
    """The credential offer (OpenID4VCI 1.0 §4.1.1) behind ``credential_offer_uri``."""
    with ctx.factory() as session:
        grant = session.get(Oid4vciGrant, offer_id)
        if grant is None or grant.kind != OFFER or grant.expires_at <= now:
            raise OAuthError("not_found", "no such credential offer, or it expired", 404)
        types = (
            sorted({r.type for r in records.of_exchange(session, grant.exchange_id)})
            if grant.exchange_id
            else []
        )
    ids = [
        metadata.configuration_id(type_name, fmt)
        for type_name in types
        if type_name in metadata.FAMILIES
        for fmt in metadata.FORMATS
    ]
    return {
        "credential_issuer": base,
        "credential_configuration_ids": ids,
        "grants": {
            PRE_AUTH_GRANT: {
                "pre-authorized_code": pre_authorized_code(settings, offer_id),
                "tx_code": {
                    "input_mode": "numeric",
                    "length": TX_CODE_LENGTH,
                    "description": "The PIN shown on the page beside the QR code",
                },
            }
        },
    }


# -- token endpoint --------------------------------------------------------------------------


def redeem(
    ctx: IssuerContext, settings: Oid4vciSettings, form: Any, now: datetime
) -> dict[str, Any]:
    """The token endpoint: a pre-authorized code (and its PIN) for a short-lived access token."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type != PRE_AUTH_GRANT:
        raise OAuthError("unsupported_grant_type", f"only {PRE_AUTH_GRANT} is supported")
    code = form.get("pre-authorized_code")
    if not code or len(code) > 200:
        raise OAuthError("invalid_request", "pre-authorized_code is required")
    pin = form.get("tx_code")
    code_hash = _mac(settings, "code-hash", code)
    with ctx.factory() as session:
        grant = session.scalar(select(Oid4vciGrant).where(Oid4vciGrant.code_hash == code_hash))
    if grant is None or grant.kind != OFFER or grant.expires_at <= now:
        raise invalid_grant("the pre-authorized code is unknown or expired")
    if grant.code_used_at is not None:
        raise invalid_grant("the pre-authorized code was already used")
    if not pin:
        raise OAuthError("invalid_request", "tx_code is required: the PIN shown on the page")
    # Each PIN tried takes one of the offer's attempts *before* it is compared, in a conditional
    # update, so that parallel guesses cannot all be compared while the counter lags behind.
    with transaction(ctx.factory) as session:
        allowed = session.execute(
            update(Oid4vciGrant)
            .where(
                Oid4vciGrant.id == grant.id, Oid4vciGrant.tx_code_failures < MAX_TX_CODE_ATTEMPTS
            )
            .values(tx_code_failures=Oid4vciGrant.tx_code_failures + 1)
        ).rowcount
    if not allowed:
        raise invalid_grant("too many wrong PINs: the offer is void, ask for a new one")
    expected = grant.tx_code_hash or ""
    if not hmac.compare_digest(_mac(settings, "tx-hash", f"{grant.id}:{pin}"), expected):
        left = MAX_TX_CODE_ATTEMPTS - grant.tx_code_failures - 1
        raise invalid_grant(f"wrong tx_code; at most {max(left, 0)} attempt(s) left")
    token = secrets.token_urlsafe(32)
    expires = now + settings.token_ttl
    with transaction(ctx.factory) as session:
        won = session.execute(
            update(Oid4vciGrant)
            .where(Oid4vciGrant.id == grant.id, Oid4vciGrant.code_used_at.is_(None))
            .values(
                code_used_at=now,
                token_hash=_mac(settings, "token", token),
                token_expires_at=expires,
            )
        ).rowcount
        if not won:
            raise invalid_grant("the pre-authorized code was already used")
        grant_templates = _take_exchange(session, grant.exchange_id)
        session.execute(
            update(Oid4vciGrant)
            .where(Oid4vciGrant.id == grant.id)
            .values(templates=grant_templates, issued=[])
        )
    return {
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": int(settings.token_ttl.total_seconds()),
    }


def _take_exchange(session, exchange_id: str | None) -> list[dict[str, Any]]:
    """The exchange's credentials, taken from DIDComm: their records (and status indices) move
    to ``issuing`` on the OpenID4VCI channel and the invitation ends. Runs in the token's
    transaction: if DIDComm already took any of them, nothing changes."""
    if exchange_id is None:
        raise invalid_grant("the offer has nothing to issue")
    exchange = session.get(Exchange, exchange_id)
    offered = records.of_exchange(session, exchange_id)
    if exchange is None or exchange.state not in EXCHANGE_OPEN or not offered:
        raise invalid_grant("the offer was already taken (over DIDComm) or withdrawn")
    templates = []
    for record in offered:
        if not records.move(session, record.id, (OFFERED,), ISSUING, channel=CHANNEL):
            raise invalid_grant("the offer was already taken (over DIDComm) or withdrawn")
        templates.append({"record": record.id, "type": record.type})
    session.execute(
        update(Exchange)
        .where(Exchange.id == exchange_id, Exchange.state.in_(EXCHANGE_OPEN))
        .values(state=EXCHANGE_DONE, reason="taken over OpenID4VCI", updated_at=utcnow())
    )
    return templates


def sweep(ctx: IssuerContext, now: datetime, batch: int = 100) -> int:
    """Abandon credentials whose offer was redeemed but never fetched before the access token
    expired (their indices are set for good), and drop nonces long dead; returns how many."""
    with ctx.factory() as session:
        stale = list(
            session.scalars(
                select(Oid4vciGrant)
                .where(
                    Oid4vciGrant.kind == OFFER,
                    Oid4vciGrant.token_expires_at < now,
                )
                .order_by(Oid4vciGrant.token_expires_at.desc())
                .limit(batch)
            )
        )
    ended = 0
    for grant in stale:
        ids = [t["record"] for t in grant.templates or []]
        with transaction(ctx.factory) as session:
            for record in session.scalars(
                select(IssuedCredential).where(
                    IssuedCredential.id.in_(ids), IssuedCredential.state == ISSUING
                )
            ):
                ended += records.abandon(
                    session,
                    record,
                    "redeemed over OpenID4VCI but never fetched",
                    from_states=(ISSUING,),
                )
            # Swept once: the token's expiry goes (SQL NULL), so the grant is not selected again.
            session.execute(
                update(Oid4vciGrant)
                .where(Oid4vciGrant.id == grant.id)
                .values(token_expires_at=None, token_hash=None)
            )
    with transaction(ctx.factory) as session:
        session.execute(
            delete(Oid4vciGrant).where(
                Oid4vciGrant.kind == NONCE, Oid4vciGrant.expires_at < now - timedelta(hours=1)
            )
        )
    return ended


def grant_of_token(
    ctx: IssuerContext, settings: Oid4vciSettings, authorization: str | None, now: datetime
) -> Oid4vciGrant:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OAuthError("invalid_token", "send the access token as Authorization: Bearer", 401)
    with ctx.factory() as session:
        grant = session.scalar(
            select(Oid4vciGrant).where(
                Oid4vciGrant.token_hash == _mac(settings, "token", token.strip())
            )
        )
    if grant is None or grant.token_expires_at is None or grant.token_expires_at <= now:
        raise OAuthError("invalid_token", "the access token is unknown or expired", 401)
    return grant


def claim_in(session, grant_id: str, key: str) -> bool:
    """Mark one (type, format) of the offer as issued, in the caller's transaction; False if
    it already was (the grant's row is locked meanwhile)."""
    grant = session.scalar(
        select(Oid4vciGrant).where(Oid4vciGrant.id == grant_id).with_for_update()
    )
    issued = list(grant.issued or [])
    if key in issued:
        return False
    grant.issued = [*issued, key]
    return True


def release_configuration(ctx: IssuerContext, grant_id: str, key: str) -> None:
    with transaction(ctx.factory) as session:
        grant = session.scalar(
            select(Oid4vciGrant).where(Oid4vciGrant.id == grant_id).with_for_update()
        )
        grant.issued = [k for k in (grant.issued or []) if k != key]


# -- nonces ----------------------------------------------------------------------------------


def new_nonce(settings: Oid4vciSettings, now: datetime) -> str:
    """A ``c_nonce``: its expiry and 128 random bits, under the issuer's MAC. Issuing one writes
    nothing (a commit less per credential); the database keeps the nonces that were spent."""
    expires = int((now + settings.nonce_ttl).timestamp())
    body = b64url(expires.to_bytes(8, "big") + secrets.token_bytes(16))
    return f"{body}.{_mac(settings, 'nonce-mac', body)[:32]}"


def spend_nonce_in(session, settings: Oid4vciSettings, nonce: str, now: datetime) -> None:
    """Single use, in the caller's transaction: a nonce of ours, unexpired, is recorded as
    spent; its row's unique hash refuses it the second time (:class:`IntegrityError`, which the
    caller turns into ``invalid_nonce``)."""
    if not nonce.isascii():  # compare_digest takes ASCII text only
        raise invalid_nonce()
    body, _, mac = nonce.partition(".")
    if not hmac.compare_digest(mac, _mac(settings, "nonce-mac", body)[:32]) or not body:
        raise invalid_nonce()
    try:
        expires = int.from_bytes(b64url_decode(body)[:8], "big")
    except ValueError:
        raise invalid_nonce() from None
    if expires <= now.timestamp():
        raise invalid_nonce()
    session.add(
        Oid4vciGrant(
            id="n_" + secrets.token_hex(16),
            kind=NONCE,
            tx_code_failures=0,
            nonce_hash=_mac(settings, "nonce", nonce),
            nonce_used_at=now,
            expires_at=datetime.fromtimestamp(expires, UTC),
        )
    )
    session.flush()


def invalid_nonce() -> OAuthError:
    return OAuthError("invalid_nonce", "the proof's nonce is unknown, expired or used")
