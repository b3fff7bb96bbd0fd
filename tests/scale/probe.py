"""A route behind the gateway that needs the DataProvider role; the nodes mount it by name
(``GATEWAY_APPS: ["tests.scale.probe:PROBE"]``) since they run in processes of their own."""

from __future__ import annotations

from flask import Blueprint

from gateway.plugin import GatewayApp, Role, current_principal, requires

probe = Blueprint("scale_probe", __name__)


@probe.get("/data")
@requires(Role("DataProvider"))
def data():
    return {"holder": current_principal().holder}


PROBE = GatewayApp("scale-probe", "Probe", probe)
