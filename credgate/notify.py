"""Cross-request notifications: "something on channel X changed, re-read it".

State always lives in the database; a notification carries no data, only the name of a channel,
so a waiter that is woken re-reads its rows (by version or sequence number) and a lost or
duplicated notification can delay an answer by one poll, never change it.

Each channel has a process-wide :class:`~credgate.signals.Signal` (the wake-up counter). A waiter
notes :meth:`Notifier.generation` *before* reading the database and then calls
:meth:`Notifier.wait` (always bounded), so a change committed between the read and the wait is not
lost.

On SQLite (the embedded default: one process) publishing pokes the signal in this process. On
PostgreSQL it also sends ``NOTIFY credgate_events, '<channel>'`` (inside the caller's transaction
when given one, so it is delivered only if it commits), and one listener thread per process and
database (``LISTEN``, psycopg 3 ``notifies()``) pokes the local signals of whatever other nodes and
worker processes published. The listener reconnects with back-off; every (re)connect pokes every
channel, so waiters re-read and catch up on whatever was committed while nobody listened.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading

from sqlalchemy import Connection, Engine, event, func, select
from sqlalchemy.orm import Session, sessionmaker

from credgate.signals import Signal

LOGGER = logging.getLogger(__name__)

PG_CHANNEL = "credgate_events"
MAX_CHANNEL = 200  # NOTIFY payloads must stay under 8000 bytes; channel names are short
BACKOFF_MAX = 5.0


#: Names this process in its NOTIFY payloads (``"<origin> <channel>"``): its listener skips its own
#: notifications, whose waiters the commit already poked. The pid tells forked workers apart.
_BOOT = secrets.token_hex(4)


def origin() -> str:
    return f"{os.getpid()}.{_BOOT}"


def payload(channel: str) -> str:
    return f"{origin()} {channel}"


def heard(note: str) -> str | None:
    """The channel a NOTIFY payload names, or None when this process sent it."""
    sender, _, channel = note.partition(" ")
    if not channel:  # a payload without an origin names the channel alone
        return sender
    return None if sender == origin() else channel


_SIGNALS: dict[str, Signal] = {}
_SIGNALS_LOCK = threading.Lock()


def signal(channel: str) -> Signal:
    """This process's signal for ``channel`` (created on first use)."""
    with _SIGNALS_LOCK:
        found = _SIGNALS.get(channel)
        if found is None:
            found = _SIGNALS[channel] = Signal()
        return found


def poke_all() -> None:
    with _SIGNALS_LOCK:
        signals = list(_SIGNALS.values())
    for each in signals:
        each.poke()


class Listener(threading.Thread):
    """``LISTEN credgate_events`` on one database; pokes the named channel's signal."""

    def __init__(self, conninfo: str) -> None:
        super().__init__(name="credgate-notify-listener", daemon=True)
        self.conninfo = conninfo
        self._connected = threading.Event()
        self.stopping = threading.Event()
        self.pid = os.getpid()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def run(self) -> None:
        import psycopg

        backoff = 0.25
        while not self.stopping.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f"LISTEN {PG_CHANNEL}")
                    self._connected.set()
                    backoff = 0.25
                    poke_all()  # whatever committed while nobody listened: re-read it
                    while not self.stopping.is_set():
                        for note in conn.notifies(timeout=1.0):
                            channel = heard(note.payload)
                            if channel is not None:
                                signal(channel).poke()
            except psycopg.Error as exc:
                if not self.stopping.is_set():  # stopping: its database may be going away
                    LOGGER.warning("notification listener: %s; reconnecting", type(exc).__name__)
            finally:
                self._connected.clear()
            poke_all()  # waiters fall back to re-reading while we are away
            self.stopping.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)


class Notifier:
    """Publish and wait on channels of one database (see the module's docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.postgres = engine.dialect.name == "postgresql"
        self._listener: Listener | None = None
        self._lock = threading.Lock()

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, channel: str, session: Session | None = None) -> None:
        """Tell every waiter on ``channel``. With ``session``: when (and only if) it commits."""
        if len(channel) > MAX_CHANNEL:
            raise ValueError("channel name too long")
        if session is not None:
            event.listen(session, "after_commit", signal(channel).poke, once=True)
            if self.postgres:  # PostgreSQL delivers it to the listeners at commit
                session.execute(select(func.pg_notify(PG_CHANNEL, payload(channel))))
            return
        signal(channel).poke()
        if self.postgres:
            try:
                with self.engine.connect() as conn:
                    conn.execute(select(func.pg_notify(PG_CHANNEL, payload(channel))))
                    conn.commit()
            except Exception as exc:  # the change is committed; waiters elsewhere poll it
                LOGGER.warning("could not publish on %s: %s", channel, type(exc).__name__)

    # -- waiting ------------------------------------------------------------------------------

    def generation(self, channel: str) -> int:
        """Note this before reading the state a wait is about."""
        self.listen()
        return signal(channel).generation

    def wait(self, channel: str, seen: int, timeout: float) -> bool:
        """Block until ``channel`` moves past ``seen`` or ``timeout`` seconds pass."""
        self.listen()
        return signal(channel).wait(seen, timeout)

    @property
    def listening(self) -> bool:
        """Other processes' changes arrive as notifications (PostgreSQL, listener connected)."""
        listener = self._listener
        return listener is not None and listener.connected

    def listen(self) -> Listener | None:
        """The running listener (started on demand, also anew after a fork), None off
        PostgreSQL."""
        if not self.postgres:
            return None
        listener = self._listener
        if listener is not None and listener.is_alive() and listener.pid == os.getpid():
            return listener
        with self._lock:
            listener = self._listener
            if listener is None or not listener.is_alive() or listener.pid != os.getpid():
                url = self.engine.url.set(drivername="postgresql")
                listener = self._listener = Listener(url.render_as_string(hide_password=False))
                listener.start()
        return listener

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stopping.set()


_NOTIFIERS: dict[tuple[int, str], Notifier] = {}
_NOTIFIERS_LOCK = threading.Lock()


def stop_listeners() -> None:
    """Stop every listener of this process: before its databases are dropped (the end of a test
    session), so that none reports the lost connection or tries to reconnect."""
    with _NOTIFIERS_LOCK:
        notifiers = list(_NOTIFIERS.values())
    for notifier in notifiers:
        notifier.stop()


def notifier_for(bind: Engine | Connection | sessionmaker[Session]) -> Notifier:
    """The process's notifier for the database behind ``bind`` (one listener per database)."""
    found_bind = bind.kw["bind"] if isinstance(bind, sessionmaker) else bind
    engine: Engine = found_bind.engine  # an Engine's is itself; a Connection's, its engine
    key = (os.getpid(), engine.url.render_as_string(hide_password=False))
    with _NOTIFIERS_LOCK:
        found = _NOTIFIERS.get(key)
        if found is None:
            found = _NOTIFIERS[key] = Notifier(engine)
        return found
