"""The ``credgate`` command: up, down, status, token, migrate, serve.

Each command imports what it runs (the runner, the schema, the services) inside itself: importing
them all up front would make every command, ``credgate status`` or ``credgate wallet`` too, start
in about 6 s instead of 1 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import click
import requests

from credgate.config import load_settings
from credgate.state import clear_state, pid_alive, process_cmdline, read_state
from wallet.cli import wallet

HEALTH_TIMEOUT = 2.0
#: What the suite's supervisor says of each agent (state file): running or restarting, and restarts.
SUPERVISION = ("state", "restarts", "last_restart", "last_exit")
DOWN_TIMEOUT = 30.0


@click.group()
@click.option(
    "--var",
    "var_dir",
    envvar="CREDGATE_VAR",
    default="var",
    show_default=True,
    help="State directory (wallets, secrets, SQLite database, logs).",
)
@click.pass_context
def cli(ctx: click.Context, var_dir: str) -> None:
    """credgate: SSI onboarding, attorney credentials, software certification, verifier gateway."""
    ctx.obj = load_settings(var_dir)


@cli.command()
@click.option(
    "--port-base",
    type=int,
    default=8700,
    show_default=True,
    help="Services listen on port-base+1, +2, ... (another free port if taken); 0: all free.",
)
@click.option(
    "--timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="Seconds to wait for the agents to become ready.",
)
@click.pass_obj
def up(settings, port_base: int, timeout: float) -> None:
    """Start the agents and every service on loopback; Ctrl-C stops them all."""
    from suite.runner import Suite

    state = read_state(settings)
    if state and pid_alive(state.get("pid")):
        raise click.ClickException(
            f"the suite is already running (pid {state['pid']}); `credgate down` stops it"
        )
    click.echo(f"starting credgate in {settings.var_dir} ...")
    suite = Suite(settings, port_base=port_base)
    with _until_signalled() as stopping:
        try:
            suite.start(timeout=timeout)
            _print_urls(suite.describe(), suite.started_in or 0.0)
            while not stopping.wait(0.5):
                pass
            click.echo("stopping ...")
        finally:
            suite.stop()
    click.echo("stopped")


@contextlib.contextmanager
def _until_signalled() -> Iterator[threading.Event]:
    """An event that SIGINT or SIGTERM sets while inside; the earlier handlers come back after."""
    stopping = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stopping.set())
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _print_urls(state: dict[str, Any], started_in: float) -> None:
    from suite.runner import start_url

    click.echo(f"credgate is up ({started_in:.1f} s):")
    taken = state.get("ports_taken") or {}
    for name, url in state["services"].items():
        note = f"  (port {taken[name]} was taken)" if name in taken else ""
        click.echo(f"  {name:<11} {url}{note}")
    for name, agent in state["agents"].items():
        click.echo(f"  agent {name:<9} admin {agent['admin_url']}  didcomm {agent['endpoint']}")
    click.echo(
        "`credgate status` checks health, `credgate token` prints the operator API token; "
        "Ctrl-C or `credgate down` stops."
    )
    start = start_url(state)
    if start:
        click.echo(f"Start here: {start}  (every service's pages, linked)")


@cli.command()
@click.pass_obj
def down(settings) -> None:
    """Stop a running suite (its agents included)."""
    state = read_state(settings)
    if not state:
        click.echo("credgate is not running")
        return
    pid = state.get("pid")
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + DOWN_TIMEOUT
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    # The suite stops its agents itself; if it could not, do not leave them behind.
    for agent in state.get("agents", {}).values():
        agent_pid = agent.get("pid")
        # Check the command line: after a reboot the PID may belong to someone else.
        if pid_alive(agent_pid) and "aca-py" in process_cmdline(agent_pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(agent_pid, signal.SIGKILL)
    clear_state(settings)
    click.echo("credgate stopped")


def collect_status(settings) -> dict[str, Any]:
    state = read_state(settings)
    if not state:
        return {"running": False, "healthy": False, "services": {}, "agents": {}}
    services = {
        name: _probe(url + "/health") | {"url": url} for name, url in state["services"].items()
    }
    agents = {
        name: _probe(agent["admin_url"] + "/status/ready")
        | {"admin_url": agent["admin_url"], "endpoint": agent["endpoint"], "pid": agent["pid"]}
        | {key: agent.get(key) for key in SUPERVISION}
        for name, agent in state["agents"].items()
    }
    running = pid_alive(state.get("pid"))
    healthy = running and all(s["healthy"] for s in (*services.values(), *agents.values()))
    return {
        "running": running,
        "pid": state.get("pid"),
        "healthy": healthy,
        "services": services,
        "agents": agents,
    }


def _probe(url: str) -> dict[str, Any]:
    try:
        response = requests.get(url, timeout=HEALTH_TIMEOUT)
    except requests.RequestException as exc:
        return {"healthy": False, "error": type(exc).__name__}
    try:
        body = response.json()
    except ValueError:
        body = None
    healthy = response.status_code == 200 and (
        body.get("ready", True) if isinstance(body, dict) else False
    )
    return {"healthy": bool(healthy), "detail": body}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.pass_obj
def status(settings, as_json: bool) -> None:
    """Health of every service and agent; exit status 1 unless all are healthy."""
    report = collect_status(settings)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    elif not report["running"]:
        click.echo("credgate is not running")
    else:
        for kind in ("services", "agents"):
            for name, entry in report[kind].items():
                mark = "ok  " if entry["healthy"] else "DOWN"
                click.echo(
                    f"{mark} {kind[:-1]:<7} {name:<11} {entry.get('url') or entry['admin_url']}"
                    + _supervision(entry)
                )
                detail = entry.get("detail")
                for check in (detail.get("checks") if isinstance(detail, dict) else None) or []:
                    if isinstance(check, dict) and not check.get("ok"):  # e.g. no sandbox
                        click.echo(f"off  {check.get('name')}: {check.get('detail')}")
    sys.exit(0 if report["healthy"] else 1)


def _supervision(entry: dict[str, Any]) -> str:
    """``  restarting (exited with code -9)`` or ``  restarted 2x, last ...``; else nothing."""
    notes = []
    if entry.get("state") == "restarting":
        notes.append(f"restarting (exited with code {entry.get('last_exit')})")
    if entry.get("restarts"):
        notes.append(f"restarted {entry['restarts']}x, last at {entry.get('last_restart')}")
    return "  " + "; ".join(notes) if notes else ""


@cli.command()
@click.pass_obj
def token(settings) -> None:
    """Print the operator's admin API token (created at first start)."""
    from suite.runner import prepare

    click.echo(prepare(settings))


