"""The compute app: jobs that run a certified flist on a dataset (only software certified for
the job's purpose runs)."""

from __future__ import annotations

from flask import Flask

from apps.compute.executor import LocalExecutor
from apps.compute.routes import EXTENSION, bp
from apps.compute.services import ComputeRuntime
from apps.registry import software_registry
from credgate.web import add_health_check, on_shutdown
from gateway.plugin import GatewayApp


def setup(flask_app: Flask) -> None:
    """One runtime per Flask app: its flist store (``COMPUTE_STORE``, default
    ``<var>/compute/flists``), executor (``COMPUTE_EXECUTOR``), limits (``COMPUTE_LIMITS``) and
    the registry of certified software it consults (:mod:`apps.registry`)."""
    config = flask_app.config
    var_dir = config["CREDGATE_SETTINGS"].var_dir
    store = config.get("COMPUTE_STORE") or var_dir / "compute" / "flists"
    runtime = ComputeRuntime(
        factory=flask_app.extensions["credgate.db"],
        store=store,
        registry=software_registry(flask_app),
    )
    runtime.executor = config.get("COMPUTE_EXECUTOR") or LocalExecutor(
        datasets=config.get("COMPUTE_DATASETS") or var_dir / "compute" / "datasets",
        outputs=var_dir / "compute" / "outputs",
        status=runtime.executor.sandbox,
    )
    if hasattr(runtime.executor, "health"):  # `credgate status` says when jobs cannot run
        add_health_check(flask_app, runtime.executor.health)
    if config.get("COMPUTE_LIMITS") is not None:
        runtime.limits = config["COMPUTE_LIMITS"]
    flask_app.extensions[EXTENSION] = runtime
    on_shutdown(flask_app, lambda: runtime.pool.shutdown(wait=False, cancel_futures=True))


app = GatewayApp(
    name="compute",
    title="Compute",
    blueprint=bp,
    description="Run certified software (flists) on datasets",
    powers=("run",),
    setup=setup,
)
