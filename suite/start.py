"""The suite's start page: every service and the pages people use on it, one link each.

It lives in the top floor because it names every service and its pages (the base names none).

``credgate up`` serves it at ``/`` of every service whose ``/`` is free (the issuer's, among
others) and at ``/start`` of all of them (the gateway's ``/`` is its own home). The services'
URLs come from the app's ``SERVICE_URLS``, which the suite sets; the paths below are the
services' own page routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import Blueprint, Flask, current_app, render_template

from credgate.pages import page_headers

START_PATH = "/start"


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    note: str = ""


@dataclass(frozen=True)
class Service:
    name: str
    title: str
    about: str
    pages: tuple[Page, ...]


@dataclass(frozen=True)
class Link:
    url: str
    title: str
    note: str


@dataclass(frozen=True)
class ServiceLinks:
    name: str
    title: str
    about: str
    url: str
    links: tuple[Link, ...]


#: In the order a newcomer meets them: get credentials, register a company, deputise, log in.
SERVICES: tuple[Service, ...] = (
    Service(
        "issuer",
        "Onboarding authority",
        "Issues people's, roles' and software credentials.",
        (
            Page("/onboarding", "Onboarding", "join the data space as a person"),
            Page(
                "/issuer/admin", "Issuer administration", "role requests; for operators and admins"
            ),
        ),
    ),
    Service(
        "kcit",
        "KCIT register",
        "Identifies companies and the powers they hold.",
        (
            Page("/kcit/register", "Register a company", "a company asks to be identified"),
            Page("/kcit/admin", "KCIT administration", "governance admins review registrations"),
        ),
    ),
    Service(
        "depute",
        "Depute",
        "Company admins give employees mandates (attorney credentials).",
        (Page("/depute/", "Depute", "sign in with your wallet, authorise and revoke mandates"),),
    ),
    Service(
        "wallet",
        "Wallet",
        "A web wallet for a phone: receive credentials, answer logins.",
        (Page("/wallet/", "Wallet", "open or create a wallet"),),
    ),
    Service(
        "verifier",
        "Gateway",
        "Admits wallets to the data-space apps.",
        (
            Page("/", "Gateway home", "who is logged in, the apps and their pages"),
            Page("/portals", "Login portals", "log in by scanning a QR code with your wallet"),
        ),
    ),
    Service(
        "revocation",
        "Status lists",
        "Revocation and suspension of issued credentials.",
        (Page("/status/admin", "Status-list administration", "operators and governance admins"),),
    ),
)


def start_links(service_urls: Mapping[str, str]) -> list[ServiceLinks]:
    """Every known service that runs (has a URL), with absolute links to its pages."""
    listed = []
    for service in SERVICES:
        base = service_urls.get(service.name)
        if not base:
            continue
        base = base.rstrip("/")
        listed.append(
            ServiceLinks(
                service.name,
                service.title,
                service.about,
                base,
                tuple(Link(base + p.path, p.title, p.note) for p in service.pages),
            )
        )
    return listed


def start_page():
    services = start_links(current_app.config.get("SERVICE_URLS") or {})
    return render_template("suite/start.html", services=services)


def install(app: Flask) -> None:
    """Serve the start page at ``/start``, and at ``/`` unless the app has a page there."""
    # "credgate_start": the endpoint name the gateway's home page links to.
    blueprint = Blueprint("credgate_start", __name__, template_folder="templates")
    blueprint.add_url_rule(START_PATH, "start", start_page, methods=["GET"])
    if not any(rule.rule == "/" for rule in app.url_map.iter_rules()):
        blueprint.add_url_rule("/", "root", start_page, methods=["GET"])
    blueprint.after_request(page_headers)
    app.register_blueprint(blueprint)
