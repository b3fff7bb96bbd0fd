"""Status-list bitstrings and their ``encodedList`` form (pure functions).

Both specifications number bits from the left: index 0 is the most significant bit of the first
byte. The bitstring is GZIP-compressed (RFC 1952) and base64url-encoded without padding
(RFC 4648 §5); BitstringStatusList (VCDM 2.0) adds the multibase prefix ``u`` that names exactly
that encoding, StatusList2021 (VCDM 1.1) has no prefix.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib
from collections.abc import Iterable

MULTIBASE_BASE64URL = "u"
BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")

#: Refuse to inflate more than this (16 MiB of bits is 134 million entries): a hostile
#: ``encodedList`` must not be able to exhaust a verifier's memory.
MAX_DECODED_BYTES = 16 * 1024 * 1024


class EncodedListError(ValueError):
    """An ``encodedList`` that is not what the specification says it must be."""


def bitstring(size: int, set_indices: Iterable[int]) -> bytes:
    """A bitstring of ``size`` bits (a multiple of 8) with the bits at ``set_indices`` set."""
    if size <= 0 or size % 8:
        raise ValueError(f"a bitstring's size must be a positive multiple of 8, not {size}")
    bits = bytearray(size // 8)
    for index in set_indices:
        if not 0 <= index < size:
            raise IndexError(f"index {index} outside a list of {size} entries")
        bits[index // 8] |= 0x80 >> (index % 8)
    return bytes(bits)


def bit_at(bits: bytes, index: int) -> bool:
    if not 0 <= index < len(bits) * 8:
        raise IndexError(f"index {index} outside a list of {len(bits) * 8} entries")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def encode_list(bits: bytes, model: str) -> str:
    """The ``encodedList`` of ``bits`` for ``model`` ("StatusList2021" or "BitstringStatusList")."""
    # mtime=0: the same bits always encode to the same string.
    text = base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).rstrip(b"=").decode("ascii")
    return MULTIBASE_BASE64URL + text if model == "BitstringStatusList" else text


def decode_list(encoded: str, model: str, *, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """The bitstring of an ``encodedList``; :class:`EncodedListError` if it is malformed."""
    if not isinstance(encoded, str) or not encoded:
        raise EncodedListError("encodedList must be a non-empty string")
    if model == "BitstringStatusList":
        if not encoded.startswith(MULTIBASE_BASE64URL):
            raise EncodedListError("a BitstringStatusList encodedList must start with 'u'")
        encoded = encoded[1:]
    # The decoder alone would skip characters outside the alphabet instead of refusing them.
    if not BASE64URL.fullmatch(encoded):
        raise EncodedListError("encodedList is not base64url")
    text = encoded.rstrip("=")
    try:
        compressed = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise EncodedListError(f"encodedList is not base64url: {exc}") from exc
    return _gunzip(compressed, max_bytes)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)  # 16+: expect a gzip header
    try:
        bits = inflater.decompress(data, max_bytes)
    except zlib.error as exc:
        raise EncodedListError(f"encodedList is not GZIP data: {exc}") from exc
    if inflater.unconsumed_tail:
        raise EncodedListError(f"encodedList inflates to more than {max_bytes} bytes")
    if not inflater.eof:
        raise EncodedListError("encodedList is truncated GZIP data")
    return bits
