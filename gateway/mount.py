"""Finding the apps (entry-point group ``credgate.apps``) and mounting them at ``/apps/<name>``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from importlib import import_module
from importlib.metadata import entry_points

from flask import Flask

from gateway.plugin import ENTRY_POINT_GROUP, GatewayApp
from gateway.requirements import requirement_of

APP_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}")


class MountError(RuntimeError):
    """An app cannot be mounted (bad name, duplicate, a view without a requirement)."""


def discover(configured: Iterable[GatewayApp | str] | None = None) -> list[GatewayApp]:
    """The configured apps (objects or ``"module:attribute"``), or every registered one."""
    if configured is None:
        found = [ep.load() for ep in entry_points(group=ENTRY_POINT_GROUP)]
    else:
        found = [_load(item) if isinstance(item, str) else item for item in configured]
    for item in found:
        if not isinstance(item, GatewayApp):
            raise MountError(f"{item!r} is not a GatewayApp")
    return sorted(found, key=lambda a: a.name)


def declared_powers(apps: Iterable[GatewayApp] | None = None) -> tuple[str, ...]:
    """``app:action`` for every power the apps (default: the registered ones) declare. The suite
    hands them to KCIT and depute (:func:`suite.services.power_catalogue`)."""
    return tuple(
        sorted({f"{a.name}:{p}" for a in (discover() if apps is None else apps) for p in a.powers})
    )


def _load(reference: str) -> GatewayApp:
    module, _, attribute = reference.partition(":")
    return getattr(import_module(module), attribute or "app")


def mount(app: Flask, apps: Iterable[GatewayApp]) -> dict[str, GatewayApp]:
    mounted: dict[str, GatewayApp] = {}
    for spec in apps:
        if not APP_NAME.fullmatch(spec.name):
            raise MountError(f"app name {spec.name!r} is not [a-z][a-z0-9-]*")
        if spec.name in mounted:
            raise MountError(f"two apps are called {spec.name!r}")
        app.register_blueprint(spec.blueprint, url_prefix=f"/apps/{spec.name}")
        undeclared = [
            endpoint
            for endpoint, view in app.view_functions.items()
            if endpoint.startswith(spec.blueprint.name + ".")
            and not endpoint.endswith(".static")
            and requirement_of(view) is None
        ]
        if undeclared:
            raise MountError(
                f"app {spec.name}: views without a requirement: {', '.join(sorted(undeclared))}"
            )
        if spec.setup is not None:
            spec.setup(app)
        mounted[spec.name] = spec
    return mounted
