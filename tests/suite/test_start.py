"""`credgate up`'s start page and its busy-port fallback.

The start page (``/`` of the issuer and every service with nothing of its own there, ``/start``
of all) links every service's pages; a taken preferred port (8701-8706 by default) moves the
service to a free one, and the URLs printed are the ones in use.
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest
import requests
from flask import Flask

from credgate.config import load_settings
from credgate.serving import bind
from suite.cli import _print_urls
from suite.runner import Suite, start_url
from suite.start import SERVICES, install, start_links
from tests.support.database import scratch_database

ALL_URLS = {s.name: f"http://127.0.0.1:{8701 + i}" for i, s in enumerate(SERVICES)}


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello"]


@pytest.fixture
def busy_port():
    """A loopback port someone else listens on."""
    with socket.create_server(("127.0.0.1", 0)) as sock:
        yield sock.getsockname()[1]


def test_a_taken_preferred_port_falls_back_to_a_free_one(busy_port):
    server = bind(busy_port, hello).start()  # werkzeug alone raised SystemExit here
    try:
        assert server.port != busy_port and server.fell_back
        assert server.requested_port == busy_port
        assert requests.get(server.url, timeout=5).text == "hello"
    finally:
        server.stop()


def test_a_free_preferred_port_is_used(busy_port):
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]
    server = bind(port, hello).start()
    try:
        assert server.port == port and not server.fell_back
    finally:
        server.stop()


@pytest.mark.db
def test_up_runs_a_service_whose_port_is_taken_elsewhere_and_says_where(
    busy_port, tmp_path, capsys
):
    """The suite's own machinery (no agents: KCIT drives none) with KCIT's preferred port taken."""
    port_base = busy_port - 1
    with scratch_database(tmp_path) as url:
        suite = Suite(
            load_settings(tmp_path / "var", url),
            port_base=port_base,
            agent_names=(),
            service_names=("kcit",),
        ).start(timeout=30)
        try:
            state = suite.describe()
            kcit = state["services"]["kcit"]
            assert kcit != f"http://127.0.0.1:{busy_port}"
            assert state["ports_taken"] == {"kcit": busy_port}
            assert requests.get(f"{kcit}/health", timeout=5).status_code == 200
            start = requests.get(f"{kcit}/start", timeout=5)
            assert start.status_code == 200 and f'href="{kcit}/kcit/register"' in start.text
            _print_urls(state, 1.0)
        finally:
            suite.stop()
    printed = capsys.readouterr().out
    assert f"kcit        {kcit}  (port {busy_port} was taken)" in printed
    assert f"Start here: {kcit}/start" in printed


def test_start_page_links_every_service_page():
    app = Flask("someservice")
    app.config["SERVICE_URLS"] = ALL_URLS
    install(app)
    client = app.test_client()
    for path in ("/", "/start"):
        page = client.get(path)
        assert page.status_code == 200 and page.mimetype == "text/html"
        html = page.get_data(as_text=True)
        for service in SERVICES:
            assert f'id="service-{service.name}"' in html
            for p in service.pages:
                assert f'href="{ALL_URLS[service.name]}{p.path}"' in html
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]


def test_a_service_keeps_its_own_home_and_gets_the_start_page_beside_it():
    app = Flask("gatewaylike")
    app.add_url_rule("/", "home", lambda: "my own home")
    app.config["SERVICE_URLS"] = ALL_URLS
    install(app)
    client = app.test_client()
    assert client.get("/").get_data(as_text=True) == "my own home"
    assert client.get("/start").status_code == 200


def test_start_page_escapes_what_it_shows_and_lists_only_running_services():
    app = Flask("someservice")
    app.config["SERVICE_URLS"] = {"issuer": 'http://x/"><script>alert(1)</script>'}
    install(app)
    html = app.test_client().get("/").get_data(as_text=True)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'id="service-issuer"' in html and 'id="service-kcit"' not in html
    assert [s.name for s in start_links({"kcit": "http://k/", "wallet": "http://w"})] == [
        "kcit",
        "wallet",
    ]
    assert start_links({"kcit": "http://k/"})[0].links[0].url == "http://k/kcit/register"


def test_start_url_prefers_the_issuer():
    assert start_url({"services": {"kcit": "http://k", "issuer": "http://i"}}) == "http://i/"
    assert start_url({"services": {"kcit": "http://k"}}) == "http://k/start"
    assert start_url({"services": {}}) is None


# -- the suite's own services ----------------------------------------------------------------------


@pytest.mark.agents
@pytest.mark.db
def test_the_issuer_and_gateway_serve_the_start_page(suite):
    urls = {name: server.url for name, server in suite.servers.items()}
    issuer_home = requests.get(urls["issuer"] + "/", timeout=10)  # answered 404 before
    assert issuer_home.status_code == 200
    for name, base in urls.items():
        assert f'href="{base}' in issuer_home.text, name
    gateway_start = requests.get(urls["verifier"] + "/start", timeout=10)
    assert gateway_start.status_code == 200 and gateway_start.text == issuer_home.text
    # The gateway keeps its own home (the login portals), which links the start page.
    gateway_home = requests.get(urls["verifier"] + "/", timeout=10)
    assert gateway_home.status_code == 200 and 'href="/start"' in gateway_home.text
    # Every page linked answers (a redirect to sign in counts), none is missing.
    for link in re.findall(r'<a href="([^"]+)"', issuer_home.text):
        response = requests.get(link, timeout=10, allow_redirects=False)
        assert response.status_code in (200, 302, 303), (link, response.status_code)


@pytest.mark.agents
@pytest.mark.db
def test_start_page_in_headless_chromium(suite, chromium, tmp_path):
    shots = Path(os.environ.get("CREDGATE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    issuer = suite.servers["issuer"].url
    browser = chromium(window_size="1280,900")
    try:
        browser.open(issuer + "/")
        assert "credgate: start here" in browser.text()
        assert browser.eval("document.querySelectorAll('section').length") == len(SERVICES)
        browser.screenshot(shots / "start-page.png", full_page=True)
        browser.click("#service-kcit a[href$='/kcit/register']")
        assert browser.eval("location.pathname") == "/kcit/register"
    finally:
        browser.close()
