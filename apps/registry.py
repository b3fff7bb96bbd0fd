"""The public registry of certified software (the issuer's ``/issuer/software``), as the apps
read it: the signed certificates of a digest, and the link to its page. It also holds what the
mounted apps themselves publish (the catalogue's flists): an app finds another's certificates here,
without importing it, and finds none when that app is not mounted.

The registry is where certificates are *found*, never why they are believed: every certificate
read here goes through the gateway's verifier like any other (proof, the certifier's KCIT
accreditation, the live status list). A registry that is down or answers nonsense yields no
certificates, so a job or a publication it was needed for is refused, never admitted.

Its URL is configuration (``SOFTWARE_REGISTRY_URL``, else the suite's issuer from
``SERVICE_URLS``), not anything a caller sends; the fetch is still bounded in time and size and
follows no redirect.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask import Flask, current_app

log = logging.getLogger(__name__)

EXTENSION = "apps.registry"
TIMEOUT = (2.0, 3.0)
MAX_BYTES = 2 * 1024 * 1024
MAX_CERTIFICATES = 20

#: digest -> the certificates an app published with software of that digest (unverified)
PublishedCertificates = Callable[[str], list[dict[str, Any]]]


class SoftwareRegistry:
    """Reads ``<base>/<digest>``; ``base`` is the registry's URL (``.../issuer/software``)."""

    def __init__(self, base_url: str | None, session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/") if base_url else None
        self._session = session or requests.Session()
        self._session.trust_env = False
        self._published: list[PublishedCertificates] = []

    def add_published(self, source: PublishedCertificates) -> None:
        """An app that publishes certificates (the catalogue, at its setup) lets the others find
        them."""
        self._published.append(source)

    def published(self, digest: str) -> list[dict[str, Any]]:
        """The certificates the mounted apps published for ``digest`` (unverified)."""
        return [certificate for source in self._published for certificate in source(digest)]

    def link(self, digest: str | None) -> str | None:
        return f"{self.base_url}/{digest}" if self.base_url and digest else None

    def certificates(self, digest: str) -> list[dict[str, Any]]:
        """The signed certificates the registry lists for ``digest`` (unverified; [] if none or
        if the registry cannot be read)."""
        url = self.link(digest)
        if url is None:
            return []
        try:
            with self._session.get(
                url,
                timeout=TIMEOUT,
                stream=True,
                allow_redirects=False,
                headers={"Accept": "application/json"},
            ) as response:
                if response.status_code != 200:
                    if response.status_code != 404:
                        log.warning("software registry answered %s", response.status_code)
                    return []
                body = response.raw.read(MAX_BYTES + 1, decode_content=True)
        except requests.RequestException as exc:
            log.warning("software registry unreachable: %s", type(exc).__name__)
            return []
        if len(body) > MAX_BYTES:
            return []
        try:
            parsed = json.loads(body)
        except ValueError:
            return []
        listed = parsed.get("certificates") if isinstance(parsed, dict) else None
        if not isinstance(listed, list):
            return []
        found = [e.get("credential") for e in listed[:MAX_CERTIFICATES] if isinstance(e, dict)]
        return [c for c in found if isinstance(c, dict)]


def registry_url(config: Mapping[str, Any]) -> str | None:
    explicit = config.get("SOFTWARE_REGISTRY_URL")
    if explicit:
        return explicit
    issuer = (config.get("SERVICE_URLS") or {}).get("issuer")
    return f"{issuer.rstrip('/')}/issuer/software" if issuer else None


def software_registry(app: Flask | None = None) -> SoftwareRegistry:
    """The app's registry client (one per Flask app)."""
    app = app or current_app
    registry = app.extensions.get(EXTENSION)
    if registry is None:
        registry = app.extensions[EXTENSION] = SoftwareRegistry(registry_url(app.config))
    return registry
