"""The phone screen: open or create a wallet, scan, decide on offers and proof requests, see
credentials and their status, and the history.

A wallet opens with its name and PIN; the session cookie (its own name, HttpOnly,
SameSite=Strict) carries only the wallet's row id, looked up again on every request, so a
deleted wallet is signed out. Every form carries the session's CSRF token (the suite's one
scheme, :mod:`credgate.pages`), and the screen is the shared page kit's (:mod:`signin.pages`).
Templates autoescape everything they show (claims come from strangers). What the service layer
refuses is shown on the page as a message, never as an error page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import redirect, render_template, request, session, url_for

from credgate.errors import DomainError
from credgate.pages import check_csrf
from credgate.problems import Problem, problem_of
from signin.pages import page_blueprint
from wallet import accounts, credentials, inbox, interactions, offers, oid4vci, proofs
from wallet.accounts import Account
from wallet.context import WalletContext, wallet_context
from wallet.models import FAILED, PENDING, REQUEST, Interaction
from wallet.views import describe

USER = "wallet_user"

pages = page_blueprint(
    "wallet_pages",
    __name__,
    title="credgate wallet",
    url_prefix="/wallet",
    template_folder="../templates",
)


@pages.context_processor
def template_helpers():
    return {"short": _short}


def _short(value: Any, keep: int = 12) -> str:
    text = str(value or "")
    return text if len(text) <= 2 * keep + 1 else f"{text[:keep]}…{text[-keep:]}"


def signed_in() -> Account | None:
    user_id = session.get(USER)
    if not isinstance(user_id, int):
        return None
    account = accounts.by_id(wallet_context(), user_id)
    if account is None:
        session.pop(USER, None)
    return account


def _say(problem: DomainError) -> None:
    session["message"] = {"problem": True, "title": problem.title, "detail": problem.detail}


def _tell(text: str) -> None:
    session["message"] = {"problem": False, "title": text, "detail": None}


def _attempt(action: Callable[[], Any], fallback: str) -> Any:
    """Run a service call; what it refuses becomes the page's message and a redirect."""
    try:
        return action()
    except DomainError as problem:
        _say(problem)
        return redirect(fallback, 303)


# -- opening a wallet ----------------------------------------------------------------------------


@pages.get("/")
def home():
    account = signed_in()
    message = session.pop("message", None)
    if account is None:
        return render_template("wallet/open.html", message=message)
    ctx = wallet_context()
    try:
        inbox.sync(ctx, account)
        items = credentials.list_credentials(ctx, account)
    except DomainError as problem:
        message = {"problem": True, "title": problem.title, "detail": problem.detail}
        items = []
    pending = interactions.history(ctx, account, pending_only=True)
    return render_template(
        "wallet/home.html",
        account=account,
        message=message,
        pending=pending,
        credentials=items,
    )


@pages.post("/open")
def open_wallet():
    check_csrf()
    try:
        account = accounts.check_pin(
            wallet_context(), request.form.get("name", "").strip(), request.form.get("pin", "")
        )
    except DomainError as error:
        problem = problem_of(error)
        message = {"problem": True, "title": problem.title, "detail": problem.detail}
        return render_template("wallet/open.html", message=message), problem.status
    if account is None:
        message = {"problem": True, "title": "Wrong wallet name or PIN", "detail": None}
        return render_template("wallet/open.html", message=message), 401
    session.clear()  # a fresh session (and CSRF token) on sign-in: no fixation
    session[USER] = account.id
    return redirect(url_for(".home"), 303)


@pages.post("/create")
def create_wallet():
    check_csrf()
    pin = request.form.get("pin", "")
    if pin != request.form.get("pin_again", ""):
        _say(Problem("invalid-pin", "The PINs differ", 400, "type the same PIN twice"))
        return redirect(url_for(".home"), 303)
    result = _attempt(
        lambda: accounts.create(wallet_context(), request.form.get("name", ""), pin or None),
        url_for(".home"),
    )
    if not isinstance(result, Account):
        return result
    session.clear()
    session[USER] = result.id
    _tell(f"Wallet {result.name} created.")
    return redirect(url_for(".home"), 303)


@pages.post("/logout")
def logout():
    check_csrf()
    session.clear()
    return redirect(url_for(".home"), 303)


def _require() -> Account:
    account = signed_in()
    if account is None:
        raise Problem("unauthorized", "Open your wallet first", 401, "sign in with name and PIN")
    return account


