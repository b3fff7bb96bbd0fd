"""The short link in the QR code: ``GET /i/<id>`` gives the invitation once, until it expires.

A wallet asking for JSON gets the out-of-band invitation message; anything else (a phone's camera
app, a browser) is redirected to the agent's invitation URL (``?oob=``), which wallets also read.
"""

from __future__ import annotations

from flask import Blueprint, Response, json, redirect, request

from credgate.openapi import operation
from issuer.context import issuer_context
from issuer.exchanges import claim_invitation

links = Blueprint("issuer_links", __name__)

NO_STORE = {"Cache-Control": "no-store"}


@links.get("/i/<short_id>")
@operation(
    "A short link: the invitation (JSON) or a redirect to it",
    responses={200: {"type": "object"}, 302: None},
    problems=(404, 410, 503),
)
def invitation(short_id: str):
    exchange = claim_invitation(issuer_context(), short_id)
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    if best == "application/json" and request.accept_mimetypes[best] > 0:
        body = json.dumps(exchange.invitation)
        return Response(body, mimetype="application/json", headers=NO_STORE)
    response = redirect(exchange.invitation_url, code=302)
    response.headers.update(NO_STORE)
    return response
