"""The credentials in a wallet: list and show with live status, export and import as JSON.

They are stored by the holder agent (its W3C credential records); an import goes through the
agent too, after the wallet verified each credential's proof (a wallet never keeps a forged or
tampered credential, whatever file it is given).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from credgate.db import utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from verifier.credentials import as_list
from verifier.dids import DidResolver
from verifier.engine import Verifier
from wallet import accounts, oid4vci
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.models import TrustedIssuer

EXPORT_FORMAT = "https://w3id.org/credgate/wallet-export/v1"
MAX_IMPORT = 500


def issuer_labels(ctx: WalletContext, account: Account) -> dict[str, str]:
    """Issuer DID -> the name it gave itself when this wallet accepted its credentials."""
    with ctx.factory() as session:
        rows = session.execute(
            select(TrustedIssuer.did, TrustedIssuer.label).where(
                TrustedIssuer.user_id == account.id, TrustedIssuer.label.is_not(None)
            )
        ).all()
    return dict(rows)


def summary(
    ctx: WalletContext,
    record: dict[str, Any],
    *,
    status: bool = True,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    credential = record.get("cred_value") or {}
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    result = {
        "record_id": record.get("record_id"),
        "id": credential.get("id"),
        "types": [t for t in as_list(credential.get("type")) if t != "VerifiableCredential"],
        "issuer": issuer.get("id") if isinstance(issuer, dict) else issuer,
        "issuer_label": None,
        "subject": subject.get("id") if isinstance(subject, dict) else None,
        "issued": credential.get("issuanceDate") or credential.get("validFrom"),
        "expires": credential.get("expirationDate") or credential.get("validUntil"),
    }
    result["issuer_label"] = (labels or {}).get(result["issuer"])
    if status:
        result["status"] = ctx.status.check(credential).to_dict()
    return result


def list_credentials(ctx: WalletContext, account: Account) -> list[dict[str, Any]]:
    holder = accounts.holder(ctx, account)
    records = holder.call(lambda c: c.w3c_credentials())
    labels = issuer_labels(ctx, account)
    # SD-JWT VCs and VC-JWTs received over OpenID4VCI are the wallet's own records.
    received = oid4vci.stored(ctx, account)
    for item in received:
        item["issuer_label"] = labels.get(item["issuer"])
    return [summary(ctx, r, labels=labels) for r in records] + received


def show(ctx: WalletContext, account: Account, record_id: str) -> dict[str, Any]:
    holder = accounts.holder(ctx, account)
    for record in holder.call(lambda c: c.w3c_credentials()):
        if record.get("record_id") == record_id or (
            (record.get("cred_value") or {}).get("id") == record_id
        ):
            labels = issuer_labels(ctx, account)
            return summary(ctx, record, labels=labels) | {"credential": record.get("cred_value")}
    for item in oid4vci.stored(ctx, account, with_credential=True):
        if record_id in (item["record_id"], item["id"]):
            return item
    raise DomainError(ProblemType.CREDENTIAL_NOT_FOUND, "no such credential here")


def export(ctx: WalletContext, account: Account) -> dict[str, Any]:
    holder = accounts.holder(ctx, account)
    records = holder.call(lambda c: c.w3c_credentials())
    return {
        "format": EXPORT_FORMAT,
        "wallet": account.name,
        "did": account.did,
        "exported_at": utcnow().isoformat(),
        "credentials": [r["cred_value"] for r in records if r.get("cred_value")],
    }


def import_credentials(ctx: WalletContext, account: Account, body: Any) -> dict[str, Any]:
    """Store each credential of an export (or a plain list) that verifies and is not here yet."""
    credentials = body.get("credentials") if isinstance(body, dict) else body
    if not isinstance(credentials, list):
        raise DomainError(
            ProblemType.INVALID_IMPORT,
            'send {"credentials": [...]} (what `credgate wallet export` writes) or a list',
        )
    if len(credentials) > MAX_IMPORT:
        raise DomainError(
            ProblemType.INVALID_IMPORT,
            f"at most {MAX_IMPORT}",
            title="Too many credentials",
        )
    holder = accounts.holder(ctx, account)
    present = {
        (r.get("cred_value") or {}).get("id") for r in holder.call(lambda c: c.w3c_credentials())
    }
    verifier = Verifier(DidResolver())
    imported, skipped, rejected = [], [], []
    for index, credential in enumerate(credentials):
        if not isinstance(credential, dict):
            rejected.append({"index": index, "reason": "not a JSON object"})
            continue
        credential_id = credential.get("id")
        if credential_id and credential_id in present:
            skipped.append({"index": index, "id": credential_id, "reason": "already in the wallet"})
            continue
        # Status and trust are not the question here: a revoked credential is still the
        # holder's; the list shows its status.
        result = verifier.verify_credential(credential, check_status=False, check_trust=False)
        errors = [e for e in result.errors if e.slug not in ("expired", "not-yet-valid")]
        if errors:
            rejected.append({"index": index, "id": credential_id, "reason": errors[0].detail})
            continue
        stored_id = holder.call(lambda c, cred=credential: c.store_w3c_credential(cred))
        present.add(credential_id)
        imported.append({"index": index, "id": stored_id})
    return {"imported": imported, "skipped": skipped, "rejected": rejected}


def forget(ctx: WalletContext, account: Account, record_id: str) -> None:
    """Remove a credential from the wallet."""
    found = show(ctx, account, record_id)
    if found.get("format") in oid4vci.OWN_FORMATS:  # kept by the wallet, not the agent
        oid4vci.forget(ctx, account, found["record_id"])
        return
    holder = accounts.holder(ctx, account)
    holder.call(lambda c: c.delete_w3c_credential(found["record_id"]))
