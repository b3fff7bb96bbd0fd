"""The models and the migrations describe the same schema, on SQLite and (in CI) PostgreSQL.

The models declare their column types through ``credgate.db``'s annotated aliases and type map;
the migrations spell every column out. Alembic's autogenerate comparison finds any difference in
tables, columns, types (lengths included), nullability, server defaults, keys, indexes and unique
constraints; check constraints, which it does not compare, are compared here by name.
"""

from __future__ import annotations

from typing import Annotated, get_args, get_origin

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import CheckConstraint, String, inspect

from credgate import db as database
from credgate.db import Base, make_engine
from suite.packages import import_all_models
from suite.schema import migrate
from tests.conftest import scratch_database


def _sized_aliases() -> dict[str, object]:
    """Every ``Annotated[str, n]`` alias credgate.db offers, by name."""
    return {
        name: value
        for name, value in vars(database).items()
        if get_origin(value) is Annotated and get_args(value)[0] is str
    }


def test_every_sized_alias_is_a_varchar_of_its_length():
    aliases = _sized_aliases()
    assert aliases, "credgate.db offers no sized string aliases"
    for name, alias in aliases.items():
        stored = Base.type_annotation_map.get(alias)
        assert isinstance(stored, String), f"{name} is not in Base.type_annotation_map"
        assert stored.length == get_args(alias)[1], name


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """A database that has seen nothing but the migrations."""
    import_all_models()
    with scratch_database(tmp_path_factory.mktemp("schema"), "schema") as url:
        engine = make_engine(url)
        try:
            migrate(engine)
            yield engine
        finally:
            engine.dispose()


@pytest.mark.db
def test_the_migrated_schema_is_the_models_schema(migrated):
    with migrated.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "compare_server_default": True}
        )
        assert compare_metadata(context, Base.metadata) == []


@pytest.mark.db
def test_the_migrated_check_constraints_are_the_models(migrated):
    inspector = inspect(migrated)
    for name, table in Base.metadata.tables.items():
        declared = {c.name for c in table.constraints if isinstance(c, CheckConstraint)}
        migrated_checks = {c["name"] for c in inspector.get_check_constraints(name)}
        assert migrated_checks == declared, name
