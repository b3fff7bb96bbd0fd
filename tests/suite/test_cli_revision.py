"""``credgate revision PACKAGE -m ...`` as a developer runs it: the migration lands in that
package's migrations folder, on that package's branch, and upgrades a database at head.

Every package's versions are copied to a temporary folder first (``Package.migrations`` names
the copies): the test writes nothing into the repository.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import Script, ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import Column, Integer, Table, inspect

from credgate.db import Base, make_engine
from suite.cli import cli
from suite.packages import PACKAGES, Package
from suite.schema import alembic_config
from tests.support.database import scratch_database

pytestmark = pytest.mark.db

PROBE = "kcit_revision_probe"
#: The repository's own migrations folders, which the test must leave as they are.
REPOSITORY = [folder for package in PACKAGES if (folder := package.migrations) is not None]


@pytest.fixture
def versions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Each package's migrations folder copied under ``tmp_path``, by package name."""
    copies = {
        package.name: Path(
            shutil.copytree(
                folder,
                tmp_path / "versions" / package.name,
                ignore=shutil.ignore_patterns("__pycache__"),
            )
        )
        for package in PACKAGES
        if (folder := package.migrations) is not None
    }
    monkeypatch.setattr(Package, "migrations", property(lambda package: copies.get(package.name)))
    return copies


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    with scratch_database(tmp_path, "revision") as url:
        yield url


@pytest.fixture
def credgate(tmp_path: Path, database_url: str) -> Callable[..., Result]:
    """``credgate(*args)``: the command on the test's own database, as click's Result."""
    runner = CliRunner(env={"DATABASE_URL": database_url})
    return lambda *args: runner.invoke(cli, ["--var", str(tmp_path / "var"), *args])


@pytest.fixture
def probe_table() -> Iterator[Table]:
    """A table KCIT's models declare only for this test: what the new revision must create."""
    table = Table(PROBE, Base.metadata, Column("id", Integer, primary_key=True))
    yield table
    Base.metadata.remove(table)


def test_a_revision_lands_on_its_packages_branch_and_upgrades_a_database_at_head(
    versions, credgate, database_url, probe_table
):
    before = _files(REPOSITORY)
    kcit_head = _head_of(versions["kcit"])
    assert credgate("migrate").exit_code == 0

    made = credgate("revision", "kcit", "-m", "a probe table")
    assert made.exit_code == 0, made.output
    path = Path(made.output.splitlines()[-1])  # after Alembic's "Generating ... done"
    assert path.parent == versions["kcit"] and path.exists()
    revision = _revision_in(path)
    assert revision.down_revision == kcit_head  # on KCIT's branch, after its newest revision
    assert PROBE in path.read_text()
    assert _files(REPOSITORY) == before

    upgraded = credgate("migrate")
    assert upgraded.exit_code == 0, upgraded.output
    engine = make_engine(database_url)
    try:
        assert PROBE in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_a_package_without_migrations_is_a_usage_error(versions, credgate):
    refused = credgate("revision", "nosuch", "-m", "anything")
    assert refused.exit_code == 2
    assert "Invalid value for PACKAGE: 'nosuch' is not a package with a migrations folder" in (
        refused.output
    )
    assert "Traceback" not in refused.output


def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def _head_of(folder: Path) -> str:
    """The newest revision of ``folder``: its files are numbered in the order they were made."""
    return _revision_in(max(folder.glob("0*.py"))).revision


def _files(folders: list[Path]) -> set[Path]:
    return {path for folder in folders for path in folder.iterdir()}


def _revision_in(path: Path) -> Script:
    return next(r for r in _script().walk_revisions() if Path(r.path) == path)
