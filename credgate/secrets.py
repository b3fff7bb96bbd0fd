"""Secrets: from configuration when nodes must share them, else generated at first start and kept
in files only their owner can read.

Embedded default (``credgate up``): agent admin keys, wallet keys, session and JWT secrets and the
operator token live in ``<var>/secrets`` (mode 0700), one file each (mode 0600). They are created
atomically, so two processes starting at once agree on one value, and they are never logged.

Several nodes (``credgate serve``) share no files, so every node must derive the same values from
its configuration instead. A secret ``name`` comes, in this order, from:

1. ``CREDGATE_SECRET_<NAME>`` (the name upper-cased, ``-`` and ``.`` as ``_``), verbatim;
2. ``CREDGATE_SECRET_KEY``, one master secret: HMAC-SHA256(master, name), so each name gets its
   own independent value and no derived secret reveals another or the master;
3. the file in the secrets directory, created on first use.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

MASTER_ENV = "CREDGATE_SECRET_KEY"
MIN_MASTER_LENGTH = 32  # characters: a master secret shorter than this is refused


class SecretConfigError(ValueError):
    """The configured secrets are unusable (the service must not start with them)."""


def env_name(name: str) -> str:
    return "CREDGATE_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def derive(name: str, nbytes: int = 32) -> bytes | None:
    """``nbytes`` bytes for ``name`` from the master secret, None when none is configured."""
    master = os.environ.get(MASTER_ENV)
    if not master:
        return None
    if len(master) < MIN_MASTER_LENGTH:
        raise SecretConfigError(f"{MASTER_ENV} must be at least {MIN_MASTER_LENGTH} characters")
    if nbytes > hashlib.sha256().digest_size:
        raise ValueError("at most 32 bytes per derived secret")
    digest = hmac.new(master.encode(), f"credgate/{name}".encode(), hashlib.sha256).digest()
    return digest[:nbytes]


def configured_secret(name: str, nbytes: int = 32) -> str | None:
    """The secret ``name`` as configuration states it (see the module docstring), or None."""
    explicit = os.environ.get(env_name(name))
    if explicit:
        return explicit
    derived = derive(name, nbytes)
    return base64.urlsafe_b64encode(derived).rstrip(b"=").decode() if derived else None


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


def get_or_create_secret(directory: Path, name: str, nbytes: int = 32) -> str:
    """The secret ``name`` from configuration, else the one stored under ``name``, created
    (url-safe random) if it does not exist yet."""
    configured = configured_secret(name, nbytes)
    if configured is not None:
        return configured
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
