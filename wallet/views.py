"""What an interaction looks like to its user: the JSON API and the phone screen both show this.

An offer shows who offers (label, DID, whether the wallet knows the issuer and why) and the
credential's claims; a proof request shows who asks (label, domain), why, and per requested
credential the stored ones that fit, with their live status.
"""

from __future__ import annotations

from typing import Any

from wallet import interactions, offers, proofs
from wallet.accounts import Account
from wallet.context import WalletContext
from wallet.models import OFFER, PENDING, REQUEST, Interaction


def describe(ctx: WalletContext, account: Account, row: Interaction) -> dict[str, Any]:
    body = interactions.to_dict(row)
    if row.kind == OFFER:
        credential = row.request.get("credential") or {}
        body["offer"] = {
            "types": [t for t in _list(credential.get("type")) if t != "VerifiableCredential"],
            "claims": credential.get("credentialSubject"),
            "expires": credential.get("expirationDate") or credential.get("validUntil"),
            "issuer": offers.issuer_trust(ctx, account, row).to_dict()
            | {"did": row.counterparty_did},
        }
    elif row.kind == REQUEST:
        definition = row.request.get("definition") or {}
        options = row.request.get("options") or {}
        body["proof_request"] = {
            "name": definition.get("name"),
            "purpose": definition.get("purpose") or row.request.get("comment"),
            "domain": options.get("domain"),
            "descriptors": proofs.choices(ctx, account, row) if row.state == PENDING else [],
        }
    return body


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value] if value is not None else []