@cli.command()
@click.pass_obj
def migrate(settings) -> None:
    """Apply the database migrations (idempotent)."""
    from credgate.db import make_engine
    from suite.schema import migrate as run_migrations

    engine = make_engine(settings.database_url)
    try:
        run_migrations(engine)
    finally:
        engine.dispose()
    click.echo(f"database at head ({engine.url.render_as_string(hide_password=True)})")


@cli.command()
@click.argument("package")
@click.option("-m", "--message", required=True, help="what the migration does")
@click.pass_obj
def revision(settings, package: str, message: str) -> None:
    """Generate a migration for PACKAGE (into <package>/migrations) from its models' changes."""
    from credgate.db import make_engine
    from suite.schema import new_revision

    engine = make_engine(settings.database_url)
    try:
        click.echo(new_revision(engine, package, message))
    except ValueError as error:  # not a package with migrations: said as a usage error
        raise click.BadParameter(str(error), param_hint="PACKAGE") from None
    finally:
        engine.dispose()


@cli.command()
@click.argument("services", nargs=-1, required=True)
@click.option(
    "--bind",
    "binds",
    multiple=True,
    required=True,
    help="host:port to serve on; once per service, in the order the services are named.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Worker processes per service.",
)
@click.option(
    "--threads",
    type=click.IntRange(1, 1000),
    default=32,
    show_default=True,
    help="Threads per worker (server-sent event streams hold one each).",
)
@click.pass_obj
def serve(
    settings, services: tuple[str, ...], binds: tuple[str, ...], workers: int, threads: int
) -> None:
    """Run SERVICES as a node under gunicorn, against an existing (migrated) database and
    existing agents; see suite.node for the configuration. Ctrl-C stops."""
    import subprocess

    from suite.services import SERVICES

    unknown = [name for name in services if name not in SERVICES]
    if unknown:
        raise click.BadParameter(
            f"unknown service(s) {', '.join(unknown)}; one of {', '.join(SERVICES)}",
            param_hint="SERVICES",
        )
    if len(binds) != len(services):
        raise click.BadParameter("give one --bind per service", param_hint="--bind")
    import shutil
    import tempfile

    env = {**os.environ, "CREDGATE_VAR": str(settings.var_dir)}
    children = []
    scratch: list[str] = []
    for name, address in zip(services, binds, strict=True):
        # Each service's workers add up their metrics in a directory of its own, fresh at start.
        metrics_dir = tempfile.mkdtemp(prefix=f"credgate-metrics-{name}-")
        scratch.append(metrics_dir)
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            address,
            "--workers",
            str(workers),
            # Threads, so that long-polls and event streams do not take a whole process each.
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--graceful-timeout",
            "10",
            "--name",
            f"credgate-{name}",
            "--config",
            "python:credgate.metrics",  # its child_exit hook
            f'suite.node:create_app("{name}")',
        ]
        child_env = {"PROMETHEUS_MULTIPROC_DIR": metrics_dir, **env}
        children.append(subprocess.Popen(command, env=child_env))
        click.echo(f"  {name:<11} http://{address} ({workers} workers)")
    with _until_signalled() as stopping:
        try:
            while not stopping.wait(0.5):
                if any(child.poll() is not None for child in children):
                    break  # one service died: stop the node rather than serve half of it
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(DOWN_TIMEOUT)
                except subprocess.TimeoutExpired:
                    child.kill()
            for directory in scratch:
                shutil.rmtree(directory, ignore_errors=True)
    failed = [child.returncode for child in children if child.returncode not in (0, -15)]
    if failed and not stopping.is_set():
        raise click.ClickException("a service stopped; the node stopped with it")


cli.add_command(wallet)


def main() -> None:
    cli()
