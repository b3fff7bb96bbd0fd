"""IETF Token Status List encoding (revocation.token_status) against the draft's own example."""

from __future__ import annotations

import pytest

from revocation.token_status import decode_lst, encode_lst, status_at, token_bits

# draft-ietf-oauth-status-list, "Status List" example with bits 1: sixteen statuses, two bytes.
EXAMPLE_STATUSES = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
EXAMPLE_BYTES = bytes([0xB9, 0xA3])
EXAMPLE_LST = "eNrbuRgAAhcBXQ"


def test_the_drafts_example():
    bits = token_bits(16, [i for i, s in enumerate(EXAMPLE_STATUSES) if s])
    assert bits == EXAMPLE_BYTES  # the first entry in the least significant bit
    assert encode_lst(bits) == EXAMPLE_LST
    decoded = decode_lst(EXAMPLE_LST)
    assert [status_at(decoded, i) for i in range(16)] == EXAMPLE_STATUSES


def test_bounds():
    with pytest.raises(IndexError):
        token_bits(8, [8])
    with pytest.raises(ValueError):
        decode_lst(encode_lst(bytes(1024)), max_bytes=100)
