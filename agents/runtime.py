"""Starts, watches and stops the suite's ACA-Py agents as child processes.

Each agent gets free loopback ports, an askar SQLite wallet under ``<var>/agents/<name>``, its
log in ``<var>/agents/<name>/agent.log``, and secrets (admin API key, wallet key, JWT secret) that
are generated at first start and kept with 0600 permissions. Agents are started in their own
process group and die with the process that started them (``PR_SET_PDEATHSIG``), so neither a
crash nor Ctrl-C leaves an ``aca-py`` behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from agents.client import AdminClient
from credgate.config import Settings
from credgate.secrets import get_or_create_secret

#: One agent per role. Issuer and holder are multitenant (a tenant per company, certifier or wallet
#: user); the verifier agent only serves the gateway's QR logins, so it needs no tenants.
AGENT_NAMES = ("issuer", "holder", "verifier")
MULTITENANT = frozenset({"issuer", "holder"})

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40

# Flags every agent runs with. Connection requests on our own invitations are accepted and
# exchange records are kept, so that services can follow (and audit) each exchange.
COMMON_FLAGS = (
    "--no-ledger",
    "--auto-provision",
    "--auto-accept-requests",
    "--auto-ping-connection",
    "--preserve-exchange-records",
    "--plugin",
    "agents.acapy_plugin",
    "--log-level",
    "info",
)


class AgentStartError(RuntimeError):
    """An agent exited or did not become ready in time; the message ends with its log tail."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last lines of a log, preceded by any earlier error lines (argparse prints its error
    before a long traceback, which would push it out of the tail)."""
    try:
        all_lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return "(no log written)"
    head, tail = all_lines[:-lines], all_lines[-lines:]
    errors = [line for line in head if " error" in line.lower() or line.startswith("error")][:5]
    return (
        "\n".join([*errors, "..."] if errors else []) + ("\n" if errors else "") + "\n".join(tail)
    )


def acapy_command() -> list[str]:
    """The aca-py entry point of the running interpreter's environment."""
    script = Path(sys.executable).with_name("aca-py")
    if script.exists():
        return [str(script)]
    found = shutil.which("aca-py")
    if found:
        return [found]
    return [sys.executable, "-m", "acapy_agent"]


def _die_with_parent() -> None:
    # Linux: SIGTERM this child when the thread that started it exits, even on SIGKILL of it.
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@dataclass
class Agent:
    """One agent process and how to reach it."""

    name: str
    admin_url: str
    endpoint: str
    api_key: str
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def client(self) -> AdminClient:
        return AdminClient(self.admin_url, self.api_key)

    def describe(self) -> dict[str, object]:
        return {"admin_url": self.admin_url, "endpoint": self.endpoint, "pid": self.pid}


def agent_secrets(settings: Settings, name: str) -> dict[str, str]:
    """The agent's admin key, wallet key and JWT secret (created on first use, mode 0600)."""
    return {
        kind: get_or_create_secret(settings.secrets_dir, f"{name}.{kind}")
        for kind in ("admin-key", "wallet-key", "jwt-secret")
    }


def agent_env(secrets: dict[str, str], webhook_url: str) -> dict[str, str]:
    """Secrets go to the agent through its environment (readable by its owner only), never on
    the command line, which every local user can read in ``ps``."""
    return {
        "ACAPY_ADMIN_API_KEY": secrets["admin-key"],
        "ACAPY_WALLET_KEY": secrets["wallet-key"],
        "ACAPY_MULTITENANT_JWT_SECRET": secrets["jwt-secret"],
        "ACAPY_WEBHOOK_URL": f"[{webhook_url}]",
    }


def agent_args(name: str, *, inbound_port: int, admin_port: int) -> list[str]:
    endpoint = f"http://127.0.0.1:{inbound_port}"
    args = [
        "start",
        "--label", f"credgate-{name}",
        "--inbound-transport", "http", "127.0.0.1", str(inbound_port),
        "--outbound-transport", "http",
        "--endpoint", endpoint,
        "--admin", "127.0.0.1", str(admin_port),
        "--wallet-type", "askar",
        "--wallet-name", f"credgate-{name}",
        *COMMON_FLAGS,
    ]  # fmt: skip
    if name in MULTITENANT:
        config = {"wallet_type": "single-wallet-askar", "wallet_name": f"credgate-{name}-tenants"}
        args += ["--multitenant", "--multitenant-admin"]
        args += ["--multitenancy-config", json.dumps(config)]
    return args


class AgentRuntime:
    """The set of agents of one suite (one ``var`` directory)."""

    def __init__(self, settings: Settings, webhook_url_for, names: tuple[str, ...] = AGENT_NAMES):
        self.settings = settings
        self.webhook_url_for = webhook_url_for  # agent name -> --webhook-url
        self.names = names
        self.agents: dict[str, Agent] = {}

    def start(self, timeout: float = START_TIMEOUT, extra_args: dict[str, list[str]] | None = None):
        """Start every agent and wait until all are ready; on failure stop them all and raise."""
        try:
            for name in self.names:
                self.agents[name] = self._spawn(name, (extra_args or {}).get(name, []))
            deadline = time.monotonic() + timeout
            for agent in self.agents.values():
                wait_ready(agent, deadline)
        except BaseException:
            self.stop()
            raise
        return self.agents

    def _spawn(self, name: str, extra: list[str]) -> Agent:
        home = self.settings.agents_dir / name
        home.mkdir(parents=True, exist_ok=True)
        secrets = agent_secrets(self.settings, name)
        inbound, admin = free_port(), free_port()
        log_path = home / "agent.log"
        args = agent_args(name, inbound_port=inbound, admin_port=admin)
        env = dict(
            os.environ,
            ACAPY_HOME=str(home),
            PYTHONUNBUFFERED="1",
            **agent_env(secrets, self.webhook_url_for(name)),
        )
        with open(log_path, "ab") as log:
            process = subprocess.Popen(
                [*acapy_command(), *args, *extra],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # Ctrl-C reaches us; we stop agents in order
                preexec_fn=_die_with_parent,
            )
        return Agent(
            name=name,
            admin_url=f"http://127.0.0.1:{admin}",
            endpoint=f"http://127.0.0.1:{inbound}",
            api_key=secrets["admin-key"],
            log_path=log_path,
            process=process,
        )

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        for agent in self.agents.values():
            if agent.process and agent.process.poll() is None:
                _signal_group(agent.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for agent in self.agents.values():
            if agent.process is None:
                continue
            try:
                agent.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(agent.process.pid, signal.SIGKILL)
                agent.process.wait(5)


def wait_ready(agent: Agent, deadline: float) -> None:
    client = agent.client()
    while True:
        if agent.process and agent.process.poll() is not None:
            raise AgentStartError(
                f"agent {agent.name} exited with code {agent.process.returncode}; "
                f"log tail ({agent.log_path}):\n{log_tail(agent.log_path)}"
            )
        if client.is_ready(timeout=1.0):
            return
        if time.monotonic() > deadline:
            raise AgentStartError(
                f"agent {agent.name} not ready at {agent.admin_url}/status/ready in time; "
                f"log tail ({agent.log_path}):\n{log_tail(agent.log_path)}"
            )
        time.sleep(0.1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
