"""The catalogue app: data products, services, models and certified flists."""

from functools import partial

from flask import Flask

from apps.catalogue.routes import bp
from apps.catalogue.services import certificates_for
from apps.registry import software_registry
from gateway.plugin import GatewayApp


def setup(flask_app: Flask) -> None:
    """The certificates published here with flists are found by the other apps (compute admits
    a job without one) through the software registry."""
    factory = flask_app.extensions["credgate.db"]
    software_registry(flask_app).add_published(partial(certificates_for, factory))


app = GatewayApp(
    name="catalogue",
    title="Catalogue",
    blueprint=bp,
    description="Data products, services, models and certified software of the data space",
    powers=("read", "publish"),
    setup=setup,
)
