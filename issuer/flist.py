"""An flist's digests: sha256 (as ``urn:sha256:<hex>`` and SRI) and md5, from a URL or an upload.

A download is bounded in size and in total time, not just per read: a server that drips one byte
a second is cut off at the deadline. The bytes are hashed as they stream and never kept.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO
from urllib.parse import urlsplit

import requests

from credgate.problems import Problem

CHUNK = 64 * 1024
MAX_REDIRECTS = 3


@dataclass(frozen=True)
class Digests:
    size: int
    sha256: str  # hex
    md5: str  # hex

    @property
    def subject_id(self) -> str:
        return f"urn:sha256:{self.sha256}"

    @property
    def digest_sri(self) -> str:
        return "sha256-" + base64.b64encode(bytes.fromhex(self.sha256)).decode()


def too_large(max_bytes: int, status: int = 422) -> Problem:
    return Problem(
        "flist-too-large", "flist too large", status,
        f"the flist is larger than the limit of {max_bytes} bytes",
        limit=max_bytes,
    )  # fmt: skip


def digest_chunks(chunks: Iterator[bytes], max_bytes: int, *, status: int = 422) -> Digests:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes, status)
        sha256.update(chunk)
        md5.update(chunk)
    if size == 0:
        raise Problem("flist-empty", "Empty flist", 422, "the flist has no bytes")
    return Digests(size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())


def digest_upload(stream: BinaryIO, max_bytes: int) -> Digests:
    return digest_chunks(iter(lambda: stream.read(CHUNK), b""), max_bytes, status=413)


def check_url(url: object) -> str:
    if not isinstance(url, str) or len(url) > 2000:
        raise Problem("invalid-request", "Invalid request", 400, "flistUrl must be a URL")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Problem("invalid-request", "Invalid request", 400, "flistUrl must be an http(s) URL")
    return url


def fetch_flist(url: str, *, max_bytes: int, timeout: float) -> Digests:
    """Download and hash ``url`` within ``timeout`` seconds and ``max_bytes`` bytes."""
    deadline = time.monotonic() + timeout
    read_timeout = min(timeout, 10.0)
    with requests.Session() as session:
        session.max_redirects = MAX_REDIRECTS
        try:
            response = session.get(
                url,
                stream=True,
                timeout=(min(timeout, 5.0), read_timeout),
                headers={"Accept-Encoding": "identity"},  # hash the bytes as published
            )
        except requests.Timeout:
            raise _timed_out(url, timeout) from None
        except requests.RequestException as exc:
            raise _unreachable(url, type(exc).__name__) from None
        with response:
            if response.status_code != 200:
                raise _unreachable(url, f"HTTP {response.status_code}")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_large(max_bytes)
            return digest_chunks(_body(response, deadline, url, timeout), max_bytes)


def _body(response: requests.Response, deadline: float, url: str, timeout: float):
    while True:
        if time.monotonic() > deadline:
            raise _timed_out(url, timeout)
        try:
            # read1 returns what one socket read brings, so the deadline is checked often.
            chunk = response.raw.read1(CHUNK, decode_content=True)
        except Exception as exc:  # urllib3 wraps socket timeouts and resets in several types
            if "timed out" in str(exc).lower():
                raise _timed_out(url, timeout) from None
            raise _unreachable(url, type(exc).__name__) from None
        if not chunk:
            return
        yield chunk


def _unreachable(url: str, why: str) -> Problem:
    return Problem(
        "flist-unreachable", "flist unreachable", 422, f"could not download {url}: {why}"
    )


def _timed_out(url: str, timeout: float) -> Problem:
    return Problem(
        "flist-timeout", "flist download too slow", 422,
        f"downloading {url} took longer than {timeout:g} s",
    )  # fmt: skip
