"""Presentations signed over a challenge: what an API asks instead of a QR-code proof request.

The gateway's token API (``/auth/challenge`` then ``/auth/token``) and depute's sign-in hand out a
challenge (and a domain); the wallet signs a verifiable presentation of stored credentials over it
with its holder DID, through the holder agent (``/vc/presentations/prove`` as the wallet's tenant),
and keeps a line in its history. Every chosen credential must be about the wallet's holder DID (the
verifier checks holder binding; a mixed presentation would be refused there, less clearly).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import uuid4

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from wallet import accounts, interactions
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.inbox import stored_credentials
from wallet.models import DONE, FAILED, PRESENTATION, WORKING

PROOF_TYPES = ("Ed25519Signature2020", "Ed25519Signature2018")
SUITE_CONTEXT = {"Ed25519Signature2020": "https://w3id.org/security/suites/ed25519-2020/v1"}
MAX_TEXT = 500  # challenge and domain


def prove(
    ctx: WalletContext,
    account: Account,
    *,
    challenge: Any,
    domain: Any = None,
    chosen: Sequence[str] = (),
    proof_type: str = PROOF_TYPES[0],
) -> dict[str, Any]:
    """The signed presentation, and the history entry that records it."""
    challenge = _text("challenge", challenge, required=True)
    domain = _text("domain", domain)
    if proof_type not in PROOF_TYPES:
        raise DomainError(
            ProblemType.INVALID_REQUEST,
            f"proof_type: one of {', '.join(PROOF_TYPES)}",
        )
    holder = accounts.holder(ctx, account)
    credentials = _select(account, stored_credentials(holder), chosen)
    presentation: dict[str, Any] = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "type": ["VerifiablePresentation"],
        "holder": account.did,
        "verifiableCredential": [r["cred_value"] for r in credentials],
    }
    if proof_type in SUITE_CONTEXT:
        presentation["@context"].append(SUITE_CONTEXT[proof_type])
    options = {"proofType": proof_type, "proofPurpose": "authentication", "challenge": challenge}
    if domain:
        options["domain"] = domain
    presented = [r["record_id"] for r in credentials]
    row = interactions.record(
        ctx,
        account,
        kind=PRESENTATION,
        record_id=uuid4().hex,
        thread_id=None,
        counterparty=domain,
        counterparty_did=None,
        state=WORKING,
        request={"challenge": challenge, "domain": domain, "credentials": presented},
    )
    try:
        body = holder.call(
            lambda c: c.request(
                "POST",
                "/vc/presentations/prove",
                json={"presentation": presentation, "options": options},
            )
        )
    except DomainError as problem:
        interactions.finish(ctx, row, FAILED, detail=problem.detail or problem.title)
        raise
    row = interactions.finish(ctx, row, DONE, outcome={"presented": presented})
    return {"interaction": row.id, "presentation": body["verifiablePresentation"]}


def _text(name: str, value: Any, *, required: bool = False) -> str | None:
    if value is None or value == "":
        if required:
            raise DomainError(
                ProblemType.INVALID_REQUEST,
                f"{name}: the string the verifier handed out",
                title=f"No {name}",
            )
        return None
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        raise DomainError(
            ProblemType.INVALID_REQUEST,
            f"{name}: a string of at most {MAX_TEXT} characters",
        )
    return value


def _select(
    account: Account, records: list[dict[str, Any]], chosen: Sequence[str]
) -> list[dict[str, Any]]:
    """The chosen records (by record id or credential id), or every credential about the
    holder DID when none is chosen; problems for unknown ids and foreign subjects."""
    if not chosen:
        mine = [r for r in records if _subject(r) == account.did]
        if not mine:
            raise DomainError(
                ProblemType.NOTHING_TO_PRESENT,
                f"no credential in the wallet is about {account.did}",
            )
        return mine
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        by_id[str(record.get("record_id"))] = record
        credential_id = (record.get("cred_value") or {}).get("id")
        if credential_id:
            by_id.setdefault(str(credential_id), record)
    unknown = [c for c in chosen if c not in by_id]
    if unknown:
        raise DomainError(
            ProblemType.CREDENTIAL_NOT_FOUND,
            "not in this wallet: " + ", ".join(unknown),
        )
    picked = list({by_id[c]["record_id"]: by_id[c] for c in chosen}.values())
    subjects = {_subject(r) for r in picked}
    if len(subjects) > 1:
        raise DomainError(
            ProblemType.SUBJECT_MISMATCH,
            "the chosen credentials have different subject DIDs: "
            + ", ".join(sorted(str(s) for s in subjects)),
        )
    if subjects != {account.did}:
        raise DomainError(
            ProblemType.SUBJECT_MISMATCH,
            f"the chosen credentials are about {subjects.pop()}, "
            f"not this wallet's holder DID {account.did}",
            title="Credential about someone else",
        )
    return picked


def _subject(record: dict[str, Any]) -> str | None:
    subject = (record.get("cred_value") or {}).get("credentialSubject")
    if isinstance(subject, list):
        ids = {s.get("id") for s in subject if isinstance(s, dict)}
        return ids.pop() if len(ids) == 1 else None
    return subject.get("id") if isinstance(subject, dict) else None
