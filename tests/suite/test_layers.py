"""Imports point down only: the import-linter contracts of ``pyproject.toml`` hold (layers, the
Flask-free verification library, apps through ``gateway.plugin`` only), and importing the
verification engine loads no web framework, gateway or agent. ``make test`` catches a broken
layer as ``make lint`` does. And a package's own names never hide its modules."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys
import tomllib
from importlib import import_module
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

#: Top-level packages the library must not pull in, however indirectly.
NOT_IN_THE_LIBRARY = ("flask", "werkzeug", "gateway", "agents")

LOADED = """
import json, sys
import verifier.engine
print(json.dumps(sorted({name.partition(".")[0] for name in sys.modules})))
"""


def test_importing_the_verification_engine_loads_no_flask_gateway_or_agent():
    # A fresh interpreter: this one has long imported Flask for other tests.
    run = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    loaded = set(json.loads(run.stdout))
    assert "verifier" in loaded  # the probe did import it
    assert loaded.isdisjoint(NOT_IN_THE_LIBRARY), sorted(loaded & set(NOT_IN_THE_LIBRARY))


def test_the_import_contracts_hold():
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


def test_no_package_hides_one_of_its_modules_behind_a_name():
    """``from issuer.routes.oid4vci import oid4vci`` in ``issuer/__init__`` would make
    ``issuer.oid4vci`` a blueprint, not the package (``from issuer import oid4vci`` then breaks)."""
    roots = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    hidden = []
    for name in roots["root_packages"]:
        package = import_module(name)
        for child in pkgutil.iter_modules(package.__path__):
            value = getattr(package, child.name, None)
            if value is not None and not isinstance(value, ModuleType):
                hidden.append(f"{name}.{child.name} is {type(value).__name__}")
    assert hidden == []
