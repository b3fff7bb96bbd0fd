"""Serving a WSGI app on loopback in a background thread (used by ``credgate up`` and tests)."""

from __future__ import annotations

import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a line per request (the agents post webhooks constantly)."""

    def log_request(self, code="-", size="-") -> None:
        pass


class ServerThread:
    """A bound loopback server; the WSGI app may be given later (its URL is known at once)."""

    def __init__(self, app=None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server: BaseWSGIServer = make_server(
            host, port, app, threaded=True, request_handler=QuietHandler
        )
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, app=None) -> ServerThread:
        if app is not None:
            self.server.app = app
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def bind(port: int = 0, app=None) -> ServerThread:
    """A server bound to 127.0.0.1:``port``; 0 (or a busy preferred port) means any free one."""
    try:
        return ServerThread(app, port=port)
    except OSError:
        if port == 0:
            raise
        return ServerThread(app, port=0)


def serve(app, port: int = 0) -> ServerThread:
    return bind(port, app).start()
