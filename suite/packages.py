"""The one list of the suite's packages: which serve, which agent each drives, which declare
tables and where each keeps its migrations. Everything else in :mod:`suite` reads it."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path


@dataclass(frozen=True)
class Package:
    """A package of the suite: ``service`` names the service it serves (``None``: a library or
    an app the gateway mounts), ``agent`` the ACA-Py agent that service drives, ``models`` the
    modules that declare its tables."""

    name: str
    service: str | None = None
    agent: str | None = None
    models: tuple[str, ...] = ()

    @property
    def migrations(self) -> Path | None:
        """``<package>/migrations``, the package's own Alembic versions, when it has one."""
        spec = find_spec(self.name)
        if spec is None or not spec.submodule_search_locations:
            return None
        folder = Path(next(iter(spec.submodule_search_locations))) / "migrations"
        return folder if folder.is_dir() else None


# Order matters twice: the base first (the foundation revision), and services in the order
# `credgate up` starts and lists them.
PACKAGES: tuple[Package, ...] = (
    Package("credgate", models=("credgate.tokens",)),
    Package("agents", models=("agents.models",)),
    Package("verifier", models=("verifier.models",)),
    Package("issuer", service="issuer", agent="issuer", models=("issuer.models",)),
    Package("revocation", service="revocation", agent="issuer", models=("revocation.models",)),
    Package("kcit", service="kcit", models=("kcit.models",)),
    Package("depute", service="depute", agent="issuer", models=("depute.models",)),
    Package("wallet", service="wallet", agent="holder", models=("wallet.models",)),
    # The gateway is the verifier service: its name stays "verifier" in SERVICE_URLS and var/.
    Package("gateway", service="verifier", agent="verifier", models=("gateway.models",)),
    Package("apps.catalogue", models=("apps.catalogue.models",)),
    Package("apps.marketplace", models=("apps.marketplace.models",)),
    Package("apps.compute", models=("apps.compute.models",)),
)


def model_modules() -> tuple[str, ...]:
    return tuple(module for package in PACKAGES for module in package.models)


def import_all_models() -> None:
    """Import every module that declares tables, so ``Base.metadata`` holds the whole schema."""
    for name in model_modules():
        import_module(name)


def migration_locations() -> list[Path]:
    return [folder for package in PACKAGES if (folder := package.migrations) is not None]
