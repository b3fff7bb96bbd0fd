"""Status-list bitstrings: bit order, and the encodedList of both status-list models."""

from __future__ import annotations

import base64
import gzip

import pytest

from revocation.bitstring import (
    EncodedListError,
    bit_at,
    bitstring,
    decode_list,
    encode_list,
)
from revocation.models import LIST_SIZE


def test_index_zero_is_the_leftmost_bit_of_the_first_byte():
    bits = bitstring(16, [0, 9, 15])
    assert bits == bytes([0b1000_0000, 0b0100_0001])
    assert [i for i in range(16) if bit_at(bits, i)] == [0, 9, 15]


def test_a_list_has_at_least_16_kib_of_bits():
    assert LIST_SIZE == 131_072 == 16 * 1024 * 8
    assert len(bitstring(LIST_SIZE, [])) == 16 * 1024


def test_status_list_2021_is_gzip_then_base64url_without_padding():
    bits = bitstring(LIST_SIZE, [7, 94567])
    encoded = encode_list(bits, "StatusList2021")
    assert "=" not in encoded and "+" not in encoded and "/" not in encoded
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    assert raw[:2] == b"\x1f\x8b"  # a GZIP member (RFC 1952)
    assert gzip.decompress(raw) == bits
    assert decode_list(encoded, "StatusList2021") == bits


def test_bitstring_status_list_is_multibase_base64url():
    bits = bitstring(LIST_SIZE, [131_071])
    encoded = encode_list(bits, "BitstringStatusList")
    assert encoded[0] == "u" and "=" not in encoded
    assert encoded[1:] == encode_list(bits, "StatusList2021")
    decoded = decode_list(encoded, "BitstringStatusList")
    assert bit_at(decoded, 131_071) and not bit_at(decoded, 0)


def test_the_empty_list_encodes_the_same_every_time():
    empty = bitstring(LIST_SIZE, [])
    assert encode_list(empty, "StatusList2021") == encode_list(empty, "StatusList2021")
    assert len(encode_list(empty, "StatusList2021")) < 200


@pytest.mark.parametrize(
    ("encoded", "model", "message"),
    [
        ("", "StatusList2021", "non-empty"),
        ("H4sI", "BitstringStatusList", "start with 'u'"),
        ("u!!!!", "BitstringStatusList", "base64url"),
        (base64.urlsafe_b64encode(b"not gzip").decode(), "StatusList2021", "GZIP"),
        (
            base64.urlsafe_b64encode(gzip.compress(bytes(64), mtime=0)[:20]).decode(),
            "StatusList2021",
            "truncated",
        ),
    ],
)
def test_malformed_encoded_lists_are_refused(encoded, model, message):
    with pytest.raises(EncodedListError, match=message):
        decode_list(encoded, model)


def test_a_gzip_bomb_is_refused_without_inflating_it():
    bomb = encode_list(bytes(64 * 1024 * 1024), "StatusList2021")
    with pytest.raises(EncodedListError, match="more than"):
        decode_list(bomb, "StatusList2021", max_bytes=LIST_SIZE // 8)


@pytest.mark.parametrize(("size", "indices"), [(0, []), (12, []), (16, [16]), (16, [-1])])
def test_bad_sizes_and_indices_are_refused(size, indices):
    with pytest.raises((ValueError, IndexError)):
        bitstring(size, indices)
