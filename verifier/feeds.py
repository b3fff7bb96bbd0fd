"""Following a change feed by long polling, to drop cached entries the moment they change.

Both feeds the verifier follows — the revocation service's status-list changes and KCIT's
company changes — share one contract: ``GET <url>?after=<seq>&wait=<s>`` answers
``{"changes": [{"seq": int, <key>: str, ...}], "last": int}``. Each change names the cached
entry to drop (a list URL, a DID). Any failure marks the feed unhealthy: the cache falls back to
its short TTL and forgets everything, since changes may have been missed, and the feed retries
after ``retry`` seconds.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

import requests

log = logging.getLogger(__name__)


class FeedTarget(Protocol):
    """A cache a feed keeps fresh: ``invalidate(None)`` drops everything."""

    feed_healthy: bool

    def invalidate(self, key: str | None = None) -> None: ...


class ChangeFeed:
    def __init__(
        self,
        url: str,
        key: str,
        target: FeedTarget,
        *,
        name: str,
        wait: float = 20.0,
        retry: float = 1.0,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url
        self.key = key
        self.target = target
        self.name = name
        self.wait = wait
        self.retry = retry
        self.last: int | None = None
        self._session = session or requests.Session()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def poll(self, wait: float) -> list[dict[str, Any]]:
        """One long poll; applies the changes and returns them."""
        after = self.last if self.last is not None else 0
        response = self._session.get(
            self.url, params={"after": after, "wait": wait}, timeout=(2.0, wait + 5.0)
        )
        response.raise_for_status()
        body = response.json()
        changes, last = body.get("changes"), body.get("last")
        if not isinstance(changes, list) or not isinstance(last, int):
            raise ValueError("malformed change feed answer")
        first_contact = self.last is None
        for change in changes:
            if isinstance(change, dict):
                self.apply(change)
        if first_contact:
            self.target.invalidate()  # what was cached before we followed the feed may be stale
        self.last = last
        if not self._stop.is_set():  # a poll answered after stop() leaves the target unhealthy
            self.target.feed_healthy = True
        return changes

    def apply(self, change: dict[str, Any]) -> None:
        """One change: drop the cached entry it names (a feed may know more, see subclasses)."""
        if isinstance(change.get(self.key), str):
            self.target.invalidate(change[self.key])

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll(0.0 if self.last is None else self.wait)
            except (requests.RequestException, ValueError) as exc:
                if self.target.feed_healthy:
                    log.warning("%s change feed lost: %s", self.name, exc)
                self.target.feed_healthy = False
                self.target.invalidate()
                self.last = None
                self._stop.wait(self.retry)

    def start(self) -> ChangeFeed:
        self._thread = threading.Thread(
            target=self.run, name=f"{self.name}-change-feed", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops following; the target is unhealthy at once (its short TTL). The thread ends at
        once between polls, or when the long poll in flight returns: a daemon, it is not waited
        for, since nothing cuts a long poll short (a caller would wait up to ``wait`` seconds)."""
        self._stop.set()
        self.target.feed_healthy = False
