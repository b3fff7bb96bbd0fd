"""The one way credgate fetches a URL someone else gave it: status lists, did:web documents,
wallet invitation links and flist downloads.

A URL in a credential, a DID or a QR code is attacker input, so every fetch follows a
:class:`FetchPolicy`:

* hosts: only the allow-list (``host``, ``host:port`` or base URLs; the suite's own services by
  default). With ``public`` on, other hosts are fetched too, but only if *every* address their
  name resolves to is public: private, loopback, link-local, reserved, multicast, unspecified
  and IPv4-mapped forms of those are refused unless the host is allow-listed. The check runs
  when the socket is opened and the socket connects to an address that was checked, so a DNS
  answer that changes between check and connect (rebinding) gains nothing. No proxies from the
  environment, no redirects (a caller may follow a few hops, each checked again).
* a total deadline per fetch (connect and every read, enforced by a watchdog that shuts the
  socket, so a server that trickles a byte at a time is cut at the deadline) and a size cap;
* every transport failure becomes a :class:`FetchError` with a stable ``reason``; nothing the
  remote host answered (status text, body, which error) is echoed, and refused, reset and timed
  out connections read the same, so a fetch is no port or service oracle.
"""

from __future__ import annotations

import hashlib
import heapq
import ipaddress
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from credgate.signals import Signal

DEFAULT_DEADLINE = 5.0  # seconds for a whole fetch
DEFAULT_MAX_BYTES = 1024 * 1024
CHUNK = 64 * 1024

#: Stable reasons, and the only words about a failure that leave this module.
REASONS = {
    "bad-url": "not a usable http(s) URL",
    "not-allowed": "host not allowed",
    "unreachable": "unreachable or too slow",
    "http-error": "HTTP error",
    "redirect": "redirect not followed",
    "too-large": "too large",
    "malformed": "not JSON",
}


class FetchError(Exception):
    """A fetch failed; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    @property
    def malformed(self) -> bool:
        """It arrived, but is not what was asked for (callers report that as invalid)."""
        return self.reason == "malformed"

    def describe(self, what: str) -> str:
        return f"{what} could not be fetched ({REASONS.get(self.reason, self.reason)})"


# -- policy -------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _host_port(entry: str) -> tuple[str, int | None]:
    """``host``, ``host:port`` or a base URL -> (normalised host, port or None for any)."""
    text = entry.strip()
    parts = urlsplit(text if "://" in text else "//" + text)
    if not parts.hostname:
        raise ValueError(f"not a host or URL: {entry!r}")
    port = parts.port  # raises ValueError on a bad port
    if port is None and parts.scheme:
        port = _DEFAULT_PORTS.get(parts.scheme)
    return _normal_host(parts.hostname), port


def _normal_host(host: str) -> str:
    return host.lower().rstrip(".")


def is_public_address(address: str) -> bool:
    """Whether an IP address is one the public internet routes (not one of ours)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv6Address) and ip.sixtofour is not None:
        ip = ip.sixtofour
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
        or not ip.is_global
    )


