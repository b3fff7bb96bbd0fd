"""The marketplace app: offers, purchase agreements checked against credentials."""

from apps.marketplace.routes import bp
from gateway.plugin import GatewayApp

app = GatewayApp(
    name="marketplace",
    title="Marketplace",
    blueprint=bp,
    description="Offers of data and models, and purchase agreements",
    powers=("read", "sell", "purchase"),
)
