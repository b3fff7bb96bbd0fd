"""The one wake-up primitive: a generation counter that threads block on until it moves.

Wherever a thread must sleep until "something changed" (a change feed committed, a webhook
arrived, a list was signed, a fetch deadline was added), the writer changes its state and then
:meth:`Signal.poke`s; the waiter notes :attr:`Signal.generation` *before* reading that state and
then :meth:`Signal.wait`s on it, so a change made between the read and the wait is never lost
(the counter has already moved, and the wait returns at once). The state itself stays with its
owner, under the owner's own lock if it needs one; the signal only says "look again".

No Flask, no database: the library layer (``verifier``) uses it too.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Signal"]


class Signal:
    """A generation counter that waiters block on until it moves."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._generation = 0

    @property
    def generation(self) -> int:
        """Note this before reading the state a wait is about."""
        return self._generation

    def poke(self, *_: Any) -> None:
        """Wake every waiter. Takes and ignores arguments, so it can be an event listener."""
        with self._changed:
            self._generation += 1
            self._changed.notify_all()

    def wait(self, seen: int, timeout: float | None = None) -> bool:
        """True once the generation is no longer ``seen``; False after ``timeout`` seconds
        (None: no limit)."""
        limit = None if timeout is None else max(0.0, timeout)
        with self._changed:
            return self._changed.wait_for(lambda: self._generation != seen, limit)

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``ready()`` (asked again after every poke); False after ``timeout``
        seconds. ``ready`` runs outside the signal's lock: it may take its owner's."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            seen = self._generation
            if ready():
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.wait(seen, remaining)
