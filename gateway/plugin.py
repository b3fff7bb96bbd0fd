"""The interface between the gateway and the apps it mounts (what an app developer uses).

An app is a Python package that exposes a :class:`GatewayApp` and registers it under the
entry-point group ``credgate.apps``::

    [project.entry-points."credgate.apps"]
    catalogue = "apps.catalogue:app"

The gateway mounts the app's blueprint at ``/apps/<name>``. Every view declares what it needs
with :func:`~gateway.requirements.requires`; a view without a declaration makes the
mount fail at start-up (nothing is open by accident). Inside a view, :func:`current_principal`
says who is calling, for whom, and can evaluate further requirements (an offer's policy, a
software certification) against the caller's credentials as they stand now.

This module is the whole interface: an app imports nothing else of the gateway (an import-linter
contract in ``pyproject.toml`` says so). What an app needs of the gateway's requirements
(:func:`describe` and :func:`missing` for a deny's message, :func:`evaluate` over evidence it
verified) is re-exported here, and so is the OpenAPI kit's declaration of a route
(:func:`operation`, :func:`param`, :func:`component`, :func:`obj`, :data:`PROBLEM`) and its mark
of an HTML view (:func:`page`): the gateway's ``/openapi.json`` describes the mounted apps' routes
with its own. An app's HTML page extends the template ``gateway/app.html`` (setting
``app_title``; its part goes in the block ``app``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, current_app, g

from credgate.openapi import PROBLEM, component, listing, obj, operation, page, param
from credgate.problems import Problem
from credgate.web import create_service_app
from gateway.requirements import (
    ActingFor,
    AnyOf,
    AttorneyPower,
    CertifiedSoftware,
    DefinitionName,
    Participant,
    Public,
    Requirement,
    Role,
    describe,
    evaluate,
    missing,
    requires,
)
from verifier.engine import CredentialResult, Verifier
from verifier.pdp import Decision

__all__ = [
    "ActingFor",
    "AnyOf",
    "AttorneyPower",
    "CertifiedSoftware",
    "CredentialResult",
    "Decision",
    "DefinitionName",
    "GatewayApp",
    "PROBLEM",
    "Participant",
    "Principal",
    "Public",
    "Requirement",
    "Role",
    "TO_LOGIN",
    "component",
    "current_principal",
    "describe",
    "evaluate",
    "evaluate_evidence",
    "gated",
    "listing",
    "missing",
    "obj",
    "operation",
    "optional_principal",
    "page",
    "param",
    "requires",
    "standalone_app",
    "verify_evidence",
]

ENTRY_POINT_GROUP = "credgate.apps"
PRINCIPAL = "credgate_principal"
#: What an app's page declares besides its answer: a GET from a browser (Accept preferring
#: HTML) without a grant is sent to the portals.
TO_LOGIN = {303: None}


def gated(app: str, *, problems: tuple[int, ...] | None = (403,)) -> dict[str, Any]:
    """The :func:`operation` options of an app's route: every route is behind the gateway, so a
    caller without a live grant is a 401 (``auth``), one whose credentials do not meet the
    route's requirement a 403 (``problems``: None leaves them to each route); tagged ``app``."""
    options: dict[str, Any] = {"auth": "bearer", "tags": (app,)}
    if problems is not None:
        options["problems"] = problems
    return options


@dataclass(frozen=True)
class GatewayApp:
    """What an app gives the gateway. ``powers`` are the attorney actions its routes use (the
    depute tool offers them when a company authorises an employee)."""

    name: str
    title: str
    blueprint: Blueprint
    description: str = ""
    powers: tuple[str, ...] = ()
    #: called once per Flask app that mounts it (create tables' helpers, executors, ...)
    setup: Callable[[Flask], None] | None = None


@dataclass(frozen=True)
class Principal:
    """The caller of a mounted route, with the credentials that count for it right now."""

    holder: str
    via: str  # token | session
    grant: str
    credentials: tuple[CredentialResult, ...]
    decision: Decision
    company_roles: Callable[[str], tuple[frozenset[str], tuple[str, ...]]] = field(
        default=lambda _did: (frozenset(), ())
    )

    @property
    def acting_for(self) -> str | None:
        """The company the caller acts for (through an Attorney credential), if any."""
        if self.decision.acting_for:
            return self.decision.acting_for
        companies = {
            (s.get("mandator") or {}).get("id")
            for r in self.credentials
            if r.trusted and r.facts is not None and "AttorneyCredential" in r.facts.types
            for s in _subjects(r.credential)
        }
        companies.discard(None)
        return next(iter(companies)) if len(companies) == 1 else None

    @property
    def party(self) -> str:
        """Who acts in a transaction: the company for an attorney, else the holder."""
        return self.acting_for or self.holder

    @property
    def credential_ids(self) -> list[str]:
        return [str(r.credential.get("id")) for r in self.credentials if r.trusted]

    def check(self, requirement: Requirement) -> Decision:
        """Evaluate another requirement against the caller's credentials as they stand now."""
        return evaluate(requirement, self.credentials, self.company_roles)


def _subjects(credential: Any) -> list[Mapping[str, Any]]:
    subject = credential.get("credentialSubject") if isinstance(credential, Mapping) else None
    subjects = subject if isinstance(subject, list) else [subject]
    return [s for s in subjects if isinstance(s, Mapping)]


def optional_principal() -> Principal | None:
    return g.get(PRINCIPAL)


def current_principal() -> Principal:
    principal = g.get(PRINCIPAL)
    if principal is None:  # a view declared Public() but needs a caller: a bug in the app
        raise Problem("unauthorized", "Authentication required", 401, "log in first")
    return principal


def verify_evidence(credentials: Sequence[Any]) -> tuple[CredentialResult, ...]:
    """Fully verify credentials an app holds about something else than the caller (a software
    certificate): proof, status, trust, validity."""
    verifier: Verifier = current_app.extensions["credgate.verifier"]
    return tuple(verifier.verify_credential(c) for c in credentials)


def evaluate_evidence(requirement: Requirement, credentials: Sequence[Any]) -> Decision:
    return evaluate(requirement, verify_evidence(credentials))


def standalone_app(spec: GatewayApp, principal: Principal, config: Mapping[str, Any]) -> Flask:
    """The app without the gateway: its blueprint at the same path, every request made by
    ``principal`` (benchmarks compare the gateway against this; app tests may use it)."""
    flask_app = create_service_app(f"{spec.name}-standalone", config=config)
    flask_app.register_blueprint(spec.blueprint, url_prefix=f"/apps/{spec.name}")
    if spec.setup is not None:
        spec.setup(flask_app)

    @flask_app.before_request
    def as_principal() -> None:
        setattr(g, PRINCIPAL, principal)

    return flask_app
