"""The gateway's pages and QR-login endpoints (people use these; machines use :mod:`.api`).

* ``GET /`` — who is logged in, the apps, logout; ``GET /portals`` — the login portals
* ``GET /portals/<portal>`` — a login page: QR code of ``/i/<id>``, deep link, live state
* ``GET /i/<id>`` — the invitation, once (JSON for ``Accept: application/json``, else a
  redirect to its long form)
* ``GET /login/<id>`` — the state as JSON; ``GET /login/<id>/events`` — the same over SSE
* ``POST /login/<id>/presentation`` — a presentation posted directly by the wallet
* ``POST /login/<id>/session`` — the browser that showed the QR turns the verified login into
  its session (or, for a login another service asked for, goes back there with a one-time
  code); ``POST /logout``
* ``GET /connect/<client>`` — the login page for another service of the suite (:mod:`.handoff`)
"""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

from flask import (
    Response,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup

from credgate.db import utcnow
from credgate.problems import Problem, json_body
from credgate.qr import qr_svg
from gateway.api import presentation_from
from gateway.cookies import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    check_csrf,
    clear_session_cookie,
    csrf_for,
    set_login_cookie,
    set_session_cookie,
)
from gateway.enforce import CSP, authenticate
from gateway.grants import recheck
from gateway.logins import LoginService
from gateway.portals import PORTALS, portal, safe_next
from gateway.state import gateway
from signin.pages import page_blueprint

# The suite's page kit: shared base template and stylesheet, the gateway's CSP (its login page
# runs login.js, served from here).
pages = page_blueprint(
    "gateway_pages",
    __name__,
    title="credgate · data-space gateway",
    site_url="/",
    csp=CSP,
    template_folder="templates",
    static_folder="static",
    static_url_path="/gateway/static",
)

HEARTBEAT = 15.0
POLL = 0.5  # the stream re-reads the login at least this often (other workers' changes)
AGENT_POLL = 2.0  # ... and asks the agent when no webhook came


def logins() -> LoginService:
    service = gateway().logins
    if service is None:
        raise Problem("agent-unavailable", "Wallet login unavailable", 503, "no login service")
    return service


def login_cookie_name(login_id: str) -> str:
    # One cookie per login (scoped to its path), so two login tabs do not overwrite each other.
    return f"{LOGIN_COOKIE}_{login_id}"


# -- pages -------------------------------------------------------------------------------------


def qr_markup(url: str) -> Markup | None:
    """Our own SVG (qrcode), so markup rather than user input; None when the URL would need a
    QR code above version 10 (a very long public host name): the page then offers the link."""
    try:
        return Markup(qr_svg(url))
    except ValueError:
        current_app.logger.warning("no QR code: %s is too long for version 10", url)
        return None


@pages.get("/")
def home():
    gw = gateway()
    caller = authenticate() if request.cookies.get(SESSION_COOKIE) else None
    if caller is None or caller.via != "session":
        # The suite's start page, when the suite runner installed one beside the gateway.
        start = "credgate_start.start" in current_app.view_functions
        return render_template(
            "gateway/home.html",
            caller=None,
            portals=PORTALS.values(),
            apps=gw.apps.values(),
            start=start,
        )
    results = recheck(gw.verifier, caller.grant.credentials, utcnow())
    return render_template(
        "gateway/home.html",
        caller=caller,
        results=results,
        apps=gw.apps.values(),
        csrf=csrf_for(caller.session_secret or ""),
        portals=PORTALS.values(),
    )


@pages.get("/portals")
def portals():
    next_url = safe_next(request.args.get("next"))
    return render_template("gateway/portals.html", portals=PORTALS.values(), next_url=next_url)


@pages.get("/portals/<name>")
def login_page(name: str):
    chosen = portal(name)
    next_url = safe_next(request.args.get("next")) or chosen.landing
    # Both protocols by default; ``protocol=openid4vp`` is a login without the DIDComm agent.
    only_oid4vp = request.args.get("protocol") == "openid4vp"
    started = logins().start(chosen.name, next_url, didcomm=not only_oid4vp)
    retry = url_for(
        ".login_page",
        name=chosen.name,
        next=next_url,
        **({"protocol": "openid4vp"} if only_oid4vp else {}),
    )
    return login_response(chosen, started, retry_url=retry)


@pages.get("/connect/<client>")
def connect(client: str):
    """The QR login page for another service of the suite (:mod:`.handoff`)."""
    handoffs = gateway().handoffs
    if handoffs is None:
        raise Problem("not-available", "Sign-in hand-off unavailable", 503)
    wanted = handoffs.check_request(client, request.args)
    chosen = portal(wanted.portal)
    started = logins().start(chosen.name)
    handoffs.attach(started.view.id, wanted)
    # The Continue form's redirect goes to the service: the CSP's form-action must allow it.
    return login_response(
        chosen,
        started,
        retry_url=request.full_path,
        signing_in_to=wanted.client.title,
        form_origin=wanted.origin,
    )


