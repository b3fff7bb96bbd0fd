"""Starts, watches and stops the suite's ACA-Py agents as child processes.

Each agent gets free loopback ports, an askar wallet, its log in ``<var>/agents/<name>/agent.log``,
and secrets (admin API key, wallet key, JWT secret) that are generated at first start and kept with
0600 permissions. The wallet is an SQLite file under ``<var>/agents/<name>`` by default; when the
suite's ``DATABASE_URL`` is PostgreSQL it is askar's ``postgres_storage`` on that server instead, a
database per wallet (see :func:`wallet_storage`), so that an agent restarted elsewhere, or from
another ``var/`` holding the same wallet key, still has its wallets. Agents are started in their own
process group and die with the process that started them (``PR_SET_PDEATHSIG``), so neither a
crash nor Ctrl-C leaves an ``aca-py`` behind.

A supervisor thread per agent waits on its process. When an agent exits without being asked to,
it is started again with the same command line: the same ports (so the admin URL the services
hold stays valid), wallet, secrets and webhook URL. Restarts back off (0.5 s doubling to 10 s;
back to 0.5 s once the agent has stayed up for a minute), and each one is logged, written to the
agent's log and counted on its :class:`Agent` (``credgate status`` shows it).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agents.client import AdminClient
from credgate.config import Settings
from credgate.secrets import get_or_create_secret

log = logging.getLogger(__name__)

#: One agent per role. Issuer and holder are multitenant (a tenant per company, certifier or wallet
#: user); the verifier agent only serves the gateway's QR logins, so it needs no tenants.
AGENT_NAMES = ("issuer", "holder", "verifier")
MULTITENANT = frozenset({"issuer", "holder"})

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
LOG_TAIL_LINES = 40

#: Restart backoff: first delay, cap, and how long an agent must stay up to reset it.
RESTART_INITIAL = 0.5
RESTART_MAX = 10.0
HEALTHY_RESET = 60.0

# Agent states as ``credgate status`` shows them.
RUNNING, RESTARTING, STOPPED = "running", "restarting", "stopped"

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
    state: str = RUNNING
    restarts: int = 0
    last_restart: float | None = None  # wall-clock time the last restart became ready
    last_exit: int | None = None  # exit code of the last unexpected exit (-9: SIGKILL)
    # What _spawn ran, so that a restart runs exactly the same (ports, wallet, webhook URL).
    argv: list[str] = field(default_factory=list, repr=False)
    env: dict[str, str] = field(default_factory=dict, repr=False)
    ready_since: float | None = field(default=None, repr=False)  # monotonic

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def client(self) -> AdminClient:
        return AdminClient(self.admin_url, self.api_key)

    def describe(self) -> dict[str, object]:
        return {
            "admin_url": self.admin_url,
            "endpoint": self.endpoint,
            "pid": self.pid,
            "state": self.state,
            "restarts": self.restarts,
            "last_restart": _iso(self.last_restart),
            "last_exit": self.last_exit,
        }


def agent_secrets(settings: Settings, name: str) -> dict[str, str]:
    """The agent's admin key, wallet key and JWT secret (created on first use, mode 0600)."""
    return {
        kind: get_or_create_secret(settings.secrets_dir, f"{name}.{kind}")
        for kind in ("admin-key", "wallet-key", "jwt-secret")
    }


# -- wallet storage -----------------------------------------------------------------------------

#: ``auto`` (default): PostgreSQL wallets when DATABASE_URL is PostgreSQL; ``sqlite``: always files;
#: ``postgres``: PostgreSQL, and an error when DATABASE_URL is not.
WALLET_STORAGE_ENV = "AGENT_WALLET_STORAGE"
#: Per askar store (the multitenant agents open two: base wallet and tenants' wallet).
WALLET_MAX_CONNECTIONS = 5


