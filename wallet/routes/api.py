"""The wallet's JSON API, used by ``credgate wallet``: one operator token opens every wallet.

The CLI goes through this API rather than calling the service layer in its own process: the
webhook hub lives in the suite's process, and ACA-Py keeps only the newest tenant token valid,
so a second process driving the same tenants would log the running service out of them.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, g, jsonify, request

from credgate.auth import operator_required
from credgate.openapi import component, listing, obj, operation, operation_with, param
from credgate.problems import Problem, json_body
from wallet import accounts, credentials, inbox, interactions, offers, presentations, proofs
from wallet.context import wallet_context
from wallet.models import REQUEST
from wallet.views import describe

api = Blueprint("wallet_api", __name__, url_prefix="/wallet/api")


@api.before_request
@operator_required
def authenticate():
    return None


def _account(name: str):
    """The wallet ``name`` (a 404 when unknown), read once a request: the declaration's ``before``
    check and the view share it."""
    found = g.setdefault("wallet_accounts", {})
    if name not in found:
        found[name] = accounts.get(wallet_context(), name)
    return found[name]


def _known(name: str, **_: str) -> None:
    """An unknown wallet is a 404 whatever the body."""
    _account(name)


# -- what the API takes and answers (its /openapi.json) --------------------------------------------
# A body that is not an object, or a member of the wrong type, is an ``invalid-request``.

JSON: dict = {}
OBJECT = {"type": "object"}
STRING = {"type": "string"}
NULLABLE = {"type": ["string", "null"]}
#: The token ``authenticate`` requires of every route.
OPERATOR = {"auth": "operatorToken"}
#: A route of one wallet (its name in the path): an unknown wallet is a 404, whatever the body.
of_wallet = operation_with(**OPERATOR, problems=(404,), before=_known)
INVALID = {"x-problem": "invalid-request"}
TEXT = {"type": ["string", "null"], **INVALID}
IDS = {"type": ["array", "null"], "items": {"type": "string"}, **INVALID}


WALLET = component(
    "Wallet",
    obj(
        required={
            "name": STRING,
            "did": NULLABLE,
            "created_at": STRING,
            "has_pin": {"type": "boolean"},
        },
        optional={"agent_dids": {"type": "array"}, "pending": {"type": "integer"}},
    ),
)
INTERACTION = component(
    "Interaction",
    obj(
        required={"id": STRING, "kind": STRING, "state": STRING, "created_at": STRING},
        optional={
            "counterparty": NULLABLE,
            "counterparty_did": NULLABLE,
            "offer": OBJECT,
            "proof_request": OBJECT,
            "updated_at": STRING,
        },
    ),
)
PRESENTATION = obj(
    required={
        "interaction": STRING,
        "presentation": {
            "type": "object",
            "required": ["@context", "type", "proof"],
            "description": "the signed verifiable presentation",
        },
    },
)
EXPORT = {
    "type": "object",
    "required": ["format", "wallet", "credentials"],
    "properties": {"credentials": {"type": "array", "items": OBJECT}},
}


def _body(**members: dict) -> dict:
    return obj(optional=members, **INVALID)


NEW_WALLET = _body(
    name={"description": "the wallet's name"},
    pin={"type": ["string", "null"], "x-problem": "invalid-pin"},
)
PIN = _body(pin={"description": "the new PIN (a string)"})
SCAN = _body(
    text=TEXT,
    url=TEXT,
    tx_code=TEXT,
    image={"description": "a picture of the QR code, base64"},
    wait={"type": ["number", "null"], **INVALID, "description": "seconds to wait for it"},
    formats=IDS,
)
ACCEPT = _body(trust_issuer={"description": "true: trust the issuer from now on"})
DECLINE = _body(reason={"description": "why (a string)"})
PRESENT = _body(credentials=IDS)
PROVE = _body(credentials=IDS, challenge={}, domain={}, proof_type={})


def answer(summary: str, body: dict, *, problems: tuple[int, ...]):
    """The declaration of an answer to an interaction (accept, decline, present): its body may
    be left out, the interaction is answered."""
    return of_wallet(
        summary, body=body, body_required=False, responses={200: INTERACTION}, problems=problems
    )


def _object(*, optional: bool = False) -> dict:
    """The JSON object sent; ``optional``: an empty body is ``{}`` (chunked or not)."""
    body = json_body(optional=optional)
    if optional and body is None:
        return {}
    if not isinstance(body, dict):
        raise Problem("invalid-request", "Invalid request", 400, "send a JSON object")
    return body


@api.get("/wallets")
@operation(
    "The wallets",
    responses={200: listing("wallets", WALLET)},
    **OPERATOR,
)
def list_wallets():
    return jsonify({"wallets": accounts.list_all(wallet_context())})


@api.post("/wallets")
@operation(
    "Create a wallet (a name, an optional PIN)",
    body=NEW_WALLET,
    responses={201: WALLET},
    problems=(409, 503),
    **OPERATOR,
)
def create_wallet():
    body = _object()
    pin = body.get("pin")
    if pin is not None and not isinstance(pin, str):
        raise Problem("invalid-pin", "Invalid PIN", 400, "the PIN must be a string")
    account = accounts.create(wallet_context(), str(body.get("name") or ""), pin)
    return jsonify(account.to_dict()), 201


@api.get("/wallets/<name>")
@of_wallet(
    "A wallet: its DIDs and how many interactions wait", responses={200: WALLET}, problems=(503,)
)
def show_wallet(name: str):
    ctx = wallet_context()
    account = _account(name)
    inbox.sync(ctx, account)
    pending = interactions.history(ctx, account, pending_only=True)
    return jsonify(
        account.to_dict()
        | {"agent_dids": accounts.agent_dids(ctx, account), "pending": len(pending)}
    )


@api.delete("/wallets/<name>")
@of_wallet("Delete a wallet", responses={204: None}, problems=(503,))
def delete_wallet(name: str):
    accounts.delete_wallet(wallet_context(), name)
    return "", 204


@api.put("/wallets/<name>/pin")
@of_wallet("Set the wallet's PIN", body=PIN, responses={204: None})
def set_pin(name: str):
    pin = _object().get("pin")
    accounts.set_pin(wallet_context(), name, pin if isinstance(pin, str) else "")
    return "", 204


@api.post("/wallets/<name>/scan")
@of_wallet(
    "Scan a QR code (text, URL or image): the offers and requests it brings",
    body=SCAN,
    responses={200: listing("interactions", INTERACTION)},
    problems=(409, 422, 503),
)
def scan(name: str):
    ctx = wallet_context()
    account = _account(name)
    body = _object()
    image = None
    if body.get("image") is not None:
        try:
            image = base64.b64decode(str(body["image"]), validate=True)
        except (binascii.Error, ValueError):
            raise Problem("bad-qr-code", "Unreadable QR code", 400, "image is not base64") from None
    wait = body.get("wait")
    if wait is not None and (not isinstance(wait, int | float) or isinstance(wait, bool)):
        raise Problem("invalid-request", "Invalid request", 400, "wait must be a number")
    text = body.get("text") or body.get("url")
    if text is not None and not isinstance(text, str):
        raise Problem("invalid-request", "Invalid request", 400, "text must be a string")
    tx_code, formats = body.get("tx_code"), body.get("formats")
    if tx_code is not None and not isinstance(tx_code, str):
        raise Problem("invalid-request", "Invalid request", 400, "tx_code must be a string")
    if formats is not None and (
        not isinstance(formats, list) or not all(isinstance(f, str) for f in formats)
    ):
        raise Problem("invalid-request", "Invalid request", 400, "formats must be strings")
    found = inbox.scan(
        ctx,
        account,
        text=text,
        image=image,
        wait=wait,
        tx_code=tx_code,
        formats=tuple(formats) if formats else None,
    )
    return jsonify({"interactions": [describe(ctx, account, row) for row in found]})


@api.get("/wallets/<name>/interactions")
@of_wallet(
    "The wallet's interactions (pending: only those waiting)",
    responses={200: listing("interactions", INTERACTION)},
    problems=(503,),
    query={"pending": param("1, true or yes: only those waiting")},
)
def list_interactions(name: str):
    ctx = wallet_context()
    account = _account(name)
    pending = request.args.get("pending") in ("1", "true", "yes")
    if pending:
        inbox.sync(ctx, account)
    rows = interactions.history(ctx, account, pending_only=pending)
    body = [describe(ctx, account, r) if pending else interactions.to_dict(r) for r in rows]
    return jsonify({"interactions": body})


@api.get("/wallets/<name>/interactions/<interaction_id>")
@of_wallet("An interaction", responses={200: INTERACTION}, problems=(503,))
def show_interaction(name: str, interaction_id: str):
    ctx = wallet_context()
    account = _account(name)
    return jsonify(describe(ctx, account, interactions.get(ctx, account, interaction_id)))


@api.post("/wallets/<name>/interactions/<interaction_id>/accept")
@answer("Accept an offer", ACCEPT, problems=(409, 422, 503))
def accept(name: str, interaction_id: str):
    ctx = wallet_context()
    account = _account(name)
    body = _object(optional=True)
    row = offers.accept(ctx, account, interaction_id, trust_issuer=body.get("trust_issuer") is True)
    return jsonify(describe(ctx, account, row))


@api.post("/wallets/<name>/interactions/<interaction_id>/decline")
@answer("Decline an offer or a request", DECLINE, problems=(409, 503))
def decline(name: str, interaction_id: str):
    ctx = wallet_context()
    account = _account(name)
    body = _object(optional=True)
    reason = body.get("reason") if isinstance(body.get("reason"), str) else None
    row = interactions.get(ctx, account, interaction_id)
    if row.kind == REQUEST:
        row = proofs.decline(ctx, account, interaction_id, reason)
    else:
        row = offers.decline(ctx, account, interaction_id, reason)
    return jsonify(describe(ctx, account, row))


@api.post("/wallets/<name>/interactions/<interaction_id>/present")
@answer("Answer a proof request with the chosen credentials", PRESENT, problems=(409, 422, 503))
def present(name: str, interaction_id: str):
    ctx = wallet_context()
    account = _account(name)
    body = _object(optional=True)
    chosen = body.get("credentials") or []
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        raise Problem("invalid-request", "Invalid request", 400, "credentials: a list of ids")
    row = proofs.present(ctx, account, interaction_id, chosen)
    return jsonify(describe(ctx, account, row))


@api.post("/wallets/<name>/prove")
@of_wallet(
    "Sign a presentation of the chosen credentials (challenge, domain)",
    body=PROVE,
    responses={200: PRESENTATION},
    problems=(422, 503),
)
def prove(name: str):
    ctx = wallet_context()
    account = _account(name)
    body = _object()
    chosen = body.get("credentials") or []
    if not isinstance(chosen, list) or not all(isinstance(c, str) for c in chosen):
        raise Problem("invalid-request", "Invalid request", 400, "credentials: a list of ids")
    proof_type = body.get("proof_type") or presentations.PROOF_TYPES[0]
    signed = presentations.prove(
        ctx,
        account,
        challenge=body.get("challenge"),
        domain=body.get("domain"),
        chosen=chosen,
        proof_type=str(proof_type),
    )
    return jsonify(signed)


@api.get("/wallets/<name>/credentials")
@of_wallet(
    "The wallet's credentials", responses={200: listing("credentials", OBJECT)}, problems=(503,)
)
def list_credentials(name: str):
    ctx = wallet_context()
    return jsonify({"credentials": credentials.list_credentials(ctx, _account(name))})


@api.get("/wallets/<name>/credentials/<record_id>")
@of_wallet("A credential", responses={200: OBJECT}, problems=(503,))
def show_credential(name: str, record_id: str):
    ctx = wallet_context()
    return jsonify(credentials.show(ctx, _account(name), record_id))


@api.delete("/wallets/<name>/credentials/<record_id>")
@of_wallet("Forget a credential", responses={204: None}, problems=(503,))
def forget_credential(name: str, record_id: str):
    credentials.forget(wallet_context(), _account(name), record_id)
    return "", 204


@api.get("/wallets/<name>/export")
@of_wallet("Export the wallet's credentials", responses={200: EXPORT}, problems=(503,))
def export(name: str):
    return jsonify(credentials.export(wallet_context(), _account(name)))


@api.post("/wallets/<name>/import")
@of_wallet(
    "Import credentials (an export)",
    body=JSON,
    responses={200: OBJECT},
    problems=(409, 422, 503),
)
def import_(name: str):
    ctx = wallet_context()
    return jsonify(credentials.import_credentials(ctx, _account(name), json_body()))
