"""Bounded waits and a test clock: how a test waits for what another thread or process does, and
how it makes time pass for code that caches by the clock.

A test polls instead of sleeping a fixed time: it goes on as soon as the condition holds, and when
the condition never holds it fails saying what it waited for and what it last saw. Code that keeps
something for a lifetime takes a ``clock`` (``time.monotonic`` by default); a test hands it a
:class:`Clock` and advances it instead of sleeping past the lifetime.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

__all__ = ["Clock", "eventually", "timed"]

#: Long enough for a loaded 2-core machine; a condition that holds returns at once anyway.
TIMEOUT = 10.0
INTERVAL = 0.05


def eventually[T](
    probe: Callable[[], T],
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    *,
    until: Callable[[T], Any] = bool,
    what: str | None = None,
    ignoring: tuple[type[BaseException], ...] = (),
) -> T:
    """``probe()``'s first value that ``until`` accepts (by default: the first truthy one), asked
    every ``interval`` seconds for at most ``timeout``; else an ``AssertionError`` naming ``what``
    and the last value seen. Exceptions of the ``ignoring`` types count as "not yet" (a page that
    is navigating, a server that is starting)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value: Any = probe()
        except ignoring as error:
            value = error
        else:
            if until(value):
                return value
        if time.monotonic() >= deadline:
            raise AssertionError(_not_within(what or _name(probe), timeout, value))
        time.sleep(interval)


def timed[T](probe: Callable[[], T], limit: float, **options: Any) -> tuple[float, T]:
    """``eventually(probe, ...)`` within ``limit`` seconds, and how long it took: for the tests
    that assert a change is seen within a bound ("refused within a second")."""
    began = time.monotonic()
    value = eventually(probe, limit, **{"interval": 0.02, **options})
    return time.monotonic() - began, value


class Clock:
    """A monotonic clock that moves only when told: pass it as the ``clock`` of the code under
    test, then ``advance`` past a lifetime instead of sleeping through it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def _name(probe: Callable[..., Any]) -> str:
    return getattr(probe, "__qualname__", None) or repr(probe)


def _not_within(what: str, timeout: float, last: Any) -> str:
    shown = repr(last)
    return f"{what}: not within {timeout:g} s (last seen: {shown[:500]})"
