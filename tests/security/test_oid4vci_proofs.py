"""OpenID4VCI key proofs (issuer.oid4vci.proofs): what an attacker sends instead of a proof of
possession is refused as ``invalid_proof`` (or ``invalid_nonce``), without a database or agent.

The end-to-end refusals (nonce replay, code replay, PIN guessing, another key than the bound one)
are in tests/issuer/test_oid4vci.py against the running suite.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime

import pytest
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode

from issuer.oid4vci.errors import OAuthError
from issuer.oid4vci.proofs import check_proof, resolve_kid
from verifier.dids import did_key_from_public_key

AUD = "https://issuer.example"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def ed25519() -> tuple[jwk.JWK, dict]:
    key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    return key, json.loads(key.export_public())


def sign(key: jwk.JWK, alg: str, header: dict, payload: dict) -> str:
    token = jws.JWS(json.dumps(payload))
    token.add_signature(key, alg=alg, protected=json_encode({"alg": alg, **header}))
    return token.serialize(compact=True)


def claims(**extra) -> dict:
    return {"aud": AUD, "iat": int(time.time()), "nonce": "n-1"} | extra


def refuse(proof, error: str = "invalid_proof") -> str:
    with pytest.raises(OAuthError) as caught:
        check_proof(proof, audience=AUD, now=datetime.now(UTC), max_age=300)
    assert caught.value.error == error and caught.value.status == 400
    return caught.value.description


TYP = {"typ": "openid4vci-proof+jwt"}


def test_good_proofs_name_their_key_and_did():
    key, public = ed25519()
    held = check_proof(
        sign(key, "EdDSA", TYP | {"jwk": public}, claims()),
        audience=AUD,
        now=datetime.now(UTC),
        max_age=300,
    )
    assert held.did == did_key_from_public_key(base64.urlsafe_b64decode(public["x"] + "=="))
    assert held.nonce == "n-1" and "d" not in held.jwk
    fingerprint = held.did.removeprefix("did:key:")
    by_kid = sign(key, "EdDSA", TYP | {"kid": f"{held.did}#{fingerprint}"}, claims())
    assert check_proof(by_kid, audience=AUD, now=datetime.now(UTC), max_age=300).did == held.did
    p256 = jwk.JWK.generate(kty="EC", crv="P-256")
    p256_public = json.loads(p256.export_public())
    did_jwk = "did:jwk:" + b64url(json.dumps(p256_public).encode())
    held = check_proof(
        sign(p256, "ES256", TYP | {"kid": did_jwk + "#0"}, claims()),
        audience=AUD,
        now=datetime.now(UTC),
        max_age=300,
    )
    assert held.did == did_jwk and held.jwk["crv"] == "P-256"


def test_alg_none_hmac_and_unknown_algorithms_are_refused_before_any_key():
    key, public = ed25519()
    header = TYP | {"jwk": public}
    for alg in ("none", "None", "HS256", "HS512", "RS256", "ES256K", None):
        head = b64url(json.dumps(header | {"alg": alg}).encode())
        body = b64url(json.dumps(claims()).encode())
        assert "alg" in refuse(f"{head}.{body}.{b64url(b'sig')}")
    secret = jwk.JWK(kty="oct", k=public["x"])  # the public key's bytes as an HMAC secret
    refuse(sign(secret, "HS256", header, claims()))
    assert "three parts" in refuse(f"{head}.{body}.")  # unsigned alg none


def test_keys_that_do_not_prove_possession_are_refused():
    key, public = ed25519()
    other, other_public = ed25519()
    refuse(sign(other, "EdDSA", TYP | {"jwk": public}, claims()))  # signed by another key
    refuse(sign(key, "EdDSA", TYP | {"jwk": json.loads(key.export_private())}, claims()))
    refuse(sign(key, "EdDSA", TYP, claims()))  # no key named
    did = did_key_from_public_key(base64.urlsafe_b64decode(other_public["x"] + "=="))
    fingerprint = did.removeprefix("did:key:")
    refuse(sign(key, "EdDSA", TYP | {"kid": f"{did}#{fingerprint}"}, claims()))
    refuse(sign(key, "EdDSA", TYP | {"kid": "did:web:evil.example#k"}, claims()))
    refuse(sign(key, "EdDSA", TYP | {"kid": "https://evil.example/key"}, claims()))
    refuse(sign(key, "EdDSA", TYP | {"kid": f"{did}#z6MkOther"}, claims()))
    refuse(sign(key, "EdDSA", TYP | {"jwk": public, "kid": f"{did}#{fingerprint}"}, claims()))
    refuse(sign(key, "EdDSA", TYP | {"jwk": public, "x5c": ["AAAA"]}, claims()))
    crit = b64url(json.dumps(TYP | {"alg": "EdDSA", "jwk": public, "crit": ["exp"]}).encode())
    refuse(f"{crit}.{b64url(json.dumps(claims()).encode())}.{b64url(b'x' * 64)}")
    token = sign(key, "EdDSA", TYP | {"jwk": public}, claims())
    head, body, sig = token.split(".")
    tampered = b64url(json.dumps(claims(aud=AUD, nonce="n-2")).encode())
    refuse(f"{head}.{tampered}.{sig}")


def test_wrong_audience_type_time_or_nonce_is_refused():
    key, public = ed25519()
    header = TYP | {"jwk": public}
    refuse(sign(key, "EdDSA", header, claims(aud="https://other.example")))
    refuse(sign(key, "EdDSA", header, claims(aud=["https://other.example"])))
    refuse(sign(key, "EdDSA", {"typ": "JWT", "jwk": public}, claims()))
    refuse(sign(key, "EdDSA", {"jwk": public}, claims()))
    assert "older" in refuse(sign(key, "EdDSA", header, claims(iat=int(time.time()) - 301)))
    assert "future" in refuse(sign(key, "EdDSA", header, claims(iat=int(time.time()) + 600)))
    refuse(sign(key, "EdDSA", header, claims(iat="now")))
    refuse(sign(key, "EdDSA", header, claims(exp=int(time.time()) - 1)))
    refuse(sign(key, "EdDSA", header, {"aud": AUD, "iat": int(time.time())}), "invalid_nonce")
    refuse(sign(key, "EdDSA", header, claims(nonce="")), "invalid_nonce")


def test_nonces_are_ours_unexpired_and_single_use():
    from datetime import timedelta

    from issuer.oid4vci.grants import Oid4vciSettings, new_nonce, spend_nonce_in

    class Session:  # what spend_nonce_in writes when a nonce passes its checks
        def __init__(self):
            self.added = []

        def add(self, row):
            self.added.append(row)

        def flush(self):
            pass

    settings = Oid4vciSettings(key=b"k" * 32)
    now = datetime.now(UTC)
    nonce = new_nonce(settings, now)
    session = Session()
    spend_nonce_in(session, settings, nonce, now)
    assert session.added and session.added[0].nonce_used_at == now  # recorded as spent
    body, mac = nonce.split(".")
    for forged in (
        nonce + "x",
        body + "." + "0" * len(mac),
        "x." + mac,
        "",
        "\ud800.x",
        "é.é",
        new_nonce(Oid4vciSettings(key=b"o" * 32), now),
    ):
        with pytest.raises(OAuthError) as caught:
            spend_nonce_in(Session(), settings, forged, now)
        assert caught.value.error == "invalid_nonce"
    with pytest.raises(OAuthError):
        spend_nonce_in(Session(), settings, nonce, now + timedelta(minutes=6))  # expired


def test_garbage_is_refused_not_crashed_on():
    for proof in (
        None,
        7,
        "",
        "a.b",
        "a.b.c",
        "!!.!!.!!",
        "x" * 10_000,
        b64url(b"[]") + "." + b64url(b"{}") + ".c",
    ):
        refuse(proof)
    for kid in (
        "did:key:zQ3s",
        "did:key:z6Mk",
        "did:jwk:!!",
        "did:jwk:" + b64url(b"[1]"),
        "did:key:zDnaBad",
    ):
        with pytest.raises(OAuthError):
            resolve_kid(kid)
