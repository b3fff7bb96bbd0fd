"""Headless Chromium driven over the DevTools protocol (aiohttp's websocket client), for the tests
of every page people use: open a page, fill and submit forms, upload a file, evaluate
JavaScript, wait for a condition, read cookies, take a screenshot. A fresh profile, background
networking off (it talks only to loopback); every step is bounded.

Tests get a browser only through the ``chromium`` fixture (tests/conftest.py), which finds the
executable here, skips when there is none, and fails instead under ``CI=true``."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Any

import aiohttp

from tests.support.waits import eventually

STEP_TIMEOUT = 20.0
MISSING = (
    "Chromium is not installed. `make test` installs Debian's package when run as root with "
    "apt-get; otherwise install it (apt-get install chromium) or set CHROMIUM=/path/to/chromium."
)


def find_chromium() -> str | None:
    """The browser to drive: $CHROMIUM if set, else `chromium` on PATH (Debian's package)."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("chromium")


class Chromium:
    def __init__(self, executable: str, window_size: str = "1100,900") -> None:
        self.profile = tempfile.mkdtemp(prefix="credgate-chromium-")
        self.process = subprocess.Popen(
            [
                executable,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
                "--disable-default-apps",
                "--no-default-browser-check",
                f"--user-data-dir={self.profile}",
                "--remote-debugging-port=0",
                f"--window-size={window_size}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ids = iter(range(1, 1_000_000))
        self.http: aiohttp.ClientSession | None = None
        self.ws = None
        try:
            self._run(self._connect(self._port()))
        except BaseException:
            self.close()
            raise

    def _port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"

        def written() -> str:
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            return marker.read_text().strip() if marker.exists() else ""

        found = eventually(written, STEP_TIMEOUT, 0.1, what="chromium's DevTools port")
        return int(found.split()[0])

    async def _connect(self, port: int) -> None:
        self.http = aiohttp.ClientSession()
        async with self.http.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t["type"] == "page")
        self.ws = await self.http.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)

    def _run(self, coroutine, timeout: float = STEP_TIMEOUT):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        message_id = next(self.ids)
        await self.ws.send_json({"id": message_id, "method": method, "params": params})
        while True:  # events are not needed: skip them
            message = json.loads((await self.ws.receive()).data)
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._run(self._send(method, params))

    def open(self, url: str) -> None:
        self._mark_old_page()
        self.send("Page.navigate", url=url)
        self._loaded()

    def _mark_old_page(self) -> None:
        self.eval("window.__old = true")

    def _loaded(self) -> None:
        """The next page is there: the marker set on the old one is gone, and it has loaded."""
        self.wait("window.__old === undefined && document.readyState === 'complete'")

    def click(self, selector: str) -> None:
        """Click what submits a form, and wait for the next page."""
        self._mark_old_page()
        self.eval(f"document.querySelector({json.dumps(selector)}).click()")
        self._loaded()

    def fill(self, selector: str, value: str) -> None:
        self.eval(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    def submit(self, selector: str, values: dict[str, str], button: str | None = None) -> None:
        """Fill the form's named fields and click its (or the named) submit button."""
        script = [f"const f = document.querySelector({json.dumps(selector)});"]
        for name, value in values.items():
            script.append(f"f.elements[{json.dumps(name)}].value = {json.dumps(value)};")
        click = (
            f"f.querySelector({json.dumps(button)})"
            if button
            else ("f.querySelector('button[type=submit]')")
        )
        self._mark_old_page()
        self.eval("\n".join([*script, f"{click}.click();"]))
        self._loaded()

    def upload(self, selector: str, path: Path) -> None:
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = STEP_TIMEOUT) -> None:
        try:  # a RuntimeError: the page is navigating
            eventually(lambda: self.eval(expression), timeout, ignoring=(RuntimeError,))
        except AssertionError:
            raise AssertionError(f"{expression} never held; page: {self.text()[:500]}") from None

    def arrive(self, url: str, timeout: float = STEP_TIMEOUT) -> None:
        """Wait until the page at ``url`` has loaded (the URL changes before the body is there)."""
        self.wait(
            f"location.href === {json.dumps(url)} && document.readyState === 'complete'", timeout
        )

    def text(self) -> str:
        try:
            return self.eval("document.body ? document.body.innerText : ''") or ""
        except RuntimeError:
            return ""

    def cookies(self) -> list[dict[str, Any]]:
        return self.send("Network.getAllCookies")["cookies"]

    def screenshot(self, path: Path, *, full_page: bool = False) -> Path:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=full_page)
        path.write_bytes(base64.b64decode(data["data"]))
        return path

    def close(self) -> None:
        try:
            if self.ws is not None:
                self._run(self.ws.close(), timeout=5)
            if self.http is not None:
                self._run(self.http.close(), timeout=5)
        except Exception:  # closing is best effort; the process is killed below anyway
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        shutil.rmtree(self.profile, ignore_errors=True)
