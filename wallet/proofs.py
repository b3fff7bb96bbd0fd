"""Proof requests: who asks for what, which stored credentials fit, present or refuse.

Every way a request ends without a presentation sends the verifier a problem report (declined,
nothing fits, the agent could not build the presentation), so a login page waiting on it fails
at once instead of waiting for its timeout (ACA-Py's verifier record otherwise stays in
``request-sent`` when the holder fails).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from wallet import accounts, interactions, matching
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.credentials import issuer_labels, summary
from wallet.inbox import stored_credentials, wait_for_exchange
from wallet.models import DECLINED, DONE, FAILED, PENDING, REQUEST, Interaction

ACK_WAIT = 3.0  # seconds to wait for the verifier's acknowledgement after presenting


def choices(ctx: WalletContext, account: Account, row: Interaction) -> list[dict[str, Any]]:
    """Per input descriptor: what is asked, why, and the stored credentials that fit."""
    definition = row.request.get("definition") or {}
    holder = accounts.holder(ctx, account)
    found = matching.candidates(definition, stored_credentials(holder))
    labels = issuer_labels(ctx, account)
    result = []
    for descriptor in matching.input_descriptors(definition):
        descriptor_id = str(descriptor.get("id"))
        fields = ((descriptor.get("constraints") or {}).get("fields")) or []
        result.append(
            {
                "id": descriptor_id,
                "name": descriptor.get("name"),
                "purpose": descriptor.get("purpose"),
                "fields": [_field_text(f) for f in fields if isinstance(f, dict)],
                "candidates": [
                    summary(ctx, r, labels=labels) for r in found.get(descriptor_id, [])
                ],
            }
        )
    return result


def _field_text(spec: dict[str, Any]) -> str:
    paths = spec.get("path") or []
    path = str(paths[0]) if paths else "?"
    wanted = spec.get("filter") or {}
    for key in ("const", "pattern", "enum"):
        if key in wanted:
            return f"{path} {key} {wanted[key]}"
    return path


def present(
    ctx: WalletContext,
    account: Account,
    interaction_id: str,
    chosen: Sequence[str] | None = None,
) -> Interaction:
    row = interactions.get_kind(ctx, account, interaction_id, REQUEST)
    if row.state != PENDING:
        raise DomainError(ProblemType.INTERACTION_CLOSED, "this request was answered")
    definition = row.request.get("definition") or {}
    holder = accounts.holder(ctx, account)
    stored = stored_credentials(holder)
    found = matching.candidates(definition, stored)
    missing = matching.unsatisfied(definition, found)
    if missing:
        reason = "no credential in the wallet satisfies: " + ", ".join(missing)
        _refuse(ctx, account, row, FAILED, reason)
        raise DomainError(
            ProblemType.NOTHING_TO_PRESENT,
            reason + "; the verifier was told",
            title="Nothing in the wallet fits",
        )
    # Choice errors come before the claim: the user may choose again.
    selection = matching.select(definition, found, chosen)
    spec = matching.presentation_spec(definition, selection, stored)
    interactions.claim(ctx, row, REQUEST)
    since = holder.mark()
    pres_ex_id = row.record_id
    try:
        holder.call(lambda c: c.send_presentation(pres_ex_id, spec))
        wait_for_exchange(
            holder, row, {"presentation-sent", "done"}, timeout=ctx.exchange_timeout, since=since
        )
    except DomainError as problem:
        reason = problem.detail or problem.title
        _report(ctx, account, row, f"the holder could not present: {reason}")
        interactions.finish(ctx, row, FAILED, detail=reason)
        raise
    acknowledged = True
    try:
        wait_for_exchange(holder, row, {"done"}, timeout=ACK_WAIT, since=since)
    except DomainError as problem:
        if problem.slug == "exchange-failed":  # the verifier refused what we sent
            interactions.finish(ctx, row, FAILED, detail=problem.detail)
            raise
        acknowledged = False  # sent; the verifier did not confirm in time (it may not ack)
    presented = [i for ids in selection.values() for i in ids]
    return interactions.finish(
        ctx, row, DONE, outcome={"presented": presented, "acknowledged": acknowledged}
    )


def decline(
    ctx: WalletContext, account: Account, interaction_id: str, reason: str | None = None
) -> Interaction:
    row = interactions.get_kind(ctx, account, interaction_id, REQUEST)
    reason = (reason or "").strip()[:500] or "declined by the holder"
    return _refuse(ctx, account, row, DECLINED, reason)


def _refuse(
    ctx: WalletContext, account: Account, row: Interaction, state: str, reason: str
) -> Interaction:
    interactions.claim(ctx, row, REQUEST)
    _report(ctx, account, row, reason)
    return interactions.finish(ctx, row, state, detail=reason)


def _report(ctx: WalletContext, account: Account, row: Interaction, reason: str) -> None:
    holder = accounts.holder(ctx, account)
    # Recorded either way; if the report cannot go out, the verifier's timeout is the last resort.
    with contextlib.suppress(DomainError):
        holder.call(lambda c: c.presentation_problem_report(row.record_id, reason))
