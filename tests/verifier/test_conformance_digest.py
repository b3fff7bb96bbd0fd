"""``digestMultibase`` as the specifications define it, decided from their text.

VCDM 2.0 §5.3 defines ``relatedResource.digestMultibase`` by reference to Data Integrity 1.0
§2.6 (Resource Integrity): "a single string value, or a list of string values, each of which is
a Multibase-encoded Multihash value". Controlled Identifiers 1.0 (Multibase, Multihash) names
the headers: ``u`` (base64url, no padding) and ``z`` (base58-btc); sha2-256 (0x12), sha2-384
(0x20), sha3-256 (0x16), sha3-384 (0x15), and the decoded digest MUST have the length the header
and the value state. The W3C VCDM 2.0 harness's "valid" value is a bare base64url sha-256
digest with no multihash header: refused (README, policy table).
"""

from __future__ import annotations

import hashlib

import pytest

from verifier.credentials import member_violations
from verifier.encoding import b58encode, b64url_encode

SHA256 = hashlib.sha256(b"resource").digest()
SHA384 = hashlib.sha384(b"resource").digest()
SHA3_256 = hashlib.sha3_256(b"resource").digest()
SHA3_384 = hashlib.sha3_384(b"resource").digest()
ID = "https://www.w3.org/ns/credentials/v2"


def violations(digest) -> list[tuple[str, str]]:
    return member_violations({"relatedResource": [{"id": ID, "digestMultibase": digest}]})


@pytest.mark.parametrize(
    "digest",
    [
        "u" + b64url_encode(bytes([0x12, 0x20]) + SHA256),
        "z" + b58encode(bytes([0x12, 0x20]) + SHA256),
        "u" + b64url_encode(bytes([0x20, 0x30]) + SHA384),
        "u" + b64url_encode(bytes([0x16, 0x20]) + SHA3_256),
        "z" + b58encode(bytes([0x15, 0x30]) + SHA3_384),
        # "a list of string values, each of which is a Multibase-encoded Multihash value"
        [
            "u" + b64url_encode(bytes([0x12, 0x20]) + SHA256),
            "z" + b58encode(bytes([0x20, 0x30]) + SHA384),
        ],
    ],
    ids=["sha2-256-u", "sha2-256-z", "sha2-384", "sha3-256", "sha3-384", "list"],
)
def test_multibase_multihashes_are_accepted(digest):
    assert violations(digest) == []


@pytest.mark.parametrize(
    "digest",
    [
        # the harness's "valid" digestMultibase: a bare digest, no multihash header
        "uJKGMkOmFbVJhEfKTduMC2XCyvRAYLjOVmZWwIH1wQ7k",
        "u" + b64url_encode(SHA256),
        "u" + b64url_encode(bytes([0x12, 0x30]) + SHA256),  # length byte says 48
        "u" + b64url_encode(bytes([0x12, 0x20]) + SHA256[:31]),  # one byte short
        "m" + b64url_encode(bytes([0x12, 0x20]) + SHA256),  # a header CID does not name
        [],
        ["u" + b64url_encode(bytes([0x12, 0x20]) + SHA256), "u" + b64url_encode(SHA256)],
        ["u" + b64url_encode(bytes([0x12, 0x20]) + SHA256), 7],
        7,
    ],
    ids=[
        "harness",
        "bare",
        "length-byte",
        "short",
        "header",
        "empty-list",
        "one-bad",
        "not-a-string",
        "number",
    ],
)
def test_anything_else_is_refused(digest):
    assert [path for path, _ in violations(digest)] == ["/relatedResource/0/digestMultibase"]
