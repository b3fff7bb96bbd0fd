"""Bounded fetches of small JSON documents (did:web DID documents, status-list credentials).

No redirects, a time limit and a size limit, so a hostile or slow server can neither point us
elsewhere nor hold a worker or its memory. Callers turn :class:`FetchError` into their own
verification error type.
"""

from __future__ import annotations

import json
from typing import Any

import requests


class FetchError(Exception):
    """The document could not be had; ``malformed`` when it arrived but is not JSON."""

    def __init__(self, reason: str, *, malformed: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.malformed = malformed


def fetch_json(
    session: requests.Session, url: str, *, accept: str, timeout: float, max_bytes: int
) -> Any:
    try:
        with session.get(
            url, timeout=timeout, stream=True, allow_redirects=False, headers={"Accept": accept}
        ) as response:
            if response.status_code != 200:
                raise FetchError(f"{url} answered {response.status_code}")
            body = response.raw.read(max_bytes + 1, decode_content=True)
    except requests.RequestException as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}") from None
    if len(body) > max_bytes:
        raise FetchError(f"{url}: document too large")
    try:
        return json.loads(body)
    except ValueError:
        raise FetchError(f"{url}: not JSON", malformed=True) from None
