"""The suite's services: name -> app factory. ``credgate up`` serves each on loopback."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

from flask import Flask

from suite.packages import PACKAGES

#: Service name -> (package with create_app, the agent it drives or None).
SERVICES: dict[str, tuple[str, str | None]] = {
    package.service: (package.name, package.agent) for package in PACKAGES if package.service
}

AppFactory = Callable[[Mapping[str, Any] | None], Flask]


def app_factory(name: str) -> AppFactory:
    package, _agent = SERVICES[name]
    return import_module(package).create_app
