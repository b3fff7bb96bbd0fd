"""The admin-pages kit: one way for a service to have pages, and one admin sign-in.

:func:`page_blueprint` makes any page blueprint of the suite: the security headers
(:func:`credgate.pages.page_headers`), ``csrf_token()`` and the site's title in its templates,
and the shared base template and stylesheet (``signin/base.html``, ``signin/pages.css``, served
by the ``signin`` blueprint it installs on the app once).

:func:`admin_pages` adds the admin sign-in under a URL prefix, as a :class:`SignInPolicy` says:

* ``GET <home>`` -- the login page, or the service's ``home`` view for whoever is signed in;
* ``POST <prefix>/login`` -- sign in with a token (operator API token, or the service's own);
* ``GET <prefix>/login/wallet`` and ``<prefix>/login/callback`` -- the gateway's QR login
  (:func:`signin.handoff.add_wallet_routes`), offered when a gateway is configured;
* ``POST <prefix>/logout``.

Every POST checks the CSRF token. The policy re-checks the signed-in admin on every request.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask.sansio.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue

from credgate.errors import DomainError
from credgate.pages import DEFAULT_CSP, check_csrf, csrf_token, page_headers
from credgate.problems import Problem, problem_of
from signin.handoff import SignedIn, add_wallet_routes, wallet_available

ASSETS = "signin"  # the blueprint serving the shared templates and stylesheet
STYLESHEET = "signin/pages.css"  # suite/templates/suite/start.html links it by its URL
MESSAGE = "message"  # the session's key for what the next page tells

assets = Blueprint(
    ASSETS,
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/pages/static",
)


@assets.app_context_processor
def shared_helpers() -> dict[str, Any]:
    return {"csrf_token": csrf_token, "stylesheet": STYLESHEET}


@assets.after_request
def asset_headers(response):
    return page_headers(response)


def _install_assets(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    if ASSETS not in app.blueprints:
        app.register_blueprint(assets)


def page_blueprint(
    name: str,
    import_name: str,
    *,
    title: str,
    site_url: str | None = None,
    csp: str = DEFAULT_CSP,
    **options: Any,
) -> Blueprint:
    """A blueprint for pages people use: ``title`` names the site in the shared header (a link
    to ``site_url`` if given); ``csp`` is its pages' Content-Security-Policy."""
    bp = Blueprint(name, import_name, **options)
    bp.record_once(_install_assets)
    bp.after_request(lambda response: page_headers(response, csp))
    bp.context_processor(lambda: {"site_title": title, "site_url": site_url})
    return bp


def tell(message: str) -> None:
    """Have the next page (after a form post's redirect) show ``message``."""
    session[MESSAGE] = message


def told() -> str | None:
    """The message a form post left for this page, once."""
    return session.pop(MESSAGE, None)


@contextmanager
def refusal_told(prefix: str, *, propagate: Collection[int] = ()) -> Iterator[None]:
    """Run a form post's change: a refusal (a domain error or problem answering 4xx, but those
    of ``propagate``) is told on the next page as ``<prefix>: <title>. <detail>`` instead of an
    error page."""
    try:
        yield
    except DomainError as error:
        problem = problem_of(error)
        if problem.status >= 500 or problem.status in propagate:
            raise
        tell(f"{prefix}: {problem.title}. {problem.detail or ''}".strip())


@dataclass(frozen=True)
class SignInPolicy:
    """Who may use a service's admin pages, and how they sign in.

    ``signed_in()`` names who is signed in now (checked again on every request), or None;
    ``token_sign_in(token)`` opens the session for a token typed into the form (False refuses);
    ``wallet_sign_in(signed_in)`` for what the gateway's QR login handed over (a problem
    refuses). ``client`` and ``portal`` are the service's name and portal at the gateway; the
    texts tell people on the login page who signs in with what."""

    client: str
    portal: str
    signed_in: Callable[[], Any]
    token_sign_in: Callable[[str], bool]
    wallet_sign_in: Callable[[SignedIn], object]
    wallet_text: str
    token_label: str = "Operator API token"
    token_hint: str | None = "credgate token"  # the command that prints it
    token_refused: str = "That token is unknown or revoked."
    token_note: str | None = None

    def require(self) -> Any:
        """Who is signed in, else a 401 problem (for form posts)."""
        actor = self.signed_in()
        if actor is None:
            raise Problem("unauthorized", "Authentication required", 401, "sign in again")
        return actor


def admin_pages(
    name: str,
    import_name: str,
    *,
    prefix: str,
    policy: SignInPolicy,
    title: str,
    home: Callable[[Any], ResponseReturnValue],
    home_path: str | None = None,
    **options: Any,
) -> Blueprint:
    """A page blueprint with the admin sign-in under ``prefix``; ``home(actor)`` answers
    ``GET home_path`` (default ``prefix``) for a signed-in admin (endpoint ``<name>.home``)."""
    bp = page_blueprint(name, import_name, title=title, **options)

    def home_url() -> str:
        return url_for(f"{name}.home")

    def login_page(*, failed: bool = False, problem: Problem | None = None, status: int = 200):
        page = render_template(
            "signin/login.html",
            policy=policy,
            failed=failed,
            problem=problem,
            wallet=wallet_available(),
            login_url=url_for(f"{name}.login"),
            wallet_url=url_for(f"{name}.wallet_login"),
        )
        return page, status

    def show_home() -> ResponseReturnValue:
        actor = policy.signed_in()
        return login_page() if actor is None else home(actor)

    def login() -> ResponseReturnValue:
        check_csrf()
        if not policy.token_sign_in(request.form.get("token", "").strip()):
            return login_page(failed=True, status=401)
        return redirect(home_url(), 303)

    def logout() -> ResponseReturnValue:
        check_csrf()
        session.clear()
        return redirect(home_url(), 303)

    bp.add_url_rule(home_path or prefix, "home", show_home)
    bp.add_url_rule(f"{prefix}/login", "login", login, methods=["POST"])
    bp.add_url_rule(f"{prefix}/logout", "logout", logout, methods=["POST"])
    add_wallet_routes(
        bp,
        f"{prefix}/login",
        client=policy.client,
        portal=policy.portal,
        sign_in=policy.wallet_sign_in,
        login_page=login_page,
        signed_in_page=lambda: render_template("signin/signed_in.html", next_url=home_url()),
    )
    return bp
