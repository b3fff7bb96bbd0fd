"""The run-state file of ``credgate up``: what it started, where, and under which PIDs.

``credgate status`` and ``credgate down`` read it, and a service started on its own reads it to
find its agent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from credgate.config import Settings


def read_state(settings: Settings) -> dict[str, Any] | None:
    try:
        return json.loads(settings.state_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def write_state(settings: Settings, state: dict[str, Any]) -> None:
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    tmp = settings.state_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(tmp, settings.state_file)


def clear_state(settings: Settings) -> None:
    settings.state_file.unlink(missing_ok=True)


def pid_alive(pid: int | None) -> bool:
    """True if ``pid`` runs; an exited child nobody has reaped yet (a zombie) does not count."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def process_cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
