"""What the reliability tests share."""

from __future__ import annotations

import time
from collections.abc import Callable


def eventually(predicate: Callable[[], object], timeout: float, what: str):
    """``predicate()``'s first truthy result, polled until ``timeout``; fails naming ``what``."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout:.0f} s"
        time.sleep(0.05)
    return result
