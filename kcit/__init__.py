"""KCIT, the company identification registry: self-registration, review, public lookup and
accreditations.

KCIT drives no agent of its own: it keeps the registry and calls the issuer service.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from credgate.web import create_service_app


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    return create_service_app("kcit", config=config)
