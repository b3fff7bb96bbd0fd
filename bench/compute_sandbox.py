"""bench/compute_sandbox: what the sandbox adds to a compute job's start-up, one run.

    PYTHONPATH=. python bench/compute_sandbox.py [--rounds 20]

The same flist (``python3 -c pass``-sized: it prints one line and exits) runs through the real
:class:`~apps.compute.executor.LocalExecutor` — unpack, bwrap with every namespace, prlimit, the
job's own uid, output check — and, as the peer in the same run, unpacked the same way and
started directly with the same rlimits, no sandbox. The two alternate round by round. The
unsandboxed runner exists only here: the service has no way to run a job without the sandbox.

Prints the median wall time of each (ms) and their ratio, as JSON on the last line.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from apps.compute.executor import Limits, LocalExecutor, entrypoint, unpack
from tests.support.software import flist

SCRIPT = "print('rows: 42')\n"


def unsandboxed(archive: Path, limits: Limits) -> str:
    """The peer: the same unpacking and rlimits, the program started directly."""

    def rlimits() -> None:
        cpu = int(limits.seconds) + 1
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))

    with tempfile.TemporaryDirectory(prefix="credgate-bench-") as tmp:
        root = Path(tmp) / "flist"
        root.mkdir()
        unpack(archive, root, limits)
        command = entrypoint(root)
        done = subprocess.run(
            command,
            cwd=root,
            env={"PATH": "/usr/bin:/bin"},
            check=True,
            capture_output=True,
            text=True,
            timeout=limits.seconds,
            preexec_fn=rlimits,
            start_new_session=True,
        )  # noqa: PLW1509
        return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args(argv)
    executor = LocalExecutor()
    if not executor.sandbox.available:
        print(f"no sandbox on this machine: {executor.sandbox.reason}", file=sys.stderr)
        return 1
    limits = Limits(seconds=10)
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "job.tar.gz"
        archive.write_bytes(flist(SCRIPT))
        sandboxed_ms, direct_ms = [], []
        for _ in range(args.rounds):
            began = time.perf_counter()
            result = executor.run(archive, dataset="d", purpose="p", limits=limits)
            sandboxed_ms.append((time.perf_counter() - began) * 1000)
            assert result.exit_code == 0 and "rows: 42" in result.stdout, result
            began = time.perf_counter()
            assert "rows: 42" in unsandboxed(archive, limits)
            direct_ms.append((time.perf_counter() - began) * 1000)
    sandboxed, direct = statistics.median(sandboxed_ms), statistics.median(direct_ms)
    print(
        f"job start-up to exit, median of {args.rounds}: sandboxed {sandboxed:.1f} ms, "
        f"unsandboxed {direct:.1f} ms, ratio {sandboxed / direct:.2f}x "
        f"(+{sandboxed - direct:.1f} ms) [{executor.sandbox.reason}]"
    )
    print(
        json.dumps(
            {
                "rounds": args.rounds,
                "sandboxed_ms": round(sandboxed, 2),
                "unsandboxed_ms": round(direct, 2),
                "ratio": round(sandboxed / direct, 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
