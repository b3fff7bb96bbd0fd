"""The credgate command as a user runs it: up, status --json, token, down, Ctrl-C, a killed up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from credgate.config import load_settings
from credgate.state import pid_alive, read_state
from tests.support.waits import eventually

pytestmark = pytest.mark.agents

READY_TIMEOUT = 90.0


def credgate(var: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "suite", *args],
        env=_env(var),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["CREDGATE_VAR"] = str(var)
    return env


def start_up(var: Path) -> tuple[subprocess.Popen[str], dict]:
    """`credgate up`, then `credgate status --json` until healthy (bounded)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "suite", "up", "--port-base", "0"],
        env=_env(var),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )

    def running() -> None:
        if proc.poll() is not None:
            pytest.fail(f"credgate up exited with {proc.returncode}:\n{proc.stdout.read()}")

    def status() -> subprocess.CompletedProcess[str]:
        running()
        return credgate(var, "status", "--json")

    try:
        # Up's state file first, read here: each `credgate status` is a Python process of its
        # own, and asked twice a second they took CPU from the agents starting on two cores.
        settings = load_settings(var)
        eventually(lambda: running() or read_state(settings), READY_TIMEOUT, 0.1, what="up's state")
        healthy = eventually(
            status,
            READY_TIMEOUT,
            0.5,
            until=lambda found: found.returncode == 0,
            what="credgate status",
        )
    except AssertionError:
        proc.kill()
        raise
    return proc, json.loads(healthy.stdout)


def agent_pids(report: dict) -> list[int]:
    return [agent["pid"] for agent in report["agents"].values()]


def wait_gone(pids: list[int], timeout: float) -> None:
    eventually(
        lambda: [p for p in pids if pid_alive(p)],
        timeout,
        0.1,
        until=lambda alive: not alive,
        what="the agents' processes gone",
    )


def test_up_status_token_down(tmp_path):
    var = tmp_path / "var"
    proc, report = start_up(var)
    try:
        assert report["running"] and report["healthy"]
        assert set(report["services"]) == {
            "issuer",
            "revocation",
            "kcit",
            "depute",
            "wallet",
            "verifier",
        }
        assert set(report["agents"]) == {"issuer", "holder", "verifier"}
        for entry in report["services"].values():
            assert entry["healthy"] and entry["url"].startswith("http://127.0.0.1:")
            assert entry["detail"]["version"]
        assert all(agent["healthy"] for agent in report["agents"].values())

        again = subprocess.run(
            [sys.executable, "-m", "suite", "up"],
            env=_env(var),
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert again.returncode != 0 and "already running" in again.stderr

        token = credgate(var, "token").stdout.strip()
        assert len(token) >= 32 and credgate(var, "token").stdout.strip() == token
        assert (var / "secrets" / "operator-token").stat().st_mode & 0o777 == 0o600
    finally:
        down = credgate(var, "down", timeout=60)
    assert down.returncode == 0, down.stderr
    assert proc.wait(30) == 0
    output = proc.stdout.read()
    assert "credgate is up" in output and "/127.0.0.1:" in output
    wait_gone(agent_pids(report), 5)
    stopped = credgate(var, "status", "--json")
    assert stopped.returncode == 1 and json.loads(stopped.stdout)["running"] is False


def test_ctrl_c_stops_everything(tmp_path):
    proc, report = start_up(tmp_path / "var")
    proc.send_signal(signal.SIGINT)
    assert proc.wait(30) == 0
    assert "stopped" in proc.stdout.read()
    wait_gone(agent_pids(report), 5)
    assert not (tmp_path / "var" / "run" / "state.json").exists()


def test_a_killed_up_takes_its_agents_with_it(tmp_path):
    proc, report = start_up(tmp_path / "var")
    proc.kill()
    proc.wait(10)
    wait_gone(agent_pids(report), 15)
    # the stale state file does not block the next start
    status = credgate(tmp_path / "var", "status", "--json")
    assert json.loads(status.stdout)["running"] is False


def test_status_when_nothing_runs(tmp_path):
    result = credgate(tmp_path / "var", "status", "--json")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {
        "running": False,
        "healthy": False,
        "services": {},
        "agents": {},
    }
