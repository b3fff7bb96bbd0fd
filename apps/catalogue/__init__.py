"""The catalogue app: data products, services, models and certified flists."""

from apps.catalogue.routes import bp
from gateway.plugin import GatewayApp

app = GatewayApp(
    name="catalogue",
    title="Catalogue",
    blueprint=bp,
    description="Data products, services, models and certified software of the data space",
    powers=("read", "publish"),
)
