"""The suite's schema: Alembic over every package's own migrations folder.

The environment (``suite/migrations/env.py``) is shared; the versions live beside each package's
code (``<package>/migrations``), each package on a branch of its own from the foundation
revision, so the default target is every head."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from suite.packages import PACKAGES, migration_locations

ENVIRONMENT = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ENVIRONMENT))
    # Alembic splits version_locations on the path separator it is told to use.
    config.set_main_option("path_separator", "os")
    config.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in migration_locations())
    )
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def migrate(engine: Engine, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (idempotent)."""
    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)


def new_revision(engine: Engine, package: str, message: str) -> str:
    """Autogenerate a revision from the models' difference to the database, into the package's
    own folder, on the package's branch (its newest head there)."""
    from alembic.script import ScriptDirectory

    owner = next((p for p in PACKAGES if p.name == package), None)
    if owner is None or owner.migrations is None:
        raise ValueError(f"{package!r} is not a package with a migrations folder")
    config = alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    folder = owner.migrations
    mine = {r.revision: r for r in script.walk_revisions() if Path(r.path).parent == folder}
    # The package's newest revision is one none of its own revises. It need not be one of the
    # schema's heads: another package's revision may depend on it (issuer's on KCIT's).
    heads = [name for name, r in mine.items() if r.nextrev.isdisjoint(mine)]
    made = command.revision(
        config,
        message,
        autogenerate=True,
        head=heads[0] if heads else "base",
        version_path=str(folder),
        splice=True,
    )
    return made.path if made else ""