@dataclass(frozen=True)
class WalletStorage:
    """askar ``postgres_storage`` on the suite's PostgreSQL server: one database per wallet."""

    address: str  # host:port, as askar wants it
    account: str
    password: str = field(repr=False)
    tag: str  # names this agent's databases (see wallet_tag)

    def database(self, name: str, part: str = "") -> str:
        """The database of agent ``name``'s wallet (``part="tenants"``: its tenants' wallet)."""
        return "_".join(filter(None, ("credgate", name, part, self.tag)))

    def config(self) -> str:
        return json.dumps(
            {
                "url": self.address,
                "max_connections": WALLET_MAX_CONNECTIONS,
                "connection_timeout": 10,
            }
        )

    def creds(self) -> str:
        # The account creates the databases (askar provisions one per wallet): CREATEDB needed.
        return json.dumps(
            {
                "account": self.account,
                "password": self.password,
                "admin_account": self.account,
                "admin_password": self.password,
            }
        )


def wallet_tag(wallet_key: str) -> str:
    """A short, one-way name for the wallet a key opens.

    Deriving the databases' names from the key (not from ``var/`` or the schema) is what lets an
    agent move: another ``var/`` holding the same key finds the same databases, and a fresh
    ``var/`` (a new key, e.g. each test run) gets fresh ones rather than someone else's.
    """
    return hashlib.sha256(b"credgate agent wallet\0" + wallet_key.encode()).hexdigest()[:12]


def wallet_databases(name: str, wallet_key: str) -> list[str]:
    """Every database agent ``name`` keeps its wallets in under postgres_storage."""
    storage = WalletStorage("", "", "", wallet_tag(wallet_key))
    parts = ("", "tenants") if name in MULTITENANT else ("",)
    return [storage.database(name, part) for part in parts]


def wallet_storage(database_url: str, wallet_key: str) -> WalletStorage | None:
    """PostgreSQL wallet storage when the suite's database is PostgreSQL, None for SQLite files.

    ``AGENT_WALLET_STORAGE`` overrides the choice (``sqlite`` or ``postgres``)."""
    choice = os.environ.get(WALLET_STORAGE_ENV, "auto").strip().lower() or "auto"
    if choice not in ("auto", "sqlite", "postgres"):
        raise ValueError(f"{WALLET_STORAGE_ENV} must be auto, sqlite or postgres, not {choice!r}")
    url = make_url(database_url)
    postgres = url.get_backend_name() == "postgresql"
    if choice == "postgres" and not postgres:
        raise ValueError(f"{WALLET_STORAGE_ENV}=postgres needs a PostgreSQL DATABASE_URL")
    if choice == "sqlite" or not postgres:
        return None
    return WalletStorage(
        address=f"{url.host or '127.0.0.1'}:{url.port or 5432}",
        account=url.username or "postgres",
        password=url.password or "",
        tag=wallet_tag(wallet_key),
    )


