"""``credgate serve`` refuses what it cannot run before starting anything."""

from __future__ import annotations

from click.testing import CliRunner

from suite.cli import cli


def serve(tmp_path, *args: str):
    return CliRunner().invoke(cli, ["--var", str(tmp_path), "serve", *args])


def test_an_unknown_service_is_refused(tmp_path):
    result = serve(tmp_path, "nosuch", "--bind", "127.0.0.1:1")
    assert result.exit_code == 2 and "unknown service" in result.output


def test_one_bind_per_service(tmp_path):
    result = serve(tmp_path, "verifier", "revocation", "--bind", "127.0.0.1:1")
    assert result.exit_code == 2 and "one --bind per service" in result.output


def test_workers_are_bounded(tmp_path):
    result = serve(tmp_path, "verifier", "--bind", "127.0.0.1:1", "--workers", "0")
    assert result.exit_code == 2
