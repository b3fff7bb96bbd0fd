"""Stalled clients cannot starve the embedded servers: connections that announce a body and never
send it are closed after the read timeout, the server answers others meanwhile, and connections
beyond the limit are refused at once with a 503 instead of each taking a thread."""

from __future__ import annotations

import socket
import time

import requests
from flask import Flask

from credgate.problems import json_body
from credgate.serving import serve

STALLED = 50
TIMEOUT = 1.0


def _app() -> Flask:
    app = Flask("stalled")

    @app.post("/echo")
    def echo():
        return {"body": json_body()}

    @app.get("/ping")
    def ping():
        return {"ok": True}

    return app


def _stall(port: int) -> socket.socket:
    """A connection that promises 1,000 bytes of body and sends none."""
    conn = socket.create_connection(("127.0.0.1", port), timeout=10)
    conn.sendall(
        b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1000\r\n\r\n"
    )
    return conn


def _closed_by_server(conn: socket.socket, within: float) -> bool:
    """Whether the server ends the connection (EOF or reset) within ``within`` seconds."""
    conn.settimeout(0.1)
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if conn.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except ConnectionError:
            return True
    return False


def test_stalled_bodies_do_not_block_others_and_are_closed_after_the_timeout():
    server = serve(_app(), read_timeout=TIMEOUT)
    stalled = []
    try:
        stalled = [_stall(server.port) for _ in range(STALLED)]
        started = time.monotonic()
        answer = requests.get(f"{server.url}/ping", timeout=2)
        assert answer.status_code == 200 and time.monotonic() - started < 2
        # each stalled connection is let go once its read times out (and any answer is sent)
        assert all(_closed_by_server(conn, within=TIMEOUT * 3 + 2) for conn in stalled)
        answer = requests.post(f"{server.url}/echo", json={"a": 1}, timeout=2)
        assert answer.json() == {"body": {"a": 1}}
    finally:
        for conn in stalled:
            conn.close()
        server.stop()


def test_connections_beyond_the_limit_are_refused_at_once():
    server = serve(_app(), read_timeout=5, max_connections=4)
    stalled = []
    try:
        stalled = [_stall(server.port) for _ in range(4)]
        time.sleep(0.2)  # the four are accepted and hold their threads
        started = time.monotonic()
        refused = requests.get(f"{server.url}/ping", timeout=2)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.json()["type"].endswith("/server-busy")
        assert time.monotonic() - started < 1
    finally:
        for conn in stalled:
            conn.close()
        server.stop()