def drop_wallet_databases(database_url: str, names: list[str]) -> list[str]:
    """Drop the named wallet databases (those that exist) on the suite's PostgreSQL server, live
    connections and all; returns the names dropped. For tests and decommissioning only."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    dropped = []
    try:
        with engine.connect() as conn:
            for name in sorted(set(names)):
                found = conn.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if found:
                    quoted = name.replace('"', '""')
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{quoted}" WITH (FORCE)'))
                    dropped.append(name)
    finally:
        engine.dispose()
    return dropped


def agent_env(
    secrets: dict[str, str], webhook_url: str, storage: WalletStorage | None = None
) -> dict[str, str]:
    """Secrets go to the agent through its environment (readable by its owner only), never on
    the command line, which every local user can read in ``ps``."""
    env = {
        "ACAPY_ADMIN_API_KEY": secrets["admin-key"],
        "ACAPY_WALLET_KEY": secrets["wallet-key"],
        "ACAPY_MULTITENANT_JWT_SECRET": secrets["jwt-secret"],
        "ACAPY_WEBHOOK_URL": f"[{webhook_url}]",
    }
    if storage is not None:  # the database password is a secret too
        env["ACAPY_WALLET_STORAGE_CREDS"] = storage.creds()
    return env


def agent_args(
    name: str, *, inbound_port: int, admin_port: int, storage: WalletStorage | None = None
) -> list[str]:
    endpoint = f"http://127.0.0.1:{inbound_port}"
    args = [
        "start",
        "--label",
        f"credgate-{name}",
        "--inbound-transport",
        "http",
        "127.0.0.1",
        str(inbound_port),
        "--outbound-transport",
        "http",
        "--endpoint",
        endpoint,
        "--admin",
        "127.0.0.1",
        str(admin_port),
        "--wallet-type",
        "askar",
        *COMMON_FLAGS,
    ]
    # askar names a PostgreSQL wallet's database after the wallet.
    if storage is None:
        wallet, tenants = f"credgate-{name}", f"credgate-{name}-tenants"
    else:
        wallet, tenants = storage.database(name), storage.database(name, "tenants")
        args += ["--wallet-storage-type", "postgres_storage"]
        args += ["--wallet-storage-config", storage.config()]
    args += ["--wallet-name", wallet]
    if name in MULTITENANT:
        # The tenants' wallet inherits the storage type, config and creds of the base wallet.
        config = {"wallet_type": "single-wallet-askar", "wallet_name": tenants}
        args += ["--multitenant", "--multitenant-admin"]
        args += ["--multitenancy-config", json.dumps(config)]
    return args


class AgentRuntime:
    """The set of agents of one suite (one ``var`` directory), restarted when they crash.

    ``on_change(agent)`` is called (on the supervisor thread) whenever an agent goes down or comes
    back, e.g. to rewrite the suite's state file.
    """

    def __init__(
        self,
        settings: Settings,
        webhook_url_for,
        names: tuple[str, ...] = AGENT_NAMES,
        *,
        supervise: bool = True,
        on_change: Callable[[Agent], None] | None = None,
    ):
        self.settings = settings
        self.webhook_url_for = webhook_url_for  # agent name -> --webhook-url
        self.names = names
        self.supervise = supervise
        self.on_change = on_change
        self.agents: dict[str, Agent] = {}
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # a restart and stop() never interleave
        self._supervisors: list[threading.Thread] = []

    def start(self, timeout: float = START_TIMEOUT, extra_args: dict[str, list[str]] | None = None):
        """Start every agent and wait until all are ready; on failure stop them all and raise."""
        try:
            for name in self.names:
                self.agents[name] = self._spawn(name, (extra_args or {}).get(name, []))
            deadline = time.monotonic() + timeout
            for agent in self.agents.values():
                wait_ready(agent, deadline)
                agent.ready_since = time.monotonic()
        except BaseException:
            self.stop()
            raise
        if self.supervise:
            for agent in self.agents.values():
                thread = threading.Thread(
                    target=self._supervise,
                    args=(agent,),
                    name=f"agent-{agent.name}-supervisor",
                    daemon=True,
                )
                thread.start()
                self._supervisors.append(thread)
        return self.agents

    def _spawn(self, name: str, extra: list[str]) -> Agent:
        home = self.settings.agents_dir / name
        home.mkdir(parents=True, exist_ok=True)
        secrets = agent_secrets(self.settings, name)
        inbound, admin = free_port(), free_port()
        storage = wallet_storage(self.settings.database_url, secrets["wallet-key"])
        args = agent_args(name, inbound_port=inbound, admin_port=admin, storage=storage)
        env = dict(
            os.environ,
            ACAPY_HOME=str(home),
            PYTHONUNBUFFERED="1",
            **agent_env(secrets, self.webhook_url_for(name), storage),
        )
        agent = Agent(
            name=name,
            admin_url=f"http://127.0.0.1:{admin}",
            endpoint=f"http://127.0.0.1:{inbound}",
            api_key=secrets["admin-key"],
            log_path=home / "agent.log",
            argv=[*acapy_command(), *args, *extra],
            env=env,
        )
        agent.process = _launch(agent)
        return agent

    # -- supervision ---------------------------------------------------------------------------

    def _supervise(self, agent: Agent) -> None:
        """Wait on the agent's process; start it again whenever it exits unasked.

        Runs for the suite's lifetime: the restarted process dies with this thread
        (``PR_SET_PDEATHSIG``), which ends only when the suite stops.
        """
        delay = RESTART_INITIAL
        while not self._stopping.is_set():
            process = agent.process
            if process is None:
                return
            code = process.wait()
            if self._stopping.is_set():
                return
            if (
                agent.ready_since is not None
                and time.monotonic() - agent.ready_since >= HEALTHY_RESET
            ):
                delay = RESTART_INITIAL
            agent.state, agent.last_exit, agent.ready_since = RESTARTING, code, None
            log.warning(
                "agent %s exited with code %s; restarting in %.1f s", agent.name, code, delay
            )
            _note(agent, f"exited with code {code}; restarting in {delay:.1f} s")
            self._changed(agent)
            went_down = time.monotonic()
            while not self._stopping.wait(delay):
                delay = min(delay * 2, RESTART_MAX)
                if self._restart(agent):
                    took = time.monotonic() - went_down
                    log.warning(
                        "agent %s is back after %.1f s (restart %d, pid %s)",
                        agent.name,
                        took,
                        agent.restarts,
                        agent.pid,
                    )
                    _note(agent, f"restarted (restart {agent.restarts}) after {took:.1f} s")
                    self._changed(agent)
                    break

    def _restart(self, agent: Agent) -> bool:
        """One attempt: same command line, ready in time, or killed again (True once ready)."""
        with self._lock:
            if self._stopping.is_set():
                return False
            try:
                agent.process = _launch(agent)
            except OSError as exc:
                log.error("agent %s could not be started again: %s", agent.name, exc)
                return False
        try:
            wait_ready(agent, time.monotonic() + START_TIMEOUT, self._stopping)
        except AgentStartError as exc:
            log.error("agent %s restart failed: %s", agent.name, str(exc).splitlines()[0])
            _stop_process(agent.process, STOP_TIMEOUT)
            return False
        if self._stopping.is_set():
            return False
        agent.restarts += 1
        agent.last_restart = time.time()
        agent.ready_since = time.monotonic()
        agent.state = RUNNING
        return True

    def _changed(self, agent: Agent) -> None:
        if self.on_change is None:
            return
        try:
            self.on_change(agent)
        except Exception:  # a failed report must not end the supervision
            log.exception("agent %s: on_change failed", agent.name)

    # -- stop ----------------------------------------------------------------------------------

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        with self._lock:  # no restart starts after this
            self._stopping.set()
        for agent in self.agents.values():
            agent.state = STOPPED
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
        for thread in self._supervisors:
            thread.join(timeout)
        self._supervisors.clear()


def _launch(agent: Agent) -> subprocess.Popen:
    with open(agent.log_path, "ab") as log_file:
        return subprocess.Popen(
            agent.argv,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=agent.env,
            start_new_session=True,  # Ctrl-C reaches us; we stop agents in order
            preexec_fn=_die_with_parent,
        )


def _stop_process(process: subprocess.Popen | None, timeout: float) -> None:
    if process is None or process.poll() is not None:
        return
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(5)


def _note(agent: Agent, text: str) -> None:
    """A line in the agent's own log, so that a reader of it sees why the output starts again."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.suppress(OSError), open(agent.log_path, "a", encoding="utf-8") as fh:
        fh.write(f"{stamp} credgate: agent {agent.name} {text}\n")


def _iso(when: float | None) -> str | None:
    if when is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def wait_ready(agent: Agent, deadline: float, stopping: threading.Event | None = None) -> None:
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
        if stopping is not None and stopping.is_set():
            return
        time.sleep(0.1)


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, sig)
