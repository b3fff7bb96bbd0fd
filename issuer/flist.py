"""An flist's digests: sha256 (as ``urn:sha256:<hex>`` and SRI) and md5, from a URL or an upload.

A download goes through the fetch policy (:mod:`verifier.fetch`): allow-listed hosts only, bounded
in size and in total time, not just per read (a server that drips one byte a second is cut off at
the deadline), a few redirects at most, each checked like the first. The bytes are hashed as they
stream and never kept.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from credgate.problems import Problem
from verifier.fetch import REASONS, Fetcher, FetchError, FetchPolicy
from verifier.fetch import check_url as check_fetch_url

CHUNK = 64 * 1024
MAX_REDIRECTS = 3
REDIRECTS = (301, 302, 303, 307, 308)


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
        "flist-too-large",
        "flist too large",
        status,
        f"the flist is larger than the limit of {max_bytes} bytes",
        limit=max_bytes,
    )


def digest_chunks(chunks: Iterator[bytes], max_bytes: int, *, status: int = 422) -> Digests:
    sha256, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes, status)
        sha256.update(chunk)
        md5.update(chunk)
    if size == 0:
        raise DomainError(ProblemType.FLIST_EMPTY, "the flist has no bytes")
    return Digests(size=size, sha256=sha256.hexdigest(), md5=md5.hexdigest())


def digest_upload(stream: BinaryIO, max_bytes: int) -> Digests:
    return digest_chunks(iter(lambda: stream.read(CHUNK), b""), max_bytes, status=413)


def check_url(url: object) -> str:
    if not isinstance(url, str) or len(url) > 2000:
        raise DomainError(ProblemType.INVALID_REQUEST, "flistUrl must be a URL")
    try:
        check_fetch_url(url)
    except FetchError:
        raise DomainError(ProblemType.INVALID_REQUEST, "flistUrl must be an http(s) URL") from None
    return url


def fetch_flist(
    url: str, *, max_bytes: int, timeout: float, policy: FetchPolicy | None = None
) -> Digests:
    """Download and hash ``url`` within ``timeout`` seconds and ``max_bytes`` bytes, under the
    fetch ``policy`` (without one, nothing is fetched)."""
    fetcher = Fetcher(policy, deadline=timeout, max_bytes=max_bytes)
    try:
        with fetcher.open(url, redirects=MAX_REDIRECTS) as response:
            if response.status != 200:
                raise FetchError("redirect" if response.status in REDIRECTS else "http-error")
            return digest_chunks(response.chunks(), max_bytes)
    except FetchError as exc:
        if exc.reason == "too-large":
            raise too_large(max_bytes) from None
        if exc.reason == "not-allowed":
            raise DomainError(
                ProblemType.FLIST_HOST_NOT_ALLOWED,
                "the issuer does not download from the host of flistUrl",
            ) from None
        # Coarse: the remote's status, text and failure mode stay out (no port or service
        # oracle through the certifier API).
        raise DomainError(
            ProblemType.FLIST_UNREACHABLE,
            f"could not download the flist ({REASONS[exc.reason]})",
        ) from None
