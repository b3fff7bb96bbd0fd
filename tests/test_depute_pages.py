"""Depute's and KCIT's pages in the running suite: the depute page signs in, authorises an
employee (QR code and link), escapes what admins typed, refuses forged forms, changes status and
exports the audit; then headless Chromium (driven over the DevTools pipe) walks the KCIT
registration and admin pages and the depute page and saves screenshots (``CREDGATE_SCREENSHOTS``
names a folder to keep them)."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from tests.issuer_wallet import operator_headers

pytestmark = [pytest.mark.agents, pytest.mark.db]

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = '<script>alert("x")</script>'
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def urls(suite):
    return {name: server.url for name, server in suite.servers.items()}


@pytest.fixture(scope="module")
def operator(settings, db):
    return operator_headers(settings, db)


@pytest.fixture(scope="module")
def company(urls, operator):
    """An identified, provisioned company."""
    registered = requests.post(f"{urls['kcit']}/kcit/registrations", json={
        "legalName": "Pages Nordic Data Oy",
        "legalRegistrationNumber": {"vatId": "FR40303265045"},
        "country": "FR",
        "representatives": [{"name": "Pia Pages", "email": "pia@nordic.example"}],
    }, timeout=10).json()  # fmt: skip
    requests.post(f"{urls['kcit']}/kcit/admin/companies/{registered['id']}/approve",
                  json={"roles": ["DataConsumer"], "powers": ["marketplace:read", "depute:admin"]},
                  headers=operator, timeout=10)  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        view = requests.get(f"{urls['depute']}/depute/api/companies/{registered['id']}",
                            headers=operator, timeout=10).json()  # fmt: skip
        if (view.get("provisioning") or {}).get("state") == "ready":
            return {**registered, **view}
        assert time.monotonic() < deadline, view
        time.sleep(0.1)


def csrf_of(text: str) -> str:
    match = CSRF.search(text)
    assert match, text[:500]
    return match.group(1)


def test_depute_page_authorises_escapes_and_needs_csrf(urls, operator, company):
    depute = urls["depute"]
    page_url = f"{depute}/depute/companies/{company['id']}"
    with requests.Session() as browser:
        login = browser.get(f"{depute}/depute/", timeout=10)
        assert "Sign in" in login.text and login.cookies.get("credgate_depute_session")
        wrong = browser.post(
            f"{depute}/depute/login",
            data={"token": "nope", "csrf_token": csrf_of(login.text)},
            timeout=10,
        )
        assert wrong.status_code == 401
        forged = browser.post(f"{depute}/depute/login",
                              data={"token": operator["Authorization"][7:], "csrf_token": "x"},
                              timeout=10)  # fmt: skip
        assert forged.status_code == 403
        home = browser.post(
            f"{depute}/depute/login",
            timeout=10,
            data={"token": operator["Authorization"][7:], "csrf_token": csrf_of(wrong.text)},
        )
        assert "Pages Nordic Data Oy" in home.text
        page = browser.get(page_url, timeout=10)
        token = csrf_of(page.text)
        assert "Pia Pages" in page.text and "pending" in page.text  # the bootstrap mandate

        authorise = f"{page_url}/authorise"
        data = {"name": f"Eve {XSS}", "email": "eve@nordic.example",
                "powers": ["marketplace:read"], "csrf_token": token}  # fmt: skip
        assert browser.post(authorise, data={**data, "csrf_token": "forged"},
                            timeout=10).status_code == 403  # fmt: skip
        created = browser.post(authorise, data=data, timeout=10)
        assert created.status_code == 201, created.text[:300]
        assert "<svg" in created.text and f"{urls['issuer']}/i/" in created.text
        assert XSS not in created.text and "Eve &lt;script&gt;" in created.text

        refused = browser.post(
            authorise, timeout=10, data={**data, "name": "Mallory", "powers": ["catalogue:publish"]}
        )
        assert refused.status_code == 403 and "may not delegate" in refused.text

        authorisation_id = re.search(r"/authorisations/([0-9a-f-]{36})/revoke", created.text)
        revoke = f"{page_url}/authorisations/{authorisation_id.group(1)}/revoke"
        assert browser.post(revoke, data={"csrf_token": "x", "reason": "r"},
                            timeout=10).status_code == 403  # fmt: skip
        done = browser.post(revoke, data={"csrf_token": token, "reason": f"no {XSS}"}, timeout=10)
        assert "now abandoned" in done.text  # revoked before delivery: the offer is withdrawn
        exported = browser.get(f"{page_url}/audit.csv", timeout=10)
        assert exported.headers["Content-Type"].startswith("text/csv")
        assert 'no <script>alert(""x"")</script>' in exported.text  # CSV-quoted, not markup
        browser.post(f"{depute}/depute/logout", data={"csrf_token": token}, timeout=10)
        after = browser.get(page_url, allow_redirects=False, timeout=10)
        assert after.status_code == 303


# -- headless Chromium -----------------------------------------------------------------------------


class Chromium:
    """Headless Chromium driven over ``--remote-debugging-pipe`` (fds 3 and 4, NUL-framed JSON)."""

    def __init__(self, profile: Path) -> None:
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--no-first-run", "--remote-debugging-pipe",
             f"--user-data-dir={profile}", "--window-size=1280,1000", "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._id = 0
        self._answers: dict[int, dict] = {}
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
                  page=True)  # fmt: skip

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_chrome, 65536)
            except OSError:
                return
            if not chunk:
                return
            buffer += chunk
            while b"\0" in buffer:
                raw, buffer = buffer.split(b"\0", 1)
                message = json.loads(raw)
                if "id" in message:
                    with self._cond:
                        self._answers[message["id"]] = message
                        self._cond.notify_all()

    def call(self, method: str, params: dict | None = None, *, page: bool = False) -> dict:
        with self._cond:
            self._id += 1
            ident = self._id
        message = {"id": ident, "method": method, "params": params or {}}
        if page:
            message["sessionId"] = self.session
        os.write(self._to_chrome, json.dumps(message).encode() + b"\0")
        with self._cond:
            assert self._cond.wait_for(lambda: ident in self._answers, 20), method
            answer = self._answers.pop(ident)
        assert "error" not in answer, answer
        return answer.get("result", {})

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression,
                                                "returnByValue": True}, page=True)  # fmt: skip
        return result.get("result", {}).get("value")

    def loaded(self, before: str | None = None, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.js("document.readyState") == "complete" and (
                    before is None or self.js("window.__marker") is None
                ):
                    return
            except AssertionError as exc:
                # Asked while the old page is torn down: the next look sees the new one.
                if "navigated or closed" not in str(exc) and "context" not in str(exc):
                    raise
            time.sleep(0.05)
        raise AssertionError("page did not load")

    def open(self, url: str) -> None:
        self.js("window.__marker = 1")
        self.call("Page.navigate", {"url": url}, page=True)
        self.loaded(before="marker")

    def submit(self, selector: str, values: dict[str, str], button: str | None = None) -> None:
        """Fill the form's fields and click its (or the named) submit button."""
        script = [f"const f = document.querySelector({json.dumps(selector)});"]
        for name, value in values.items():
            script.append(f"f.elements[{json.dumps(name)}].value = {json.dumps(value)};")
        click = f"f.querySelector({json.dumps(button)})" if button else (
            "f.querySelector('button[type=submit]')")  # fmt: skip
        script.append(f"window.__marker = 1; {click}.click();")
        self.js("\n".join(script))
        self.loaded(before="marker")

    def screenshot(self, path: Path) -> Path:
        height = self.js("document.documentElement.scrollHeight") or 1000
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": min(int(height), 4000), "deviceScaleFactor": 1,
                   "mobile": False}, page=True)  # fmt: skip
        data = self.call("Page.captureScreenshot", {"format": "png"}, page=True)["data"]
        path.write_bytes(base64.b64decode(data))
        return path

    def close(self) -> None:
        with contextlib.suppress(AssertionError, OSError):  # it may be gone already
            self.call("Browser.close")
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (apt-get install chromium)")
def test_pages_in_headless_chromium(urls, operator, company, tmp_path):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    browser = Chromium(tmp_path / "profile")
    try:
        kcit, depute = urls["kcit"], urls["depute"]
        browser.open(f"{kcit}/kcit/register")
        browser.submit("form", {"legalName": "Chromium Test AG", "country": "FR",
                                "vatId": "FR00000000000", "repName": f"Rex {XSS}",
                                "repEmail": "rex@example.org"})  # fmt: skip
        assert browser.js("document.querySelectorAll('.error').length") >= 1
        assert browser.js("document.querySelectorAll('script').length") == 0  # escaped
        browser.screenshot(shots / "kcit-register-errors.png")
        browser.submit("form", {"vatId": "FR40303265045"})
        assert "/kcit/register/" in browser.js("location.pathname")
        browser.screenshot(shots / "kcit-registration-followed.png")

        token = operator["Authorization"][7:]
        browser.open(f"{kcit}/kcit/admin")
        browser.submit("form", {"token": token})
        browser.open(f"{kcit}/kcit/admin?q=Chromium")
        assert "Chromium Test AG" in browser.js("document.body.innerText")
        browser.screenshot(shots / "kcit-admin-list.png")
        review = browser.js("document.querySelector('a[href*=\"/kcit/admin/review/\"]').href")
        browser.open(review)
        browser.screenshot(shots / "kcit-admin-review.png")
        browser.submit("form[action$='/approve']", {"reason": "documents checked"})
        assert "identified" in browser.js("document.body.innerText")
        browser.screenshot(shots / "kcit-admin-approved.png")

        browser.open(f"{depute}/depute/")
        browser.submit("form", {"token": token})
        browser.open(f"{depute}/depute/companies/{company['id']}")
        browser.js("document.querySelector('input[name=powers][value=\"marketplace:read\"]')"
                   ".checked = true")  # fmt: skip
        browser.submit("form[action$='/authorise']", {"name": "Chris Chromium",
                                                      "email": "chris@example.org"})  # fmt: skip
        assert browser.js("document.querySelectorAll('.qr svg').length") == 1
        browser.screenshot(shots / "depute-authorised.png")
    finally:
        browser.close()
    assert all(
        (shots / name).stat().st_size > 10_000
        for name in ("kcit-register-errors.png", "kcit-admin-review.png", "depute-authorised.png")
    )
