"""The job sandbox: the bubblewrap (``bwrap``) command line that isolates one job, and the probe
that tells whether this machine can make such a sandbox at all.

bubblewrap does the namespace work (a well-kept tool; nothing here makes namespace syscalls).
Each job gets new user, mount, PID, network, IPC, UTS and cgroup namespaces, no capabilities,
``PR_SET_NO_NEW_PRIVS`` (bwrap always sets it), uid/gid 65534 inside, a fresh ``/proc`` that
shows only its own processes, a minimal ``/dev``, read-only ``/usr`` and loader files, the
unpacked flist read-only, a size-capped tmpfs as its only scratch, one output directory and
optionally the dataset read-only. The root of its file tree is read-only, so a write anywhere
else fails. ``prlimit`` (util-linux) inside the sandbox sets the rlimits just before the
entrypoint, so they bind the job and not bwrap.

When the gateway runs as root, bwrap itself runs as a throw-away unprivileged uid: the job's
uid 65534 then maps to that uid on the host, so even an escape lands as nobody in particular,
and ``RLIMIT_NPROC`` (which the kernel never enforces for host root) counts the job's processes.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: Where the job finds things inside its sandbox.
FLIST = "/flist"
SCRATCH = "/scratch"
OUTPUT = "/output"
DATASET = "/dataset"
PATH = "/usr/local/bin:/usr/bin:/bin"
INSIDE_UID = 65534
#: Host uids for jobs when the gateway runs as root: far above any distribution's users.
JOB_UID_BASE = 1_900_000_000
JOB_UID_SPAN = 1 << 20

#: Host paths the job's programs need, bound read-only when they exist.
SYSTEM_DIRS = ("/usr", "/etc/alternatives", "/etc/ld.so.conf.d")
SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime")
#: Top-level links or directories of the host (merged /usr or not), mirrored as they are.
TOP_LEVEL = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")

PROBE_TIMEOUT = 10.0


class SandboxUnavailable(RuntimeError):
    """This machine cannot make the job sandbox; compute must not run the job at all."""


@dataclass(frozen=True)
class SandboxStatus:
    available: bool
    reason: str  # why not, or what the sandbox is made of
    bwrap: str | None = None
    prlimit: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"name": "compute sandbox", "ok": self.available, "detail": self.reason}


def job_uid() -> int | None:
    """The host uid a job runs as: a fresh unprivileged one when we are root, else our own."""
    return JOB_UID_BASE + secrets.randbelow(JOB_UID_SPAN) if os.geteuid() == 0 else None


def system_binds() -> list[str]:
    args: list[str] = []
    for top in TOP_LEVEL:
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in SYSTEM_DIRS + SYSTEM_FILES:
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    return args


@dataclass(frozen=True)
class Mounts:
    """Open ``O_PATH`` descriptors of what the job sees, so bwrap (maybe as another uid) binds
    them without walking paths it may not search, and nothing can swap a path in between."""

    flist: int
    output: int | None = None
    dataset: int | None = None

    def fds(self) -> tuple[int, ...]:
        return tuple(fd for fd in (self.flist, self.output, self.dataset) if fd is not None)


def open_path(path: Path) -> int:
    return os.open(path, os.O_PATH | os.O_CLOEXEC)


@dataclass(frozen=True)
class RLimits:
    cpu_seconds: int
    memory_bytes: int
    file_bytes: int
    processes: int
    open_files: int

    def prlimit_args(self) -> list[str]:
        # soft CPU limit sends SIGXCPU, the hard one a second later SIGKILL
        return [
            f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 1}",
            f"--as={self.memory_bytes}",
            f"--fsize={self.file_bytes}",
            f"--nproc={self.processes}",
            f"--nofile={self.open_files}",
            "--core=0",
        ]


def command(
    bwrap: str,
    prlimit: str,
    program: list[str],
    *,
    mounts: Mounts,
    scratch_bytes: int,
    limits: RLimits,
    env: dict[str, str],
    status_fd: int | None = None,
) -> list[str]:
    """The bwrap command line that runs ``program`` (paths as the sandbox sees them)."""
    args = [
        bwrap,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--uid",
        str(INSIDE_UID),
        "--gid",
        str(INSIDE_UID),
        "--hostname",
        "job",
        "--clearenv",
    ]
    if status_fd is not None:
        args += ["--json-status-fd", str(status_fd)]
    args += system_binds()
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--size",
        str(scratch_bytes),
        "--perms",
        "0700",
        "--tmpfs",
        SCRATCH,
        "--symlink",
        SCRATCH,
        "/tmp",
        "--ro-bind-fd",
        str(mounts.flist),
        FLIST,
    ]
    if mounts.output is not None:
        args += ["--bind-fd", str(mounts.output), OUTPUT]
    if mounts.dataset is not None:
        args += ["--ro-bind-fd", str(mounts.dataset), DATASET]
    # everything not mounted above is the sandbox's own root tmpfs: make it (and /dev) read-only
    args += ["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", FLIST]
    for name, value in {"PATH": PATH, **env}.items():
        args += ["--setenv", name, value]
    return [*args, "--", prlimit, *limits.prlimit_args(), "--", *program]


def probe(bwrap: str | None = None, prlimit: str | None = None) -> SandboxStatus:
    """Make one trivial sandbox, exactly as a job's (minus the mounts of a job), and say why not."""
    bwrap = bwrap or shutil.which("bwrap")
    if bwrap is None or not os.access(bwrap, os.X_OK):
        return SandboxStatus(
            False,
            "bubblewrap (bwrap) is not installed: apt-get install "
            "bubblewrap, or run `make run`, which installs it",
        )
    prlimit = prlimit or shutil.which("prlimit", path=PATH)
    if prlimit is None or not prlimit.startswith("/usr/"):
        return SandboxStatus(False, "prlimit (util-linux) is not installed under /usr", bwrap)
    true = shutil.which("true", path=PATH)
    if true is None:
        return SandboxStatus(False, "no `true` program to probe the sandbox with", bwrap, prlimit)
    uid = job_uid()
    with _empty_dir() as empty:
        fd = open_path(empty)
        argv = command(
            bwrap,
            prlimit,
            [true],
            mounts=Mounts(fd),
            scratch_bytes=1 << 20,
            limits=RLimits(5, 256 << 20, 1 << 20, 16, 64),
            env={},
        )
        try:
            done = subprocess.run(
                argv,
                capture_output=True,
                timeout=PROBE_TIMEOUT,
                check=False,
                stdin=subprocess.DEVNULL,
                user=uid,
                group=uid,
                pass_fds=(fd,),
                extra_groups=[] if uid is not None else None,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            return SandboxStatus(False, f"bwrap could not run: {exc}", bwrap, prlimit)
        finally:
            os.close(fd)
    if done.returncode != 0:
        why = done.stderr.decode(errors="replace").strip().splitlines()
        return SandboxStatus(
            False,
            "bwrap cannot make a sandbox here (user namespaces off?): "
            + (why[-1] if why else f"exit {done.returncode}"),
            bwrap,
            prlimit,
        )
    version = subprocess.run(
        [bwrap, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    who = f"host uid {JOB_UID_BASE}+" if uid is not None else f"host uid {os.geteuid()}"
    return SandboxStatus(
        True,
        f"{version or 'bwrap'}: user/mount/pid/net/ipc/uts namespaces, "
        f"uid {INSIDE_UID} inside ({who})",
        bwrap,
        prlimit,
    )


@contextlib.contextmanager
def _empty_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="credgate-probe-") as tmp:
        path = Path(tmp)
        path.chmod(0o755)  # the job's uid binds it
        yield path