class FetchPolicy:
    """Which hosts may be fetched (see the module docstring). ``allow`` entries are ``host``
    (any port), ``host:port`` or base URLs (their host and port; the path is not a limit)."""

    def __init__(self, allow: Iterable[str] = (), *, public: bool = False) -> None:
        self.public = public
        self._allowed: frozenset[tuple[str, int | None]] = frozenset()
        self._lock = threading.Lock()
        self.allow(*allow)

    def allow(self, *entries: str) -> FetchPolicy:
        """Add hosts to the allow-list (configuration, and tests' loopback servers)."""
        parsed = {_host_port(entry) for entry in entries if entry}
        with self._lock:
            self._allowed = self._allowed | parsed
        return self

    def allowed(self, host: str, port: int) -> bool:
        """The host is on the allow-list (then any address it resolves to is fine)."""
        host = _normal_host(host)
        allowed = self._allowed
        return (host, port) in allowed or (host, None) in allowed

    def permits(self, host: str, port: int) -> bool:
        """May a fetch of ``host:port`` be tried at all (before any DNS or connection)."""
        return self.public or self.allowed(host, port)

    def addresses(self, host: str, port: int, family: int = socket.AF_UNSPEC) -> list[tuple]:
        """The addresses to connect to; every one is checked unless the host is allow-listed."""
        if not self.permits(host, port):
            raise FetchError("not-allowed")
        try:
            infos = socket.getaddrinfo(host, port, family, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise FetchError("unreachable") from None
        if not infos:
            raise FetchError("unreachable")
        if not self.allowed(host, port) and not all(
            is_public_address(info[4][0]) for info in infos
        ):
            raise FetchError("not-allowed")
        return infos


def policy_from_config(
    config: Mapping[str, Any], *, overrides: Iterable[Mapping[str, str] | None] = ()
) -> FetchPolicy:
    """The fetch policy of a service: its suite's own services (``SERVICE_URLS``), the extra
    hosts of ``FETCH_ALLOW`` (a list, or a comma-separated string), the targets of the URL
    override maps (``DID_WEB_OVERRIDE``, ``STATUS_URL_OVERRIDE``: explicit configuration), and
    ``FETCH_PUBLIC`` (fetch public hosts besides; off by default)."""
    extra = config.get("FETCH_ALLOW") or ()
    if isinstance(extra, str):
        extra = [part for part in extra.split(",") if part.strip()]
    entries = [*(config.get("SERVICE_URLS") or {}).values(), *extra]
    for mapping in (config.get("DID_WEB_OVERRIDE"), config.get("STATUS_URL_OVERRIDE"), *overrides):
        entries.extend((mapping or {}).values())
    return FetchPolicy(entries, public=bool(config.get("FETCH_PUBLIC", False)))


# -- the deadline watchdog ------------------------------------------------------------------------


class _Watchdog:
    """One thread that shuts the sockets of fetches whose deadline passed, so a blocked read
    returns at once whatever the server does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._added = Signal()  # a deadline was added: it may be sooner than the one awaited
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, _Fetch] = {}
        self._ids = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, fetch: _Fetch) -> int:
        with self._lock:
            token = next(self._ids)
            self._live[token] = fetch
            heapq.heappush(self._heap, (fetch.deadline, token))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="fetch-deadline", daemon=True
                )
                self._thread.start()
        self._added.poke()
        return token

    def cancel(self, token: int) -> None:
        with self._lock:
            self._live.pop(token, None)

    def _run(self) -> None:
        while True:
            seen = self._added.generation  # before looking: a deadline added later wakes us
            for fetch in self._expired():
                fetch.expire()
            self._added.wait(seen, self._until_next())

    def _expired(self) -> list[_Fetch]:
        """The live fetches whose deadline has passed, taken off the heap."""
        now, due = time.monotonic(), []
        with self._lock:
            while self._heap and self._heap[0][0] <= now:
                _, token = heapq.heappop(self._heap)
                if (fetch := self._live.pop(token, None)) is not None:
                    due.append(fetch)
        return due

    def _until_next(self) -> float | None:
        """Seconds until the first deadline; None while there is none."""
        with self._lock:
            return self._heap[0][0] - time.monotonic() if self._heap else None


_watchdog = _Watchdog()
_current = threading.local()


class _Fetch:
    """One fetch in progress on this thread: its policy, deadline and open sockets."""

    def __init__(self, policy: FetchPolicy, deadline: float) -> None:
        self.policy = policy
        self.deadline = time.monotonic() + deadline
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise FetchError("unreachable")
        return left

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                sock.close()
                raise FetchError("unreachable")
            self._sockets.append(sock)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                with suppress(OSError):  # not connected yet, or already closed
                    sock.shutdown(socket.SHUT_RDWR)


class _PolicyConnectionMixin:
    """Opens the socket itself: resolve, check every address against the fetch's policy, and
    connect to a checked address within the fetch's deadline."""

    def _new_conn(self) -> socket.socket:
        fetch: _Fetch | None = getattr(_current, "fetch", None)
        if fetch is None:  # only our fetcher mounts this connection class
            raise FetchError("not-allowed")
        host, port = self._dns_host, self.port  # type: ignore[attr-defined]
        infos = fetch.policy.addresses(host, port)
        for family, kind, proto, _name, address in infos:
            sock = socket.socket(family, kind, proto)
            try:
                for option in self.socket_options or ():  # type: ignore[attr-defined]
                    sock.setsockopt(*option)
                sock.settimeout(fetch.remaining())
                fetch.add(sock)
                sock.connect(address)
                return sock
            except (OSError, FetchError):
                sock.close()
        raise FetchError("unreachable")


class _HTTPConnection(_PolicyConnectionMixin, HTTPConnection):
    pass


class _HTTPSConnection(_PolicyConnectionMixin, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _PolicyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


# -- the fetcher ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str


class Response:
    """An open response: status and headers, and the body as bounded chunks."""

    def __init__(self, response: requests.Response, fetch: _Fetch, max_bytes: int) -> None:
        self._response = response
        self._fetch = fetch
        self.max_bytes = max_bytes
        self.status: int = response.status_code
        self.headers: Mapping[str, str] = response.headers
        self.url: str = response.url

    def chunks(self) -> Iterator[bytes]:
        """The body as it arrives; raises :class:`FetchError` past the size cap or deadline."""
        declared = self.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError("too-large")
        raw, size = self._response.raw, 0
        while True:
            with _transport_errors(self._fetch):
                self._fetch.remaining()
                chunk = raw.read1(CHUNK, decode_content=False)
            if self._fetch.expired:  # the watchdog shut the socket: what came is cut short
                raise FetchError("unreachable")
            if not chunk:
                return
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchError("too-large")
            yield chunk

    def read(self) -> bytes:
        return b"".join(self.chunks())


@contextmanager
def _transport_errors(fetch: _Fetch) -> Iterator[None]:
    try:
        yield
    except FetchError:
        raise
    except Exception:
        # requests, urllib3 (ProtocolError, IncompleteRead...), http.client, socket and IDNA
        # errors all mean the same to a caller, and none of their text may reach it.
        raise FetchError("unreachable") from None


class Fetcher:
    """Fetches under a :class:`FetchPolicy`; one per service (it holds a connection pool)."""

    def __init__(
        self,
        policy: FetchPolicy | None = None,
        *,
        deadline: float = DEFAULT_DEADLINE,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.policy = policy if policy is not None else FetchPolicy()
        self.deadline = deadline
        self.max_bytes = max_bytes
        self.attempts = 0  # fetches that passed the policy's first check (tests, metrics)
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: it would skip our checks
        adapter = _PolicyAdapter(max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session

    @contextmanager
    def open(
        self,
        url: str,
        *,
        accept: str = "*/*",
        deadline: float | None = None,
        max_bytes: int | None = None,
        redirects: int = 0,
    ) -> Iterator[Response]:
        """An open response for ``url``. Up to ``redirects`` hops are followed, each checked
        like the first and all within the one deadline; a redirect beyond that is returned as
        it is (its status tells)."""
        fetch = _Fetch(self.policy, self.deadline if deadline is None else deadline)
        cap = self.max_bytes if max_bytes is None else max_bytes
        token = _watchdog.watch(fetch)
        previous = getattr(_current, "fetch", None)
        _current.fetch = fetch
        try:
            for hop in range(redirects + 1):
                response = self._request(fetch, url, accept)
                location = response.headers.get("Location")
                if hop < redirects and response.is_redirect and location:
                    response.close()
                    url = urljoin(url, location)
                    continue
                with response:
                    yield Response(response, fetch, cap)
                return
        finally:
            _current.fetch = previous
            _watchdog.cancel(token)

    def _request(self, fetch: _Fetch, url: str, accept: str) -> requests.Response:
        check_url(url, self.policy)
        self.attempts += 1
        remaining = fetch.remaining()
        with _transport_errors(fetch):
            response = self._session.get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(remaining, remaining),
                # Identity: the size cap counts the bytes as sent, and no decompression bomb.
                headers={"Accept": accept, "Accept-Encoding": "identity", "Connection": "close"},
            )
        if fetch.expired:
            response.close()
            raise FetchError("unreachable")
        return response

    def get(
        self,
        url: str,
        *,
        accept: str = "*/*",
        deadline: float | None = None,
        max_bytes: int | None = None,
        statuses: Iterable[int] | None = (200,),
    ) -> Fetched:
        """The whole (bounded) answer. A status outside ``statuses`` (None: any) is a
        ``redirect`` (never followed) or an ``http-error``, and its body is not read."""
        wanted = None if statuses is None else frozenset(statuses)
        with self.open(url, accept=accept, deadline=deadline, max_bytes=max_bytes) as response:
            if wanted is not None and response.status not in wanted:
                raise FetchError("redirect" if 300 <= response.status < 400 else "http-error")
            return Fetched(response.status, dict(response.headers), response.read(), url)

    def json(
        self,
        url: str,
        *,
        accept: str = "application/json",
        deadline: float | None = None,
        max_bytes: int | None = None,
    ) -> Any:
        body = self.get(url, accept=accept, deadline=deadline, max_bytes=max_bytes).body
        try:
            return json.loads(body)
        except ValueError:
            raise FetchError("malformed") from None


def check_url(url: object, policy: FetchPolicy | None = None) -> str:
    """``url`` if it is an http(s) URL (that ``policy`` permits), else a :class:`FetchError`."""
    if not isinstance(url, str) or len(url) > 4096:
        raise FetchError("bad-url")
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        host = parts.hostname
        if host:
            host.encode("idna")
    except (ValueError, UnicodeError):
        raise FetchError("bad-url") from None
    if parts.scheme not in _DEFAULT_PORTS or not host or parts.username or parts.password:
        raise FetchError("bad-url")
    if policy is not None and not policy.permits(host, port):
        raise FetchError("not-allowed")
    return url


def lock_stripe(key: str, stripes: int) -> int:
    """A stable stripe for ``key`` (bounded lock tables: one lock per stripe, not per key)."""
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=4).digest()) % stripes


class FetchLocks:
    """One fetch per key (a URL) at a time. Striped, not one lock per key: the keys come from
    credentials anyone can send."""

    def __init__(self, stripes: int = 64) -> None:
        self._locks = tuple(threading.Lock() for _ in range(stripes))

    def __len__(self) -> int:
        return len(self._locks)  # bounded, whatever the number of keys

    def fetch_once[T](self, key: str, fresh: Callable[[], T | None], fetch: Callable[[], T]) -> T:
        """What ``fresh()`` holds, else ``fetch()``: concurrent callers wait for the one fetch
        (bounded by its deadline) and then find it fresh, instead of stampeding the origin."""
        cached = fresh()
        if cached is not None:
            return cached
        with self._locks[lock_stripe(key, len(self._locks))]:
            cached = fresh()
            if cached is not None:
                return cached
            return fetch()


FETCH_POLICY = "credgate.fetch_policy"


def fetch_policy(app: Any) -> FetchPolicy:
    """A Flask app's one fetch policy, from its config (made on first use; tests allow their
    loopback servers on it). Duck-typed on ``app.extensions`` and ``app.config``, so this library
    needs no Flask."""
    policy = app.extensions.get(FETCH_POLICY)
    if policy is None:
        policy = app.extensions.setdefault(FETCH_POLICY, policy_from_config(app.config))
    return policy
