"""Running a job's flist: the :class:`Executor` interface and its local default, which runs
every job in a bubblewrap sandbox (:mod:`apps.compute.sandbox`) and never without one.

:class:`LocalExecutor` unpacks the flist archive (a gzipped tar) into a fresh temporary
directory — no absolute paths, no ``..``, no links out, no devices (``tarfile``'s ``data``
filter), bounded in members and bytes — reads the manifest ``flist.json``
(``{"entrypoint": ["python3", "main.py"]}``) and runs the entrypoint in the sandbox: the flist
read-only at ``/flist`` (the working directory), a size-capped scratch at ``/scratch`` (also
``/tmp``), the dataset read-only at ``/dataset`` when it names one of the executor's datasets,
and one output directory ``/output``. The environment names only the dataset (``DATASET``,
``DATASET_PATH``), the purpose (``PURPOSE``) and the output directory (``OUTPUT_DIR``).

The job ends when its entrypoint exits, at its wall-clock deadline, or when its outputs grow
past their cap; then bwrap's PID-namespace init dies and the kernel kills every process left
in the namespace (a ``setsid`` daemon included), and the executor checks that the init is gone.
stdout and stderr go to files capped by the file-size limit and their first ``output_bytes``
come back. The output directory is checked — regular files only, no links, within the file
count and byte caps — before its files are kept.

Whether this machine can sandbox is probed once, when the executor is made; if it cannot,
:meth:`LocalExecutor.run` raises :class:`SandboxUnavailable` and compute refuses jobs.
A real deployment plugs in an executor that deploys the flist on a Zero-OS node instead.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from apps.compute import sandbox
from apps.compute.sandbox import SandboxStatus, SandboxUnavailable

__all__ = [
    "Executor",
    "FlistError",
    "Limits",
    "LocalExecutor",
    "OutputFile",
    "RunResult",
    "SandboxUnavailable",
    "entrypoint",
    "unpack",
]

MANIFEST = "flist.json"
POLL = 0.1  # seconds between checks of a running job's output directory
REAP_TIMEOUT = 5.0


class FlistError(ValueError):
    """The archive cannot be run (not a tar.gz, unsafe member, no manifest, bad entrypoint)."""


@dataclass(frozen=True)
class Limits:
    seconds: float = 20.0
    memory_bytes: int = 512 * 1024 * 1024
    output_bytes: int = 64 * 1024  # of stdout and of stderr that come back
    file_bytes: int = 16 * 1024 * 1024  # any one file the job writes
    archive_members: int = 1000
    unpacked_bytes: int = 256 * 1024 * 1024
    processes: int = 64
    open_files: int = 256
    scratch_bytes: int = 64 * 1024 * 1024
    output_files: int = 100
    output_total_bytes: int = 32 * 1024 * 1024


@dataclass(frozen=True)
class OutputFile:
    name: str  # relative to the output directory
    size: int
    sha256: str

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class RunResult:
    exit_code: int | None
    stdout: str
    stderr: str
    timed_out: bool
    duration_ms: int
    #: how the job ended: exited, deadline, memory-limit, cpu-limit, file-size-limit, signal,
    #: output-limit (killed while writing too much), output-rejected (checked after the run)
    ended: str = "exited"
    signal: int | None = None
    outputs: tuple[OutputFile, ...] = ()
    outputs_ref: str | None = None  # where the checked outputs were kept
    detail: str | None = None
    sandbox: dict[str, object] = field(default_factory=dict)


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
    if (
        not isinstance(command, list)
        or not command
        or len(command) > 64
        or not all(isinstance(a, str) and a and "\0" not in a for a in command)
    ):
        raise FlistError(f"{MANIFEST} needs an entrypoint: a list of strings")
    program = command[0]
    if "/" in program:  # a program inside the flist, named as the sandbox sees it
        path = (root / program).resolve()
        if not path.is_relative_to(root.resolve()) or not path.is_file():
            raise FlistError(f"entrypoint {program} is not a file inside the flist")
        return [f"{sandbox.FLIST}/{path.relative_to(root.resolve())}", *command[1:]]
    found = shutil.which(program, path=sandbox.PATH)  # /usr is the same path inside
    if found is None:
        raise FlistError(f"entrypoint program {program} is not installed")
    return [found, *command[1:]]


def _head(path: Path, limit: int) -> str:
    with path.open("rb") as fh:
        data = fh.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n[output truncated]" if len(data) > limit else "")


def _readable(path: Path) -> None:
    """Let the job's host uid (not the gateway's, when that is root) read the unpacked flist."""
    for dirpath, _dirnames, filenames in os.walk(path):
        os.chmod(dirpath, 0o755)
        for name in filenames:
            file = os.path.join(dirpath, name)
            if not os.path.islink(file):
                os.chmod(file, os.stat(file).st_mode & 0o755 | 0o444)


_MEMORY = re.compile(r"MemoryError|Cannot allocate memory|out of memory|std::bad_alloc")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def dataset_path(datasets: Path | None, reference: str) -> Path | None:
    """The local dataset a job's reference names (a plain name in ``datasets``), or None.

    Only a plain name is looked up, so ``../secrets`` or an absolute path never mounts anything.
    """
    if datasets is None or not _SAFE_NAME.fullmatch(reference):
        return None
    root = datasets.resolve()
    path = (root / reference).resolve()
    if path.parent != root or not path.exists():
        return None
    return path


def _reachable(path: Path) -> bool:
    """Whether another uid can reach ``path`` (bwrap binds it as the job's uid)."""
    parents = [p for p in path.parents if p != Path("/")]
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in parents) and bool(
        os.stat(path).st_mode & stat.S_IROTH
    )