def login_response(
    chosen,
    started,
    *,
    retry_url: str,
    signing_in_to: str | None = None,
    form_origin: str | None = None,
) -> Response:
    login_id = started.view.id
    didcomm = bool(started.invitation)
    short_url = url_for(".invitation", login_id=login_id, _external=True)
    oob = base64.urlsafe_b64encode(json.dumps(started.invitation).encode()).decode().rstrip("=")
    openid = current_app.extensions.get("credgate.gateway.oid4vp")
    oid4vp_url = openid.authorization_url(login_id) if openid else None
    response = Response(
        render_template(
            "gateway/login.html",
            portal=chosen,
            login=started.view,
            signing_in_to=signing_in_to,
            didcomm=didcomm,
            qr=qr_markup(short_url) if didcomm else None,
            short_url=short_url,
            deep_link="didcomm://invite?" + urlencode({"oob": oob}),
            oid4vp_url=oid4vp_url,
            oid4vp_qr=qr_markup(oid4vp_url) if oid4vp_url else None,
            oid4vp_draft_url=openid.authorization_url(login_id, draft=True) if openid else None,
            events_url=url_for(".events", login_id=login_id),
            state_url=url_for(".state", login_id=login_id),
            finish_url=url_for(".finish", login_id=login_id),
            retry_url=retry_url,
        )
    )
    if form_origin:
        response.headers["Content-Security-Policy"] = CSP.replace(
            "form-action 'self'", f"form-action 'self' {form_origin}"
        )
    ttl = int(current_app.config["GATEWAY_LOGIN_TTL"]) + 60
    set_login_cookie(
        response, started.browser_secret, ttl, login_cookie_name(login_id), f"/login/{login_id}"
    )
    return response


# -- the wallet's side -------------------------------------------------------------------------


@pages.get("/i/<login_id>")
def invitation(login_id: str):
    stored = logins().scan(login_id)
    wants_json = request.args.get("format") == "json" or (
        request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json"
    )
    if wants_json:
        return stored["message"]
    return redirect(stored["url"], 302)


@pages.post("/login/<login_id>/presentation")
def direct_presentation(login_id: str):
    presentation = presentation_from(json_body())
    view = logins().submit(login_id, presentation, via="direct")
    if view.state != "verified":
        raise Problem(
            "login-failed", "Presentation refused", 400, view.reason, login=view.to_json()
        )
    return view.to_json()


# -- the browser's side ------------------------------------------------------------------------


@pages.get("/login/<login_id>")
def state(login_id: str):
    return logins().view(login_id).to_json()


@pages.get("/login/<login_id>/events")
def events(login_id: str):
    service = logins()
    service.view(login_id)  # 404 now rather than inside the stream
    limit = float(current_app.config["GATEWAY_LOGIN_TTL"]) + 5.0

    def stream():
        yield "retry: 1000\n\n"  # EventSource reconnects after a second if the stream drops
        began = last_beat = last_poll = time.monotonic()
        sent = None
        while True:
            generation = service.generation
            view = service.view(login_id)
            if view.version != sent:
                sent = view.version
                yield f"id: {view.version}\nevent: state\ndata: {json.dumps(view.to_json())}\n\n"
            if view.terminal:
                return
            now = time.monotonic()
            if now - began > limit:
                return  # bounded: the login has expired by now; a reconnect says so
            if now - last_beat > HEARTBEAT:
                last_beat = now
                yield ": keep-alive\n\n"
            if now - last_poll > AGENT_POLL:
                last_poll = now
                service.poll_agent(login_id)
            service.wait_change(generation, POLL)

    return Response(
        stream(),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@pages.post("/login/<login_id>/session")
def finish(login_id: str):
    gw = gateway()
    browser_secret = request.cookies.get(login_cookie_name(login_id))
    handoff = gw.handoffs.for_login(login_id) if gw.handoffs is not None else None
    if handoff is not None:  # a login for another service: back there with a one-time code
        grant, _ = logins().claim(login_id, browser_secret)
        response = redirect(gw.handoffs.issue_code(handoff, grant), 303)
        response.delete_cookie(login_cookie_name(login_id), path=f"/login/{login_id}")
        return response
    secret, view = logins().open_session(login_id, browser_secret)
    grant = gw.grants.get(view.grant_id or "")
    max_age = int((grant.expires_at - utcnow()).total_seconds()) if grant else 0
    response = redirect(safe_next(view.next_url) or "/", 303)
    set_session_cookie(response, secret, max(max_age, 1))
    response.delete_cookie(login_cookie_name(login_id), path=f"/login/{login_id}")
    return response


@pages.post("/logout")
def logout():
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        check_csrf(secret)
        caller = authenticate()
        if caller is not None and caller.via == "session":
            gateway().grants.end(caller.grant.id)
    response = redirect("/", 303)
    clear_session_cookie(response)
    return response


__all__ = ["pages", "CSRF_FIELD"]