# -- scanning ------------------------------------------------------------------------------------


@pages.post("/scan")
def scan():
    check_csrf()
    account = _require()
    upload = request.files.get("image")
    image = upload.read() if upload is not None and upload.filename else None
    text = request.form.get("url", "").strip()
    if image is None and not text:
        _say(Problem("bad-qr-code", "Nothing scanned", 400, "paste a link or choose a picture"))
        return redirect(url_for(".home"), 303)
    tx_code = request.form.get("tx_code", "").strip() or None  # an OpenID4VCI offer's PIN
    found = _attempt(
        lambda: inbox.scan(
            wallet_context(), account, text=None if image else text, image=image, tx_code=tx_code
        ),
        url_for(".home"),
    )
    if not isinstance(found, list):
        return found
    if found and all(row.kind == oid4vci.KIND for row in found):
        _tell(f"Received {len(found)} credential(s) over OpenID4VCI.")
        return redirect(url_for(".home"), 303)
    decisions = [row for row in found if row.state == PENDING]
    if len(decisions) == 1:
        return redirect(url_for(".interaction", interaction_id=decisions[0].id), 303)
    for row in found:
        if row.state == FAILED:  # e.g. a proof request nothing in the wallet fits
            session["message"] = {
                "problem": True,
                "title": "Could not answer",
                "detail": row.detail,
            }
            return redirect(url_for(".interaction", interaction_id=row.id), 303)
    _tell(f"Scanned: {len(decisions)} waiting for you." if decisions else "Connected.")
    return redirect(url_for(".home"), 303)


# -- deciding ------------------------------------------------------------------------------------


@pages.get("/interactions/<interaction_id>")
def interaction(interaction_id: str):
    account = signed_in()
    if account is None:
        return redirect(url_for(".home"), 303)
    ctx = wallet_context()
    message = session.pop("message", None)
    try:
        item = describe(ctx, account, interactions.get(ctx, account, interaction_id))
    except DomainError as problem:
        _say(problem)
        return redirect(url_for(".home"), 303)
    return render_template("wallet/interaction.html", account=account, item=item, message=message)


@pages.post("/interactions/<interaction_id>/accept")
def accept(interaction_id: str):
    trust = request.form.get("trust_issuer") == "yes"
    return _decide(
        interaction_id,
        lambda ctx, account: offers.accept(ctx, account, interaction_id, trust_issuer=trust),
        "Credential received and stored.",
    )


@pages.post("/interactions/<interaction_id>/present")
def present(interaction_id: str):
    chosen = request.form.getlist("credential")
    return _decide(
        interaction_id,
        lambda ctx, account: proofs.present(ctx, account, interaction_id, chosen),
        "Shared. The verifier has your presentation.",
    )


@pages.post("/interactions/<interaction_id>/decline")
def decline(interaction_id: str):
    def refuse(ctx: WalletContext, account: Account) -> Interaction:
        row = interactions.get(ctx, account, interaction_id)
        module = proofs if row.kind == REQUEST else offers
        return module.decline(ctx, account, interaction_id, None)

    return _decide(interaction_id, refuse, "Declined.")


def _decide(
    interaction_id: str, decision: Callable[[WalletContext, Account], Interaction], done: str
):
    """The user's decision on an interaction (a form POST): ``done`` is the page's message when
    it went through, the service's refusal when not; back to the interaction either way."""
    check_csrf()
    account = _require()
    back = url_for(".interaction", interaction_id=interaction_id)
    ctx = wallet_context()
    if isinstance(_attempt(lambda: decision(ctx, account), back), Interaction):
        _tell(done)
    return redirect(back, 303)


# -- credentials and history ---------------------------------------------------------------------


@pages.get("/credentials/<record_id>")
def credential(record_id: str):
    account = signed_in()
    if account is None:
        return redirect(url_for(".home"), 303)
    try:
        item = credentials.show(wallet_context(), account, record_id)
    except DomainError as problem:
        _say(problem)
        return redirect(url_for(".home"), 303)
    return render_template("wallet/credential.html", account=account, item=item, message=None)


@pages.get("/history")
def history():
    account = signed_in()
    if account is None:
        return redirect(url_for(".home"), 303)
    rows = interactions.history(wallet_context(), account)
    return render_template("wallet/history.html", account=account, rows=rows, message=None)