def _usage(output: Path, limits: Limits) -> str | None:
    """Why the output directory is over its caps, or None (stops counting at the cap)."""
    files = total = 0
    for dirpath, dirnames, filenames in os.walk(output):
        for name in filenames + dirnames:
            files += 1
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(dirpath, name)).st_size
            if files > limits.output_files:
                return f"more than {limits.output_files} output files"
            if total > limits.output_total_bytes:
                return f"more than {limits.output_total_bytes} output bytes"
    return None


def check_outputs(output: Path, limits: Limits) -> tuple[OutputFile, ...]:
    """The job's output files, or a :class:`ValueError` saying why they cannot be kept:
    regular files only (no links, devices, fifos or sockets), each linked once, within caps."""
    over = _usage(output, limits)
    if over:
        raise ValueError(over)
    found: list[OutputFile] = []
    for dirpath, dirnames, filenames in os.walk(output):
        for name in sorted(dirnames):
            if not stat.S_ISDIR(os.lstat(os.path.join(dirpath, name)).st_mode):
                raise ValueError(f"{name} is not a directory")
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            relative = os.path.relpath(path, output)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode):
                raise ValueError(f"{relative} is not a regular file")
            if info.st_nlink != 1:
                raise ValueError(f"{relative} is linked from elsewhere")
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as fh:
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
            found.append(OutputFile(relative, info.st_size, digest))
    return tuple(sorted(found, key=lambda f: f.name))


