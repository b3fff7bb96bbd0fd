"""OpenID4VP login attacks: each forged or misbound vp_token ends its login *failed* with the
error type that names why (a 400 problem document, never a 500), and no session is opened.

Wrong nonce, a vp_token replayed into another login, a KB-JWT for another audience, no KB-JWT,
an SD-JWT signed by a key its issuer's DID does not list, a tampered disclosure, alg none and
HMAC, someone else's credential (cnf is not the presenter's key), an untrusted issuer, a state
that is not the login's.
"""

# ruff: noqa: F811 -- the fixtures of tests/support/oid4vp.py, imported by name, are parameters here
from __future__ import annotations

import json
import time

import pytest
import requests

from gateway.oid4vp import dcql_query
from tests.support.oid4vp import (  # noqa: F401 (fixtures)
    AUTHORITY,
    HOLDER,
    Browser,
    gateway,
    held_sdjwt,
    issue_sdjwt,
    policy,
    private_jwk,
    role_sdjwt,
    status_server,
    token_lists,
)
from verifier import jose, sdjwt
from verifier.testing import Party
from wallet import oid4vp

pytestmark = pytest.mark.db

STRANGER = Party.generate()
QUERY = dcql_query("data-provider")["credentials"][0]


def start(gateway, policy):
    browser = Browser(gateway.url)
    login = browser.open()
    return browser, login, oid4vp.fetch_request(login["link"], policy=policy)


def kb_jwt(bound: str, key_party: Party, **claims) -> str:
    payload = {
        "iat": int(time.time()),
        "aud": claims.pop("aud"),
        "nonce": claims.pop("nonce"),
        "sd_hash": sdjwt.digest(bound),
        **claims,
    }
    return jose.sign(payload, private_jwk(key_party), {"alg": "EdDSA", "typ": "kb+jwt"})


def post(request, token: str, policy) -> requests.Response:
    return oid4vp.post_response(request, {QUERY["id"]: [token]}, policy=policy)


def refused(browser, login, response, slug: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["type"].endswith("/login-failed")
    assert slug in body["errors"], body
    assert browser.state(login)["state"] == "failed"
    assert slug in browser.state(login)["reason"]
    assert browser.finish(login).status_code in (403, 409)


def test_wrong_nonce(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists)
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), QUERY, nonce="not-ours", audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "challenge-mismatch")


def test_replayed_vp_token(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists)
    _, _, first = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), QUERY, nonce=first.nonce, audience=first.client_id
    )
    assert post(first, token, policy).status_code == 200
    again = post(first, token, policy)  # the same login: already finished
    assert again.status_code == 409 and again.json()["type"].endswith("/login-closed")
    browser, login, second = start(gateway, policy)
    refused(browser, login, post(second, token, policy), "challenge-mismatch")


def test_kb_jwt_for_another_audience(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists)
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER),
        QUERY,
        nonce=request.nonce,
        audience="decentralized_identifier:did:key:z6MkOther",
    )
    refused(browser, login, post(request, token, policy), "audience-mismatch")


def test_missing_kb_jwt(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists)
    browser, login, request = start(gateway, policy)
    refused(browser, login, post(request, credential, policy), "kb-jwt-missing")


def test_sdjwt_signed_by_a_key_the_issuer_does_not_list(gateway, policy, token_lists):
    browser, login, request = start(gateway, policy)
    # The stranger's key, named as the authority's (kid): the signature fails under the real key.
    forged, _ = role_sdjwt(token_lists, signer=STRANGER)
    token = oid4vp.present_sdjwt(
        held_sdjwt(forged, HOLDER), QUERY, nonce=request.nonce, audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "bad-signature")
    # ... or named as the stranger's: not a key of the iss DID at all.
    browser, login, request = start(gateway, policy)
    forged, _ = role_sdjwt(token_lists, signer=STRANGER, header={"kid": STRANGER.method})
    token = oid4vp.present_sdjwt(
        held_sdjwt(forged, HOLDER), QUERY, nonce=request.nonce, audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "issuer-mismatch")


def test_tampered_disclosure(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists, roles=("DataConsumer",))
    browser, login, request = start(gateway, policy)
    sd = sdjwt.split(credential)
    salt, name, _ = json.loads(jose.b64url_decode(sd.disclosures[0]))
    forged = jose.b64url(json.dumps([salt, name, ["DataProvider"]]).encode())
    bound = sdjwt.SdJwt(sd.issuer_jwt, (forged,), None).bound_part
    token = bound + kb_jwt(bound, HOLDER, nonce=request.nonce, aud=request.client_id)
    refused(browser, login, post(request, token, policy), "disclosure-mismatch")


