"""Where the suite keeps its state, and which database it uses.

Everything comes from the environment so that a service started on its own (e.g. under gunicorn)
finds the same state as ``credgate up``: ``CREDGATE_VAR`` (default ``./var``) and ``DATABASE_URL``
(default: one SQLite file under the var directory).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    var_dir: Path
    database_url: str

    @property
    def secrets_dir(self) -> Path:
        return self.var_dir / "secrets"

    @property
    def agents_dir(self) -> Path:
        return self.var_dir / "agents"

    @property
    def run_dir(self) -> Path:
        return self.var_dir / "run"

    @property
    def state_file(self) -> Path:
        """Written by ``credgate up``: URLs and PIDs of everything it started."""
        return self.run_dir / "state.json"


def load_settings(var_dir: str | Path | None = None, database_url: str | None = None) -> Settings:
    var = Path(var_dir or os.environ.get("CREDGATE_VAR") or "var").resolve()
    url = database_url or os.environ.get("DATABASE_URL") or f"sqlite:///{var / 'credgate.sqlite3'}"
    return Settings(var_dir=var, database_url=url)
