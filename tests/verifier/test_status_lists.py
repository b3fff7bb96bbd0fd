"""Status lists: every format (JSON-LD and JWT-secured), and the entry's statusSize and
statusMessage (Bitstring Status List), on a loopback list server."""

from __future__ import annotations

import itertools

import pytest

from tests.support.status_formats import (
    FORMATS,
    ListServer,
    bits_with,
    credential,
    entry,
    list_document,
    make_verifier,
    publish_list,
)
from verifier import errors
from verifier.errors import VerificationError
from verifier.status import check_entry, encode_bitstring, read_list
from verifier.testing import Party

ISSUER = Party.from_seed(b"\x21" * 32)
MESSAGES = [
    {"status": "0x0", "message": "valid"},
    {"status": "0x1", "message": "revoked"},
    {"status": "0x2", "message": "pending review"},
    {"status": "0x3", "message": "under investigation"},
]
_paths = (f"/status/{n}" for n in itertools.count())


@pytest.fixture(scope="module")
def server():
    server = ListServer()
    yield server
    server.stop()


@pytest.mark.parametrize("form", FORMATS)
def test_each_format_is_verified_and_decoded(server, form):
    path = next(_paths)
    url = server.url + path
    publish_list(server, path, list_document(url, ISSUER, bits_with({5: 1})), ISSUER, form)
    verifier = make_verifier()
    good = verifier.verify_credential(credential(ISSUER, entry(url, 3)))
    assert good.verified, good.error_types()
    assert "status" in good.checks
    revoked = verifier.verify_credential(credential(ISSUER, entry(url, 5)))
    assert revoked.error_types() == [errors.REVOKED]


@pytest.mark.parametrize("form", FORMATS)
def test_two_bit_status_with_messages_from_the_entry(server, form):
    """statusSize and statusMessage are the entry's (Bitstring Status List); the list says
    nothing of its size."""
    path = next(_paths)
    url = server.url + path
    bits = bits_with({7: 2, 8: 3, 9: 1}, size=2)
    publish_list(server, path, list_document(url, ISSUER, bits, "message"), ISSUER, form)
    verifier = make_verifier()
    for index, value, message in (
        (7, 2, "pending review"),
        (8, 3, "under investigation"),
        (9, 1, "revoked"),
        (10, 0, "valid"),
    ):
        status = entry(url, index, "message", statusSize=2, statusMessage=MESSAGES)
        found = check_entry(status, ISSUER.did, verifier.status)
        assert (found.purpose, found.value, found.message) == ("message", value, message)
    # Read one bit at a time (no statusSize in the entry), entry 7's value 2 is bits 14-15: "10".
    one_bit = [
        check_entry(entry(url, i, "message"), ISSUER.did, verifier.status).value
        for i in (7, 14, 15)
    ]
    assert one_bit == [0, 1, 0]
    result = verifier.verify_credential(
        credential(ISSUER, entry(url, 7, "message", statusSize=2, statusMessage=MESSAGES))
    )
    assert result.verified, result.error_types()


def test_a_two_bit_revocation_entry_refuses_any_non_zero_value(server):
    path = next(_paths)
    url = server.url + path
    publish_list(server, path, list_document(url, ISSUER, bits_with({4: 2}, size=2)), ISSUER, "ld")
    verifier = make_verifier()
    status = entry(url, 4, statusSize=2, statusMessage=MESSAGES)
    assert verifier.verify_credential(credential(ISSUER, status)).error_types() == [errors.REVOKED]


@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"statusSize": 2}, "needs statusMessage"),
        ({"statusSize": 0, "statusMessage": MESSAGES}, "statusSize"),
        ({"statusSize": 9}, "statusSize"),
        ({"statusSize": True}, "statusSize"),
        ({"statusSize": 2, "statusMessage": MESSAGES[:3]}, "all 4"),
        ({"statusSize": 2, "statusMessage": [*MESSAGES[:3], MESSAGES[0]]}, "repeated"),
        ({"statusSize": 1, "statusMessage": [{"status": "0x2", "message": "x"}]}, "too large"),
        ({"statusSize": 1, "statusMessage": [{"status": 0, "message": "x"}]}, "hex status"),
        ({"statusMessage": "revoked"}, "array"),
    ],
)
def test_malformed_entry_sizes_and_messages_are_invalid(server, members, why):
    path = next(_paths)
    url = server.url + path
    publish_list(server, path, list_document(url, ISSUER, bits_with({})), ISSUER, "ld")
    with pytest.raises(VerificationError, match=why) as refused:
        check_entry(entry(url, 1, "message", **members), ISSUER.did, make_verifier().status)
    assert refused.value.slug == errors.INVALID_STATUS


def test_an_entry_size_the_list_contradicts_is_invalid(server):
    """A list that states its own statusSize (older drafts) must agree with the entry's."""
    path = next(_paths)
    url = server.url + path
    document = list_document(url, ISSUER, bits_with({}), "message", statusSize=1)
    document["@context"] = [
        *document["@context"],
        {"statusSize": "https://www.w3.org/ns/credentials/status#statusSize"},
    ]
    publish_list(server, path, document, ISSUER, "vc+jwt")
    cache = make_verifier().status
    status = entry(url, 1, "message", statusSize=2, statusMessage=MESSAGES)
    with pytest.raises(VerificationError, match="not the list's") as refused:
        check_entry(status, ISSUER.did, cache)
    assert refused.value.slug == errors.INVALID_STATUS
    assert check_entry(entry(url, 1, "message"), ISSUER.did, cache).value == 0


def test_status_list_2021_keeps_the_list_own_size():
    url = "https://example.com/status/1"
    list_credential = {
        "id": url,
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": ISSUER.did,
        "credentialSubject": {
            "type": "StatusList2021",
            "statusPurpose": "message",
            "statusSize": 2,
            "encodedList": encode_bitstring(bits_with({3: 2}, size=2)),
        },
    }
    status_list = read_list(list_credential, url, 0.0)
    assert status_list.status_size == 2
    assert [status_list.value(i) for i in range(5)] == [0, 0, 0, 2, 0]
