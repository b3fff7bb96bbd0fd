"""The suite's services: name -> app factory. ``credgate up`` serves each on loopback.

The factory is where the top floor hands the services what only it knows: ``APP_POWERS``, the
powers companies can be granted (KCIT) and delegate (depute). They are what the apps the gateway
mounts declare, and the services below the gateway may not import it to ask.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from flask import Flask

from depute.context import ADMIN_POWER
from gateway.mount import declared_powers
from suite.packages import PACKAGES

#: Service name -> (package with create_app, the agent it drives or None).
SERVICES: dict[str, tuple[str, str | None]] = {
    package.service: (package.name, package.agent) for package in PACKAGES if package.service
}

AppFactory = Callable[[Mapping[str, Any] | None], Flask]


def power_catalogue() -> tuple[str, ...]:
    """The registered apps' powers (``app:action``) and depute's own ``depute:admin``."""
    return tuple(sorted({*declared_powers(), ADMIN_POWER}))


def app_factory(name: str) -> AppFactory:
    """``create_app`` of the service's package, with what the suite adds to every config (a
    key the caller sets wins)."""
    package, _agent = SERVICES[name]
    create_app: AppFactory = import_module(package).create_app

    def assembled(config: Mapping[str, Any] | None = None) -> Flask:
        return create_app({"APP_POWERS": power_catalogue(), **(config or {})})

    return assembled
