"""The wallet's phone screen in headless Chromium: create a wallet, scan by pasting a link and by
uploading a picture of a QR code, see who offers / asks for what, accept, share, decline, and the
credentials with their status. Screenshots go to ``$WALLET_SCREENSHOTS`` (or the test's tmp dir).

Chromium is driven over the DevTools protocol with aiohttp's websocket client (already installed
with ACA-Py), in a fresh profile, with background networking off: it talks only to loopback.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import requests

from tests import test_wallet_flows as flows
from tests.test_wallet_flows import (
    credential_for,
    login_request,
    offer_link,
    png_of,
    verifier_outcome,
)

# The flows' fixtures, used here by name: a wallet service with its own trust registry, an
# issuer it trusts and one it does not, short links, a status-list server.
service = flows.service
authority = flows.authority
stranger = flows.stranger
links = flows.links
status_server = flows.status_server

pytestmark = [pytest.mark.agents, pytest.mark.db]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
STEP_TIMEOUT = 20.0


class Browser:
    """One headless Chromium page, driven synchronously."""

    def __init__(self) -> None:
        self.profile = tempfile.mkdtemp(prefix="wallet-chromium-")
        self.process = subprocess.Popen(
            [
                CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--no-first-run",
                "--no-default-browser-check", "--metrics-recording-only",
                f"--user-data-dir={self.profile}", "--remote-debugging-port=0",
                "--window-size=430,1000", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.ids = iter(range(1, 1_000_000))
        try:
            self._run(self._connect(self._port()))
        except BaseException:
            self.close()
            raise

    def _port(self) -> int:
        marker = Path(self.profile) / "DevToolsActivePort"
        deadline = time.monotonic() + STEP_TIMEOUT
        while time.monotonic() < deadline:
            if marker.exists() and marker.read_text().strip():
                return int(marker.read_text().split()[0])
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.process.returncode}")
            time.sleep(0.1)
        raise TimeoutError("chromium did not open its DevTools port")

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
        while True:  # events are not needed here: skip them
            message = json.loads((await self.ws.receive()).data)
            if message.get("id") == message_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        return self._run(self._send(method, params))

    def eval(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, expression: str, timeout: float = STEP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self.eval(expression):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression} never held; page: {self.text()[:500]}")
            time.sleep(0.05)

    def goto(self, url: str) -> None:
        self.eval("window.__old = true")
        self.send("Page.navigate", url=url)
        self._loaded()

    def _loaded(self) -> None:
        self.wait("window.__old === undefined && document.readyState === 'complete'")

    def click(self, selector: str) -> None:
        """Click what submits a form, and wait for the next page."""
        self.eval("window.__old = true")
        self.eval(f"document.querySelector({json.dumps(selector)}).click()")
        self._loaded()

    def fill(self, selector: str, value: str) -> None:
        self.eval(f"document.querySelector({json.dumps(selector)}).value = {json.dumps(value)}")

    def upload(self, selector: str, path: Path) -> None:
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(path)])

    def text(self) -> str:
        return self.eval("document.body.innerText") or ""

    def screenshot(self, path: Path) -> None:
        data = self.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        path.write_bytes(base64.b64decode(data["data"]))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._run(self.ws.close(), timeout=2)
            self._run(self.http.close(), timeout=2)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(5)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip("chromium is not installed (apt-get install chromium)")
    browser = Browser()
    yield browser
    browser.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    target = Path(os.environ.get("WALLET_SCREENSHOTS") or tmp_path)
    target.mkdir(parents=True, exist_ok=True)
    return target


def test_phone_screen_end_to_end(
    browser,
    service,
    authority,
    stranger,
    links,
    suite,
    shots,
    tmp_path,
    status_server,
):
    home = f"{service}/wallet/"
    browser.goto(home)
    assert "Open your wallet" in browser.text()
    browser.screenshot(shots / "01-open.png")

    browser.fill("form[action$='/create'] input[name=name]", "fiona")
    browser.fill("form[action$='/create'] input[name=pin]", "2468")
    browser.fill("form[action$='/create'] input[name=pin_again]", "2468")
    browser.click("form[action$='/create'] button")
    assert "Wallet fiona created." in browser.text()

    # Scan by pasting a link: an offer whose claims try to inject markup.
    hostile = "<b>Evil</b><script>window.pwned = 1</script>"
    credential = credential_for(
        authority, status=status_server.entry("wallet-revocation", 4242), legalName=hostile
    )
    browser.fill("#scan-url", offer_link(links, authority, credential))
    browser.click("#scan")
    page = browser.text()
    assert "Onboarding Authority offers you OnboardingCredential" in page
    assert "trusted by the data space" in page and hostile in page  # shown as text
    assert browser.eval("window.pwned") is None
    assert browser.eval("document.querySelectorAll('script').length") == 0
    browser.screenshot(shots / "02-offer.png")
    browser.click("#accept")
    assert "Credential received and stored." in browser.text()

    browser.goto(home)
    page = browser.text()
    assert re.search(r"Credentials \(1\)\s+OnboardingCredential\s+valid", page), page
    assert "from Onboarding Authority" in page
    browser.screenshot(shots / "03-home.png")
    browser.click("a[href*='/wallet/credentials/']")
    page = browser.text()
    assert "valid" in page and authority.did in page and hostile in page
    browser.screenshot(shots / "03b-credential.png")
    browser.goto(home)

    # An offer from a stranger: a warning, and no accepting it without saying so.
    browser.fill("#scan-url", offer_link(links, stranger, credential_for(stranger)))
    browser.click("#scan")
    assert "Unknown issuer." in browser.text()
    browser.screenshot(shots / "04-unknown-issuer.png")
    browser.click("#accept")
    assert "Offer from an unknown issuer" in browser.text()
    browser.click("#decline")
    assert "Declined." in browser.text()

    # Log in by uploading a picture of the login page's QR code.
    role = credential_for(authority, "RoleCredential", roles=["DataConsumer"])
    browser.goto(home)
    browser.fill("#scan-url", offer_link(links, authority, role))
    browser.click("#scan")
    browser.click("#accept")
    pres_ex_id, link = login_request(suite, links)
    picture = tmp_path / "login.png"
    picture.write_bytes(png_of(link))
    browser.goto(home)
    browser.upload("#scan-image", picture)
    since = suite.hub.last_seq
    browser.click("#scan")
    page = browser.text()
    assert "credgate gateway (gateway.credgate.test) asks you to show Data consumer portal" in page
    assert "Why: Log in to find and buy data products." in page
    assert "RoleCredential valid" in page
    browser.screenshot(shots / "05-proof-request.png")
    browser.click("#share")
    assert "Shared." in browser.text()
    assert verifier_outcome(suite, pres_ex_id, since)["verified"] == "true"

    # Declining the next login: the verifier sees it fail at once.
    pres_ex_id, link = login_request(suite, links)
    browser.goto(home)
    browser.fill("#scan-url", link)
    browser.click("#scan")
    started = time.monotonic()
    browser.click("#decline")
    assert "Declined." in browser.text()
    assert verifier_outcome(suite, pres_ex_id, since, timeout=2.0)["state"] == "abandoned"
    assert time.monotonic() - started < 2.0

    # A used QR code, said plainly.
    used = offer_link(links, authority, credential_for(authority))
    requests.get(used, headers={"Accept": "application/json"}, timeout=5)
    browser.goto(home)
    browser.fill("#scan-url", used)
    browser.click("#scan")
    assert "QR code already used" in browser.text()
    browser.screenshot(shots / "06-used-code.png")

    browser.goto(f"{service}/wallet/history")
    page = browser.text()
    assert "proof request · credgate gateway" in page and "declined" in page
    browser.screenshot(shots / "07-history.png")


def test_cookie_and_csrf(service):
    session = requests.Session()
    page = session.get(f"{service}/wallet/", timeout=5)
    cookie = page.headers["Set-Cookie"]
    assert cookie.startswith("credgate_wallet_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    forged = session.post(f"{service}/wallet/open", data={"name": "fiona", "pin": "2468"})
    assert forged.status_code == 403
    assert forged.json()["type"].endswith("/csrf-failed")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    wrong = session.post(
        f"{service}/wallet/open", data={"name": "fiona", "pin": "0000", "csrf_token": token}
    )
    assert wrong.status_code == 401 and "Wrong wallet name or PIN" in wrong.text
