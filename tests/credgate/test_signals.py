"""The wake-up signal: a poke wakes every waiter, a wait is bounded, and a poke that lands between
reading the state and waiting is not lost."""

from __future__ import annotations

import threading
import time

from credgate.signals import Signal


def later(delay: float, fn) -> threading.Thread:
    thread = threading.Thread(target=lambda: (time.sleep(delay), fn()), daemon=True)
    thread.start()
    return thread


def test_a_poke_wakes_every_waiter_at_once():
    signal, woken = Signal(), []
    seen = signal.generation
    waiters = [
        threading.Thread(target=lambda: woken.append(signal.wait(seen, 10.0))) for _ in range(3)
    ]
    for waiter in waiters:
        waiter.start()
    began = time.monotonic()
    later(0.1, signal.poke)
    for waiter in waiters:
        waiter.join(5.0)
    assert woken == [True, True, True]
    assert time.monotonic() - began < 2.0


def test_a_wait_is_bounded():
    signal = Signal()
    began = time.monotonic()
    assert signal.wait(signal.generation, 0.2) is False
    assert 0.15 < time.monotonic() - began < 2.0


def test_a_poke_before_the_wait_is_not_lost():
    signal = Signal()
    seen = signal.generation  # noted before reading the state ...
    signal.poke()  # ... which changes before the wait begins
    began = time.monotonic()
    assert signal.wait(seen, 10.0) is True
    assert time.monotonic() - began < 0.5


def test_poke_takes_and_ignores_arguments_as_an_event_listener():
    signal = Signal()
    seen = signal.generation
    signal.poke(object())
    assert signal.generation != seen


def test_wait_until_asks_again_after_each_poke_and_gives_up_at_its_timeout():
    signal, items, asked = Signal(), [], []

    def ready() -> bool:
        asked.append(len(items))
        return len(items) >= 2

    for delay in (0.05, 0.1):
        later(delay, lambda: (items.append(1), signal.poke()))
    assert signal.wait_until(ready, 10.0) is True
    assert asked[-1] == 2 and len(asked) <= 4  # woken by pokes, not polling

    began = time.monotonic()
    assert signal.wait_until(lambda: False, 0.2) is False
    assert 0.15 < time.monotonic() - began < 2.0
