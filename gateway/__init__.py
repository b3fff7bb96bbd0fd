"""The verifier service: W3C VC-API verification and the gateway in front of the data-space apps
(QR login, access tokens, the apps it mounts). It is built on the Flask-free :mod:`verifier`
library; apps plug in through :mod:`gateway.plugin` only.

Its service name stays ``verifier`` (``SERVICE_URLS["verifier"]``, ``var/verifier``)."""

from gateway.service import build_verifier, create_app

__all__ = ["build_verifier", "create_app"]
