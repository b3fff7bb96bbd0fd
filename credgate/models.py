"""The modules that declare tables, so Alembic sees the whole schema.

Each package keeps its models next to its code; add a package's ``models`` module here when it
gets tables, and a migration under ``credgate/migrations/versions``.
"""

from importlib import import_module

MODEL_MODULES = (
    "credgate.tokens",
    "agents.models",
    "revocation.models",
    "verifier.models",
    "issuer.models",
    "kcit.models",
    "depute.models",
    "wallet.models",
    "verifier.gateway.models",
    "apps.catalogue.models",
    "apps.marketplace.models",
    "apps.compute.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        import_module(name)
