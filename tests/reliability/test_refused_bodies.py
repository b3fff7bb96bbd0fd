"""A body the server refuses before reading it (too large, unknown resource) still gets its
answer: the server drains what the client is still sending before it closes (a lingering
close), instead of closing with unread bytes, which resets the connection and loses the answer.
Werkzeug drains too, but stops at the first 10 ms pause: a client slowed by a loaded host (or a
slow link) lost its 413 to a reset (seen once in CI's fuzz run)."""

from __future__ import annotations

import http.client
import time
from collections.abc import Iterator

from flask import Flask, abort

from credgate.problems import json_body, register_problem_handlers
from credgate.serving import serve

BIG = 8 * 1024 * 1024
ROUNDS = 6
PAUSE = 0.03  # between a slow client's chunks: longer than werkzeug's 10 ms drain


def _app() -> Flask:
    app = Flask("refusing")
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    register_problem_handlers(app)

    @app.post("/read")
    def read():
        return {"body": json_body()}

    @app.post("/unknown")
    def unknown():
        abort(404)  # answered without reading the body

    return app


def _chunks(body: bytes, size: int = 256 * 1024, pause: float = 0.0) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]
        time.sleep(pause)


def _send(port: int, path: str, body: bytes, *, chunked: bool) -> int | str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        headers = {"Content-Type": "application/json"}
        if chunked:
            conn.request("POST", path, body=_chunks(body), headers=headers, encode_chunked=True)
        else:
            conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except (ConnectionError, http.client.HTTPException) as exc:
        return f"lost: {exc!r}"
    finally:
        conn.close()


def test_a_refused_body_gets_its_answer_not_a_reset():
    big = b'{"a": "' + b"x" * BIG + b'"}'
    server = serve(_app())
    try:
        answers = [
            (path, chunked, _send(server.port, path, big, chunked=chunked))
            for _ in range(ROUNDS)
            for path in ("/read", "/unknown")
            for chunked in (False, True)
        ]
    finally:
        server.stop()
    expected = {"/read": 413, "/unknown": 404}
    wrong = [answer for answer in answers if answer[2] != expected[answer[0]]]
    assert not wrong, wrong


def test_a_slow_client_refused_mid_body_gets_its_answer():
    body = b'{"a": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    server = serve(_app())
    try:
        answers = []
        for path in ("/read", "/unknown"):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request(
                    "POST",
                    path,
                    body=_chunks(body, pause=PAUSE),
                    headers={"Content-Type": "application/json"},
                    encode_chunked=True,
                )
                answers.append((path, conn.getresponse().status))
            except (ConnectionError, http.client.HTTPException) as exc:
                answers.append((path, f"lost: {exc!r}"))
            finally:
                conn.close()
    finally:
        server.stop()
    assert answers == [("/read", 413), ("/unknown", 404)]