@pytest.mark.parametrize(
    ("alg", "slug"), [("none", "alg-none"), ("HS256", "unsupported-algorithm")]
)
def test_unsecured_or_symmetric_sdjwt(gateway, policy, token_lists, alg, slug):
    credential, _ = role_sdjwt(token_lists)
    browser, login, request = start(gateway, policy)
    sd = sdjwt.split(credential)
    header, payload, _ = sd.issuer_jwt.split(".")
    forged_header = json.loads(jose.b64url_decode(header)) | {"alg": alg}
    unsigned = f"{jose.b64url(json.dumps(forged_header).encode())}.{payload}."
    bound = sdjwt.SdJwt(unsigned, sd.disclosures, None).bound_part
    token = bound + kb_jwt(bound, HOLDER, nonce=request.nonce, aud=request.client_id)
    refused(browser, login, post(request, token, policy), slug)


def test_credential_of_another_holder(gateway, policy, token_lists):
    victims, _ = role_sdjwt(token_lists)  # bound to HOLDER's key
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(victims, STRANGER), QUERY, nonce=request.nonce, audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "holder-mismatch")


def test_untrusted_issuer(gateway, policy, token_lists):
    credential = issue_sdjwt(
        STRANGER,
        HOLDER,
        "RoleCredential",
        {"roles": ["DataProvider"]},
        status=(token_lists.uri("roles"), 7),
    )
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), QUERY, nonce=request.nonce, audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "untrusted-issuer")


def test_x5c_issuer_key_refused(gateway, policy, token_lists):
    credential, _ = role_sdjwt(token_lists, header={"x5c": ["MIIB"]})
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), QUERY, nonce=request.nonce, audience=request.client_id
    )
    refused(browser, login, post(request, token, policy), "verification-method-not-found")


def test_wrong_state_cannot_end_a_login(gateway, policy, token_lists):
    browser, login, request = start(gateway, policy)
    response = requests.post(
        request.response_uri, data={"state": "guess", "error": "x"}, timeout=10
    )
    assert response.status_code == 400 and response.json()["type"].endswith("/state-mismatch")
    assert browser.state(login)["state"] == "scanned"
    junk = requests.post(
        request.response_uri, data={"state": request.state, "vp_token": "{["}, timeout=10
    )
    assert junk.status_code == 400 and browser.state(login)["state"] == "failed"


def test_vc_jwt_of_another_subject(gateway, policy, status_server):
    """A VC-JWT VP signed by the stranger, carrying HOLDER's credential."""
    from tests.support.oid4vp import held_vcjwt, issue_vcjwt
    from verifier.testing import credgate_credential

    entry = status_server.entry("v2-roles", 40, "BitstringStatusListEntry")
    vc = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=entry, version=2)
    stolen = issue_vcjwt(AUTHORITY, HOLDER, vc)
    browser, login, request = start(gateway, policy)
    token = oid4vp.present_jwt_vp(
        [held_vcjwt(stolen, STRANGER)], nonce=request.nonce, audience=request.client_id
    )
    jwt_query = dcql_query("data-provider")["credentials"][1]["id"]
    response = oid4vp.post_response(request, {jwt_query: [token]}, policy=policy)
    refused(browser, login, response, "holder-mismatch")


@pytest.mark.parametrize(
    "vp_token",
    [
        "~",
        "a.b.c",
        "a.b.c~",
        "{}",
        "[]",
        '{"x": [1]}',
        '{"RoleCredential-0-sd-jwt": 5}',
        '[{"@context": 1}]',
        "e30.e30.e30~e30~",
        "eyJhbGciOiJub25lIn0.e30.",
        "x" * 5000,
    ],
)
def test_junk_vp_tokens_fail_the_login_cleanly(gateway, policy, vp_token):
    browser, login, request = start(gateway, policy)
    response = requests.post(
        request.response_uri, timeout=10, data={"vp_token": vp_token, "state": request.state}
    )
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert browser.state(login)["state"] == "failed"


def test_response_endpoint_refuses_what_is_not_a_form(gateway, policy):
    _, login, request = start(gateway, policy)
    for kwargs in ({"json": {"vp_token": "x"}}, {"data": b"\xff\xfe", "headers": {}}):
        response = requests.post(request.response_uri, timeout=10, **kwargs)
        assert 400 <= response.status_code < 500, response.text
    unknown = requests.post(
        request.response_uri.rsplit("/", 1)[0] + "/nope",
        timeout=10,
        data={"state": "x", "vp_token": "y"},
    )
    assert unknown.status_code == 404
