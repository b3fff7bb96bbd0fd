"""Serving a WSGI app on loopback in a background thread (used by ``credgate up`` and tests)."""

from __future__ import annotations

import socket
import threading

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a line per request (the agents post webhooks constantly)."""

    def log_request(self, code="-", size="-") -> None:
        pass


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening; OSError when the port is taken.

    Bound here rather than by werkzeug: its server reports a busy port by printing and calling
    ``sys.exit``, a SystemExit no caller can fall back from.
    """
    return socket.create_server((host, port), backlog=128)


class ServerThread:
    """A bound loopback server; the WSGI app may be given later (its URL is known at once).

    ``requested_port`` is the port asked for (0: any); :attr:`port` is the one it got.
    """

    def __init__(self, app=None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.requested_port = port
        listener = listening_socket(host, port)
        try:
            # werkzeug serves a duplicate of the descriptor; ours is closed just below.
            self.server: BaseWSGIServer = make_server(
                host, port, app, threaded=True, request_handler=QuietHandler,
                fd=listener.fileno(),
            )  # fmt: skip
        finally:
            listener.close()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def fell_back(self) -> bool:
        """A preferred port was asked for, and it was taken."""
        return self.requested_port != 0 and self.port != self.requested_port

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
        server = ServerThread(app, port=0)
        server.requested_port = port
        return server


def serve(app, port: int = 0) -> ServerThread:
    return bind(port, app).start()
