"""Serving a WSGI app on loopback in a background thread (used by ``credgate up`` and tests).

Each connection gets a thread, but only so many at once (:data:`MAX_CONNECTIONS`; one more is
answered 503 and closed), and a socket timeout (:data:`READ_TIMEOUT`): a client that announces a
body and never sends it, or keeps an idle connection open, gives its thread back when it expires.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler

#: Seconds a connection may stay silent while the server waits to read from it.
READ_TIMEOUT = 10.0
#: Connections served at once by one server; the rest are refused at once, not queued.
MAX_CONNECTIONS = 256
#: Seconds between the serving loop's checks for a shutdown: the most ``stop`` waits for it
#: (werkzeug's default is half a second, paid by every server a test or ``credgate down`` stops).
POLL_INTERVAL = 0.1
#: A closing connection reads and drops what its client still sends (the rest of a body refused
#: before it was read) until the client closes, goes quiet this long, or :data:`LINGER_LIMIT`
#: passes: closing on unread bytes resets the connection, and the client loses the answer.
LINGER_QUIET = 1.0
LINGER_LIMIT = 10.0

_BUSY_BODY = (
    b'{"type": "https://w3id.org/credgate/problems/server-busy", "title": "Server busy", '
    b'"status": 503}'
)
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nConnection: close\r\n"
    b"Content-Type: application/problem+json\r\nContent-Length: %d\r\n\r\n%s"
) % (len(_BUSY_BODY), _BUSY_BODY)


class QuietHandler(WSGIRequestHandler):
    """Werkzeug's handler without a line per request (the agents post webhooks constantly)."""

    timeout = READ_TIMEOUT  # socketserver sets it on the accepted socket

    def log_request(self, code="-", size="-") -> None:
        pass


class BoundedServer(ThreadedWSGIServer):
    """Werkzeug's threaded server with at most ``max_connections`` connection threads."""

    def __init__(self, *args, max_connections: int = MAX_CONNECTIONS, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.slots = threading.BoundedSemaphore(max_connections)

    def process_request(self, request, client_address) -> None:
        if not self.slots.acquire(blocking=False):
            with contextlib.suppress(OSError):  # the client left already
                request.sendall(_BUSY)
            super().shutdown_request(request)  # no lingering on the accepting thread
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def shutdown_request(self, request) -> None:
        # Werkzeug drains a refused body too, but stops at the client's first 10 ms pause.
        linger(request)
        super().shutdown_request(request)


def linger(conn: socket.socket, quiet: float = LINGER_QUIET, limit: float = LINGER_LIMIT) -> None:
    """Half-close ``conn`` (the answer is complete) and drop what the client still sends, until
    it closes, stays quiet for ``quiet`` seconds, or ``limit`` seconds pass (a lingering close)."""
    with contextlib.suppress(OSError):  # a timeout or a client that left: close now
        conn.shutdown(socket.SHUT_WR)
        conn.settimeout(quiet)
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and conn.recv(1 << 20):
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

    def __init__(
        self,
        app=None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        read_timeout: float = READ_TIMEOUT,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        self.requested_port = port
        handler = type("Handler", (QuietHandler,), {"timeout": read_timeout})
        listener = listening_socket(host, port)
        try:
            # werkzeug serves a duplicate of the descriptor; ours is closed just below.
            self.server = BoundedServer(
                host,
                port,
                app,
                handler,
                fd=listener.fileno(),
                max_connections=max_connections,
            )
        finally:
            listener.close()
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(POLL_INTERVAL,), daemon=True
        )

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


def bind(port: int = 0, app=None, **limits) -> ServerThread:
    """A server bound to 127.0.0.1:``port``; 0 (or a busy preferred port) means any free one.

    ``limits``: ``read_timeout`` and ``max_connections`` of :class:`ServerThread`.
    """
    try:
        return ServerThread(app, port=port, **limits)
    except OSError:
        if port == 0:
            raise
        server = ServerThread(app, port=0, **limits)
        server.requested_port = port
        return server


def serve(app, port: int = 0, **limits) -> ServerThread:
    return bind(port, app, **limits).start()