def _keep(output: Path, files: tuple[OutputFile, ...], store: Path) -> str:
    """Copy checked outputs to ``store/<sha256 of their manifest>/`` and name that directory."""
    manifest = json.dumps([f.to_json() for f in files], sort_keys=True).encode()
    ref = hashlib.sha256(manifest).hexdigest()
    target = store / ref
    if not target.exists():
        staging = Path(tempfile.mkdtemp(prefix=f"{ref}.", dir=store))
        for file in files:
            (staging / file.name).parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(output / file.name, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as src, (staging / file.name).open("xb") as dst:
                shutil.copyfileobj(src, dst)
        (staging / "manifest.json").write_bytes(manifest)
        with contextlib.suppress(OSError):  # another job kept the same outputs first
            staging.rename(target)
        shutil.rmtree(staging, ignore_errors=True)
    return ref


def _status_lines(fd: int) -> dict[str, int]:
    """What bwrap reported on ``--json-status-fd``: child-pid, exit-code."""
    chunks = []
    with contextlib.suppress(OSError):
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
    report: dict[str, int] = {}
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError, AttributeError):
            report.update({k: v for k, v in json.loads(line).items() if isinstance(v, int)})
    return report


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def _end(process: subprocess.Popen, init_pid: int | None) -> bool:
    """Kill what is left of the job; True once its PID-namespace init (and so every process in
    the namespace: the kernel kills them all when the init dies) is gone."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=REAP_TIMEOUT)
    if init_pid is None:
        return process.returncode is not None
    deadline = time.monotonic() + REAP_TIMEOUT
    while _alive(init_pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(init_pid, signal.SIGKILL)  # --die-with-parent should have done it already
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def _ending(
    code: int | None, timed_out: bool, over: str | None, stderr: str
) -> tuple[str, int | None]:
    if over:
        return "output-limit", None
    if timed_out:
        return "deadline", None
    if code is None:
        return "signal", None
    if code > 128 and code - 128 < signal.NSIG:  # bwrap's init reports a signal as 128 + n
        number = code - 128
        if number == signal.SIGXCPU:  # the soft CPU limit (the hard one sends SIGKILL)
            return "cpu-limit", number
        if number == signal.SIGXFSZ:
            return "file-size-limit", number
        return "signal", number
    if code != 0 and _MEMORY.search(stderr):
        return "memory-limit", None  # reported by the program, which the address cap failed
    return "exited", None


class LocalExecutor:
    """Runs each job in a fresh bubblewrap sandbox; refuses to run at all without one.

    ``datasets``: a directory whose entries a job may name as its dataset (mounted read-only);
    ``outputs``: where checked outputs are kept (by the sha256 of their manifest), or None.
    """

    def __init__(
        self,
        *,
        datasets: Path | None = None,
        outputs: Path | None = None,
        bwrap: str | None = None,
        status: SandboxStatus | None = None,
    ) -> None:
        self.datasets = datasets
        self.outputs = outputs
        self.sandbox = status or sandbox.probe(bwrap)  # once: every job uses this verdict

    def health(self) -> dict[str, object]:
        return self.sandbox.to_json()

    def run(self, archive: Path, *, dataset: str, purpose: str, limits: Limits) -> RunResult:
        status = self.sandbox
        if not status.available or status.bwrap is None or status.prlimit is None:
            raise SandboxUnavailable(status.reason)
        with tempfile.TemporaryDirectory(prefix="credgate-job-") as tmp:
            work = Path(tmp)
            work.chmod(0o711)  # the job's uid passes through to its flist and output only
            root, output = work / "flist", work / "output"
            root.mkdir()
            output.mkdir()
            unpack(archive, root, limits)
            command = entrypoint(root)
            uid = sandbox.job_uid()
            _readable(root)
            if uid is not None:
                os.chown(output, uid, uid)
            output.chmod(0o700)
            mounted = dataset_path(self.datasets, dataset)
            env = {
                "LANG": "C.UTF-8",
                "HOME": sandbox.SCRATCH,
                "TMPDIR": sandbox.SCRATCH,
                "DATASET": dataset,
                "PURPOSE": purpose,
                "OUTPUT_DIR": sandbox.OUTPUT,
            }
            if mounted is not None:
                if uid is not None and not _reachable(mounted):
                    raise SandboxUnavailable(
                        f"dataset {dataset} is not readable by the jobs' "
                        "uid: its directories need o+x, its files o+r"
                    )
                env["DATASET_PATH"] = sandbox.DATASET
            rlimits = sandbox.RLimits(
                int(limits.seconds) + 1,
                limits.memory_bytes,
                limits.file_bytes,
                limits.processes,
                limits.open_files,
            )
            mounts = sandbox.Mounts(
                sandbox.open_path(root),
                sandbox.open_path(output),
                None if mounted is None else sandbox.open_path(mounted),
            )
            read_fd, write_fd = os.pipe()
            os.set_blocking(read_fd, False)  # bwrap's init may hold the write end: never wait
            argv = sandbox.command(
                status.bwrap,
                status.prlimit,
                command,
                mounts=mounts,
                scratch_bytes=limits.scratch_bytes,
                limits=rlimits,
                env=env,
                status_fd=write_fd,
            )
            out_path, err_path = work / "stdout", work / "stderr"
            began = time.monotonic()
            timed_out, over = False, None
            try:
                with out_path.open("wb") as out, err_path.open("wb") as err:
                    process = subprocess.Popen(
                        argv,
                        env={},
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                        pass_fds=(write_fd, *mounts.fds()),
                        user=uid,
                        group=uid,
                        extra_groups=[] if uid is not None else None,
                    )
                    os.close(write_fd)
                    write_fd = -1
                    deadline = began + limits.seconds
                    while process.poll() is None:
                        if time.monotonic() >= deadline:
                            timed_out = True
                            break
                        over = _usage(output, limits)
                        if over:
                            break
                        with contextlib.suppress(subprocess.TimeoutExpired):
                            process.wait(timeout=min(POLL, max(deadline - time.monotonic(), 0)))
                    code = None if timed_out or over else process.returncode
                    report = _status_lines(read_fd)  # written when the sandbox was made
                    all_gone = _end(process, report.get("child-pid"))
            finally:
                for fd in (read_fd, write_fd, *mounts.fds()):
                    if fd >= 0:
                        os.close(fd)
            duration = int((time.monotonic() - began) * 1000)
            stdout = _head(out_path, limits.output_bytes)
            stderr = _head(err_path, limits.output_bytes)
            last = stderr.strip().splitlines()[-1:] or [""]
            if (
                not timed_out
                and not over
                and ("child-pid" not in report or (code == 1 and last[0].startswith("bwrap: ")))
            ):
                raise SandboxUnavailable(f"bwrap could not make this job's sandbox: {last[0]}")
            ended, number = _ending(code, timed_out, over, stderr)
            detail = over if over else None
            files: tuple[OutputFile, ...] = ()
            ref = None
            if ended != "output-limit":
                try:
                    files = check_outputs(output, limits)
                except ValueError as exc:
                    ended, detail = "output-rejected", str(exc)
            if files and self.outputs is not None and ended != "output-rejected":
                self.outputs.mkdir(parents=True, exist_ok=True)
                ref = _keep(output, files, self.outputs)
            return RunResult(
                code,
                stdout,
                stderr,
                timed_out,
                duration,
                ended,
                number,
                files,
                ref,
                detail,
                {"allProcessesEnded": all_gone, "tool": status.reason},
            )
