"""Secrets generated at first start and kept in files only their owner can read.

Agent admin keys, wallet keys, JWT secrets and the operator token live in ``<var>/secrets`` (mode
0700), one file each (mode 0600). They are created atomically, so two processes starting at once
agree on one value, and they are never logged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def get_or_create_secret(directory: Path, name: str, nbytes: int = 32) -> str:
    """The secret stored under ``name``, created (url-safe random) if it does not exist yet."""
    ensure_private_dir(directory)
    path = directory / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(nbytes)
    tmp = directory / f".{name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    try:
        # link() fails if another process won the race; then its value is the secret.
        os.link(tmp, path)
    except FileExistsError:
        value = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink()
    return value
