"""Wallet users: create (a tenant with its own did:key on the holder agent), find, list, delete,
and the PIN that opens a wallet's web screen.

The DID is created once with the tenant and kept in the database (``agent_tenants`` and here);
the tenant's askar wallet keeps the key, so a wallet's holder DID survives restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from agents.client import AgentError
from agents.models import Tenant
from agents.tenants import ensure_tenant
from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from wallet.context import WalletContext
from wallet.holder import Holder, agent_failure
from wallet.models import PENDING, Interaction, WalletUser

AGENT = "holder"
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
PIN_PATTERN = re.compile(r"^\S{4,64}$")
# scrypt: memory-hard, in the standard library; ~50 ms per check on these machines.
SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
FREE_ATTEMPTS = 5
LOCK_SECONDS = 30


@dataclass(frozen=True)
class Account:
    id: int
    name: str
    did: str
    wallet_id: str
    created_at: datetime
    has_pin: bool

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "did": self.did,
            "created_at": self.created_at.isoformat(),
            "has_pin": self.has_pin,
        }


def _account(row: WalletUser) -> Account:
    return Account(row.id, row.name, row.did, row.wallet_id, row.created_at, bool(row.pin_hash))


def tenant_name(name: str) -> str:
    return f"wallet:{name}"


def create(ctx: WalletContext, name: str, pin: str | None = None) -> Account:
    name = (name or "").strip().lower()
    if not NAME_PATTERN.match(name):
        raise DomainError(
            ProblemType.INVALID_WALLET_NAME,
            "use 1-64 characters: lower-case letters, digits, '.', '_' or '-'",
        )
    if pin is not None and not PIN_PATTERN.match(pin):
        raise DomainError(ProblemType.INVALID_PIN, "a PIN has 4 to 64 characters, no spaces")
    with ctx.factory() as session:
        if session.scalar(select(WalletUser.id).where(WalletUser.name == name)) is not None:
            raise _exists(name)
    try:
        tenant = ensure_tenant(ctx.factory, AGENT, ctx.agent, tenant_name(name))
    except AgentError as exc:
        raise agent_failure(exc) from exc
    try:
        with transaction(ctx.factory) as session:
            row = WalletUser(
                name=name,
                tenant=tenant.name,
                wallet_id=tenant.wallet_id,
                did=tenant.did,
                pin_hash=hash_pin(pin) if pin else None,
            )
            session.add(row)
            session.flush()
            return _account(row)
    except IntegrityError:
        raise _exists(name) from None


def _exists(name: str) -> DomainError:
    return DomainError(ProblemType.WALLET_EXISTS, f"a wallet named {name!r} exists")


def get(ctx: WalletContext, name: str) -> Account:
    with ctx.factory() as session:
        row = session.scalar(select(WalletUser).where(WalletUser.name == (name or "").lower()))
    if row is None:
        raise DomainError(ProblemType.WALLET_NOT_FOUND, f"no wallet named {name!r}")
    return _account(row)


def by_id(ctx: WalletContext, user_id: int) -> Account | None:
    with ctx.factory() as session:
        row = session.get(WalletUser, user_id)
    return _account(row) if row is not None else None


def list_all(ctx: WalletContext) -> list[dict[str, object]]:
    with ctx.factory() as session:
        pending = dict(
            session.execute(
                select(Interaction.user_id, func.count())
                .where(Interaction.state == PENDING)
                .group_by(Interaction.user_id)
            ).all()
        )
        rows = session.scalars(select(WalletUser).order_by(WalletUser.name)).all()
    return [_account(r).to_dict() | {"pending": pending.get(r.id, 0)} for r in rows]


def delete_wallet(ctx: WalletContext, name: str) -> None:
    """Remove the tenant (its keys and credentials) from the agent, then the wallet's rows."""
    account = get(ctx, name)
    try:
        ctx.agent.delete_tenant(account.wallet_id)
    except AgentError as exc:
        if exc.status != 404:  # already gone from the agent: finish the job here
            raise agent_failure(exc) from exc
    with transaction(ctx.factory) as session:
        session.execute(delete(WalletUser).where(WalletUser.id == account.id))
        session.execute(
            delete(Tenant).where(Tenant.agent == AGENT, Tenant.wallet_id == account.wallet_id)
        )


def holder(ctx: WalletContext, account: Account) -> Holder:
    return Holder(ctx.agent, account.wallet_id, ctx.hub)


def agent_dids(ctx: WalletContext, account: Account) -> list[str]:
    """The DIDs the tenant's wallet on the agent holds (the holder DID among them)."""
    body = holder(ctx, account).call(lambda client: client.request("GET", "/wallet/did"))
    return [d["did"] for d in body.get("results", [])]


# -- PIN -----------------------------------------------------------------------------------------


def hash_pin(pin: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, **SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_pin(ctx: WalletContext, name: str, pin: str) -> Account | None:
    """The account if ``pin`` opens it; None otherwise (same work whether the name exists).

    After ``FREE_ATTEMPTS`` wrong PINs in a row, each further try waits twice as long as the
    last (from ``LOCK_SECONDS``), whether or not it would be right: a problem says how long."""
    now = utcnow()
    with ctx.factory() as session:
        row = session.scalar(select(WalletUser).where(WalletUser.name == (name or "").lower()))
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise _locked(row.locked_until - now)
    stored = row.pin_hash if row is not None and row.pin_hash else _DUMMY
    _scheme, salt, digest = stored.split("$")
    presented = hashlib.scrypt((pin or "").encode(), salt=bytes.fromhex(salt), **SCRYPT)
    ok = hmac.compare_digest(presented.hex(), digest) and row is not None and bool(row.pin_hash)
    if row is None:
        return None
    with transaction(ctx.factory) as session:
        current = session.get(WalletUser, row.id)
        if ok:
            current.failed_pins, current.locked_until = 0, None
        else:
            current.failed_pins += 1
            extra = current.failed_pins - FREE_ATTEMPTS
            if extra >= 0:
                current.locked_until = now + timedelta(seconds=LOCK_SECONDS * 2 ** min(extra, 10))
    return _account(row) if ok else None


def _locked(left: timedelta) -> DomainError:
    seconds = max(1, int(left.total_seconds() + 0.999))
    return DomainError(ProblemType.WALLET_LOCKED, f"try again in {seconds} s", retry_after=seconds)


def set_pin(ctx: WalletContext, name: str, pin: str) -> None:
    if not PIN_PATTERN.match(pin or ""):
        raise DomainError(ProblemType.INVALID_PIN, "a PIN has 4 to 64 characters, no spaces")
    account = get(ctx, name)
    with transaction(ctx.factory) as session:
        session.get(WalletUser, account.id).pin_hash = hash_pin(pin)


_DUMMY = hash_pin(secrets.token_urlsafe(16))
