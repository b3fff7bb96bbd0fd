"""Running a job's flist: the :class:`Executor` interface and its local default.

:class:`LocalExecutor` unpacks the flist archive (a gzipped tar) into a fresh temporary
directory — no absolute paths, no ``..``, no links out, no devices (``tarfile``'s ``data``
filter), bounded in members and bytes — reads the manifest ``flist.json``
(``{"entrypoint": ["python3", "main.py"]}``) and runs the entrypoint there in a new process
group, with time, CPU, memory, file-size and open-file limits, stdin closed, and an environment
that names only the dataset (``DATASET``), the purpose (``PURPOSE``) and an output directory
(``OUTPUT_DIR``). Output goes to files capped by the file-size limit (a flood kills the job, it
does not fill the worker's memory) and the first ``output_bytes`` come back.

A real deployment plugs in an executor that deploys the flist on a Zero-OS node instead.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

MANIFEST = "flist.json"


class FlistError(ValueError):
    """The archive cannot be run (not a tar.gz, unsafe member, no manifest, bad entrypoint)."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 20.0
    memory_bytes: int = 512 * 1024 * 1024
    output_bytes: int = 64 * 1024
    file_bytes: int = 16 * 1024 * 1024
    archive_members: int = 1000
    unpacked_bytes: int = 256 * 1024 * 1024


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_ms: int


class Executor(Protocol):
    def run(self, archive: Path, *, dataset: str, purpose: str, limits: Limits) -> RunResult: ...


def unpack(archive: Path, into: Path, limits: Limits) -> None:
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            members = []
            total = 0
            for member in tar:
                members.append(member)
                total += max(member.size, 0)
                if len(members) > limits.archive_members or total > limits.unpacked_bytes:
                    raise FlistError("the flist unpacks to too many files or bytes")
            tar.extractall(into, members=members, filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise FlistError(f"the flist is not a safe tar.gz archive: {exc}") from None


def entrypoint(root: Path) -> list[str]:
    try:
        manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise FlistError(f"the flist has no readable {MANIFEST}") from None
    command = manifest.get("entrypoint") if isinstance(manifest, dict) else None
    if (not isinstance(command, list) or not command or len(command) > 64
            or not all(isinstance(a, str) and a and "\0" not in a for a in command)):  # fmt: skip
        raise FlistError(f"{MANIFEST} needs an entrypoint: a list of strings")
    program = command[0]
    if "/" in program:  # a program inside the flist
        path = (root / program).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise FlistError(f"entrypoint {program} is not a file inside the flist")
        return [str(path), *command[1:]]
    found = shutil.which(program)
    if found is None:
        raise FlistError(f"entrypoint program {program} is not installed")
    return [found, *command[1:]]


def _limit(limits: Limits):
    def apply() -> None:  # runs in the child between fork and exec
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _head(path: Path, limit: int) -> str:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if len(data) > limit else "")


def _kill_group(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)


class LocalExecutor:
    def run(self, archive: Path, *, dataset: str, purpose: str, limits: Limits) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="credgate-job-") as tmp:
            work = Path(tmp)
            root = work / "flist"
            output = work / "output"
            root.mkdir()
            output.mkdir()
            unpack(archive, root, limits)
            command = entrypoint(root)
            env = {
                "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                "LANG": "C.UTF-8",
                "HOME": str(work),
                "DATASET": dataset,
                "PURPOSE": purpose,
                "OUTPUT_DIR": str(output),
            }
            out_path, err_path = work / "stdout", work / "stderr"
            began = time.monotonic()
            timed_out = False
            with out_path.open("wb") as out, err_path.open("wb") as err:
                process = subprocess.Popen(
                    command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=out,
                    stderr=err, start_new_session=True, preexec_fn=_limit(limits),  # noqa: PLW1509
                )  # fmt: skip
                try:
                    code: int | None = process.wait(timeout=limits.seconds)
                except subprocess.TimeoutExpired:
                    timed_out = True
                    code = None
                _kill_group(process)  # also whatever the job left running in its group
            duration = int((time.monotonic() - began) * 1000)
            return RunResult(code, _head(out_path, limits.output_bytes),
                             _head(err_path, limits.output_bytes), timed_out, duration)  # fmt: skip
