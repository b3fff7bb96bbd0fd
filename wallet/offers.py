"""Credential offers: who offers what, whether the wallet knows the issuer, accept or decline.

An issuer is known when the data space's trust registry vouches for it for the offered type
(the onboarding authority, a KCIT company for its attorneys, an accredited certifier), or when
this wallet's user accepted a credential from it before. An offer from anyone else is accepted
only when the user says so explicitly (and the issuer is remembered from then on).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from credgate.db import transaction
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from verifier.errors import VerificationError
from verifier.trust import check_issuer
from wallet import accounts, interactions
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.inbox import wait_for_exchange
from wallet.models import DECLINED, DONE, FAILED, OFFER, Interaction, TrustedIssuer


@dataclass(frozen=True)
class IssuerTrust:
    known: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"known": self.known, "reason": self.reason}


def issuer_trust(ctx: WalletContext, account: Account, row: Interaction) -> IssuerTrust:
    credential = row.request.get("credential") or {}
    issuer = row.counterparty_did
    if not issuer:
        return IssuerTrust(False, "the offer names no issuer")
    try:
        rules = check_issuer(credential, issuer, ctx.trust)
    except VerificationError as exc:
        rules, refusal = [], exc.detail
    else:
        refusal = None
    if rules:
        return IssuerTrust(True, "trusted by the data space for this credential")
    with ctx.factory() as session:
        trusted = session.scalar(
            select(TrustedIssuer.id).where(
                TrustedIssuer.user_id == account.id, TrustedIssuer.did == issuer
            )
        )
    if trusted is not None:
        return IssuerTrust(True, "you accepted credentials from this issuer before")
    return IssuerTrust(False, refusal or "neither the data space nor you trust this issuer yet")


def accept(
    ctx: WalletContext, account: Account, interaction_id: str, *, trust_issuer: bool = False
) -> Interaction:
    row = interactions.get_kind(ctx, account, interaction_id, OFFER)
    trust = issuer_trust(ctx, account, row)
    if not trust.known and not trust_issuer:
        who = (
            f"{row.counterparty} ({row.counterparty_did})"
            if row.counterparty
            else (row.counterparty_did or "an unnamed issuer")
        )
        raise Problem(
            "unknown-issuer",
            "Offer from an unknown issuer",
            409,
            f"{who} is not an issuer this wallet knows: {trust.reason}. Accept only if you "
            "expect this credential from it, and say so (trust the issuer)",
            issuer=row.counterparty_did,
        )
    credential = row.request.get("credential") or {}
    subject = credential.get("credentialSubject")
    subject_id = subject.get("id") if isinstance(subject, dict) else None
    if subject_id and subject_id != account.did:
        raise DomainError(
            ProblemType.OFFER_NOT_FOR_YOU,
            f"the offered credential is about {subject_id}, not this wallet's DID {account.did}",
        )
    interactions.claim(ctx, row, OFFER)
    holder = accounts.holder(ctx, account)
    since = holder.mark()
    cred_ex_id = row.record_id
    try:
        # A subject left open is bound late: the issuer signs it over this wallet's DID.
        holder_did = None if subject_id else account.did
        holder.call(lambda c: c.request_offered_credential(cred_ex_id, holder_did))
        wait_for_exchange(
            holder, row, {"credential-received", "done"}, timeout=ctx.exchange_timeout, since=since
        )
        holder.call(lambda c: c.store_credential(cred_ex_id))
        wait_for_exchange(holder, row, {"done"}, timeout=ctx.exchange_timeout, since=since)
        stored = _stored(holder, credential.get("id"))
    except DomainError as problem:
        interactions.finish(ctx, row, FAILED, detail=problem.detail or problem.title)
        raise
    _remember_issuer(ctx, account, row)
    return interactions.finish(
        ctx,
        row,
        DONE,
        outcome={"record_id": stored.get("record_id"), "credential_id": credential.get("id")},
    )


def _stored(holder, credential_id: str | None) -> dict[str, Any]:
    if not credential_id:
        return {}
    for record in holder.call(lambda c: c.w3c_credentials()):
        if (record.get("cred_value") or {}).get("id") == credential_id:
            return record
    return {}


def _remember_issuer(ctx: WalletContext, account: Account, row: Interaction) -> None:
    if not row.counterparty_did:
        return
    try:
        with transaction(ctx.factory) as session:
            exists = session.scalar(
                select(TrustedIssuer.id).where(
                    TrustedIssuer.user_id == account.id, TrustedIssuer.did == row.counterparty_did
                )
            )
            if exists is None:
                session.add(
                    TrustedIssuer(
                        user_id=account.id, did=row.counterparty_did, label=row.counterparty
                    )
                )
    except IntegrityError:
        pass  # remembered by a concurrent accept


def decline(
    ctx: WalletContext, account: Account, interaction_id: str, reason: str | None = None
) -> Interaction:
    row = interactions.get(ctx, account, interaction_id)
    interactions.claim(ctx, row, OFFER)
    reason = (reason or "").strip()[:500] or "declined by the holder"
    holder = accounts.holder(ctx, account)
    # ACA-Py issuers refuse connectionless credential problem reports; the offer then just
    # expires on their side. The decision stands either way.
    with contextlib.suppress(DomainError):
        holder.call(lambda c: c.credential_problem_report(row.record_id, reason))
    return interactions.finish(ctx, row, DECLINED, detail=reason)
