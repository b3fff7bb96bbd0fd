"""Attacks on JWT-secured status lists and on the entry's statusSize.

Each test first shows the honest list working (JWT-secured lists were refused outright before,
so the refusals below are only meaningful next to an acceptance), then the attacker's list
refused: the credential is never reported valid on a list its issuer did not sign.
"""

from __future__ import annotations

import itertools
import json

import pytest
from jwcrypto import jwk, jws

from tests.support.status_formats import (
    JWT_FORMATS,
    ListServer,
    bits_with,
    credential,
    entry,
    jwt_list,
    list_document,
    make_verifier,
    publish_list,
)
from verifier import errors, jose
from verifier.testing import Party

ISSUER = Party.from_seed(b"\x31" * 32)
ATTACKER = Party.from_seed(b"\x32" * 32)
_paths = (f"/jwt-status/{n}" for n in itertools.count())
REVOKED_INDEX = 5


@pytest.fixture(scope="module")
def server():
    server = ListServer()
    yield server
    server.stop()


def _refused(server, body: str | dict, media: str = "application/vc+jwt") -> list[str]:
    """The errors for a credential whose list (revoking it) is replaced by ``body``."""
    path = next(_paths)
    url = server.url + path
    honest = list_document(url, ISSUER, bits_with({REVOKED_INDEX: 1}))
    publish_list(server, path, honest, ISSUER, "vc+jwt")
    revoked = credential(ISSUER, entry(url, REVOKED_INDEX))
    verifier = make_verifier()
    assert verifier.verify_credential(revoked).error_types() == [errors.REVOKED]
    forged = body(url) if callable(body) else body
    server.publish(path, forged, media)
    result = make_verifier().verify_credential(revoked)
    assert not result.verified
    return [(e.slug, e.extra.get("cause")) for e in result.errors]


def _all_clear(url: str) -> dict:
    return list_document(url, ISSUER, bits_with({}))  # claims the issuer, revokes nothing


@pytest.mark.parametrize("form", JWT_FORMATS)
def test_a_list_signed_by_another_dids_key_is_refused(server, form):
    """The JWT names the issuer but is signed with the attacker's key, named as the
    attacker's."""

    def forged(url):
        token = jwt_list(_all_clear(url), ATTACKER, form="vc-jwt" if form == "vc-jwt" else "vc+jwt")
        if form == "enveloped":
            return {
                "@context": [list_document(url, ISSUER, b"")["@context"][0]],
                "id": "data:application/vc+jwt," + token,
                "type": "EnvelopedVerifiableCredential",
            }
        return token

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.ISSUER_MISMATCH)]


def test_a_list_claiming_the_issuers_key_but_signed_by_another_is_refused(server):
    def forged(url):
        return jwt_list(_all_clear(url), ATTACKER, kid=ISSUER.method)

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.BAD_SIGNATURE)]


def test_a_list_of_another_issuer_is_refused(server):
    """Validly signed by the attacker, as the attacker's own list: not the credential's issuer."""

    def forged(url):
        return jwt_list(list_document(url, ATTACKER, bits_with({})), ATTACKER)

    assert _refused(server, forged) == [(errors.INVALID_STATUS, None)]


def test_an_unsecured_list_is_refused(server):
    def forged(url):
        header = jose.b64url(json.dumps({"alg": "none", "typ": "vc+jwt"}).encode())
        payload = jose.b64url(json.dumps(_all_clear(url)).encode())
        return f"{header}.{payload}."

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.ALG_NONE)]


def test_an_hmac_list_keyed_with_the_issuers_public_key_is_refused(server):
    """HS256 with the issuer's public key as the secret: anyone could compute it."""

    def forged(url):
        secret = jwk.JWK(kty="oct", k=jose.b64url(bytes(ISSUER.key.verify_key)))
        token = jws.JWS(json.dumps(_all_clear(url)).encode())
        token.add_signature(
            secret, None, json.dumps({"alg": "HS256", "typ": "vc+jwt", "kid": ISSUER.method})
        )
        return token.serialize(compact=True)

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.UNSUPPORTED_ALGORITHM)]


def test_a_tampered_payload_is_refused(server):
    def forged(url):
        header, _payload, signature = jwt_list(_all_clear(url), ISSUER).split(".")
        other = list_document(url, ISSUER, bits_with({}), "suspension")
        return ".".join([header, jose.b64url(json.dumps(other).encode()), signature])

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.BAD_SIGNATURE)]


def test_an_expired_jwt_list_is_refused(server):
    def forged(url):
        return jwt_list({**_all_clear(url), "exp": 1_700_000_000}, ISSUER)

    assert _refused(server, forged) == [(errors.INVALID_STATUS, errors.EXPIRED)]


def test_a_list_past_its_valid_until_is_refused(server):
    def forged(url):
        return jwt_list({**_all_clear(url), "validUntil": "2025-06-01T00:00:00Z"}, ISSUER)

    assert _refused(server, forged)[0][0] == errors.INVALID_STATUS


def test_an_envelope_that_is_not_a_jwt_data_url_is_refused(server):
    def forged(url):
        return {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "https://example.com/list",
            "type": "EnvelopedVerifiableCredential",
        }

    refused = _refused(server, forged, "application/vc+ld+json")
    assert [slug for slug, _ in refused] == [errors.INVALID_STATUS]


def test_a_token_status_list_is_not_a_w3c_list(server):
    """An IETF Token Status List (statuslist+jwt) has other bit order and semantics."""

    def forged(url):
        payload = {
            "iss": ISSUER.did,
            "sub": url,
            "iat": 1_700_000_000,
            "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"},
        }
        return jose.sign(
            payload,
            jwk.JWK(
                kty="OKP",
                crv="Ed25519",
                x=jose.b64url(bytes(ISSUER.key.verify_key)),
                d=jose.b64url(bytes(ISSUER.key)),
            ),
            {"alg": "EdDSA", "typ": "statuslist+jwt", "kid": ISSUER.method},
        )

    assert [slug for slug, _ in _refused(server, forged)] == [errors.INVALID_STATUS]


def test_an_entry_cannot_shrink_its_status_to_dodge_a_set_value(server):
    """An entry saying statusSize 2 on a list that states 1 (older drafts put the size in the
    list) would read other bits than the publisher wrote; refused, not read."""
    path = next(_paths)
    url = server.url + path
    document = list_document(url, ISSUER, bits_with({REVOKED_INDEX: 1}), statusSize=1)
    document["@context"] = [
        *document["@context"],
        {"statusSize": "https://www.w3.org/ns/credentials/status#statusSize"},
    ]
    publish_list(server, path, document, ISSUER, "vc+jwt")
    messages = [{"status": f"0x{i}", "message": str(i)} for i in range(4)]
    status = entry(url, REVOKED_INDEX // 2, statusSize=2, statusMessage=messages)
    result = make_verifier().verify_credential(credential(ISSUER, status))
    assert result.error_types() == [errors.INVALID_STATUS]
    honest = make_verifier().verify_credential(credential(ISSUER, entry(url, REVOKED_INDEX)))
    assert honest.error_types() == [errors.REVOKED]
