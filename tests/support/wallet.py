"""What the wallet tests share: the ``credgate wallet`` command as a user types it, and the
issuer's and gateway's short links (``/i/<id>``) served on a loopback port.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from suite.cli import cli
from verifier.testing import LoopbackServer, QuietHandler

__all__ = ["ShortLinks", "wallet_runner"]


def wallet_runner(var_dir: Path, url: str) -> Callable[..., tuple[int, str]]:
    """``credgate wallet --url <url> ...`` with ``var_dir`` as its var/:
    ``run(*args, input=None)`` returns (exit code, output); an unexpected exception is raised,
    not hidden in the output."""

    def run(*args: str, input: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(
            cli, ["--var", str(var_dir), "wallet", "--url", url, *args], input=input
        )
        if result.exception and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.output

    return run


class ShortLinks(LoopbackServer):
    """``/i/<id>`` as the issuer and the gateway serve it: the invitation once (JSON, or a
    redirect to ``?oob=`` for anything else), 410 when used or expired, 404 when unknown."""

    def __init__(self) -> None:
        self.links: dict[str, dict[str, Any]] = {}
        links = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                status, headers, body = links.answer(self.path, self.headers.get("Accept", ""))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        super().__init__(Handler)
        self.start()

    def add(self, invitation: dict[str, Any], *, ttl: float = 120.0, redirect_to: str = "") -> str:
        short_id = secrets.token_urlsafe(8)
        self.links[short_id] = {
            "invitation": invitation,
            "expires": time.monotonic() + ttl,
            "used": False,
            "redirect": redirect_to,
        }
        return f"{self.url}/i/{short_id}"

    def answer(self, path: str, accept: str) -> tuple[int, dict[str, str], bytes]:
        link = self.links.get(path.removeprefix("/i/"))
        if link is None:
            return _problem(404, "invitation-not-found")
        if link["used"]:
            return _problem(410, "invitation-used")
        if time.monotonic() > link["expires"]:
            return _problem(410, "invitation-expired")
        link["used"] = True
        if "application/json" in accept and not link["redirect"]:
            body = json.dumps(link["invitation"]).encode()
            return 200, {"Content-Type": "application/json"}, body
        return 302, {"Location": link["redirect"]}, b""


def _problem(status: int, slug: str) -> tuple[int, dict[str, str], bytes]:
    body = {"type": f"https://w3id.org/credgate/problems/{slug}", "title": slug, "status": status}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()
