"""QR login over OpenID4VP 1.0 at the gateway: the page's ``openid4vp://`` link, the signed
request object by reference (DCQL, or a presentation definition for the drafts), direct_post of
a vp_token — SD-JWT VC with KB-JWT, or a VC-JWT presentation — then the same SSE states,
session and per-request re-check as DIDComm logins: flipping the Token Status List bit cuts the
session within a second.

The gateway runs on a real loopback server; the wallet is the stand-in's OpenID4VP client
(:mod:`wallet.oid4vp`) holding credentials a test issuer signed.
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
    INDEXES,
    Browser,
    gateway,
    held_sdjwt,
    held_vcjwt,
    issue_sdjwt,
    issue_vcjwt,
    policy,
    role_sdjwt,
    status_server,
    token_lists,
)
from tests.support.waits import eventually, timed
from verifier import jose
from verifier.testing import credgate_credential
from wallet import oid4vp

pytestmark = pytest.mark.db


def test_page_offers_openid4vp_with_a_signed_request_object(gateway, policy):
    browser = Browser(gateway.url)
    login = browser.open()
    assert login["link"].startswith("openid4vp://?client_id=decentralized_identifier:did:key:")
    assert "OpenID4VP QR code" in login["page"] and "<svg" in login["page"]
    request = oid4vp.fetch_request(login["link"], policy=policy)
    claims = request.claims
    assert claims["response_type"] == "vp_token" and claims["response_mode"] == "direct_post"
    assert claims["response_uri"].endswith(f"/oid4vp/response/{login['id']}")
    assert claims["dcql_query"] == dcql_query("data-provider")
    assert claims["client_metadata"]["vp_formats_supported"]["dc+sd-jwt"]
    assert browser.state(login)["state"] == "scanned"
    # The request object is handed out once: the QR code was scanned.
    again = requests.get(claims["response_uri"].replace("/response/", "/request/"), timeout=5)
    assert again.status_code == 410


def test_draft_link_carries_a_presentation_definition(gateway, policy):
    login = Browser(gateway.url).open()
    request = oid4vp.fetch_request(login["draft"], policy=policy)
    definition = request.claims["presentation_definition"]
    descriptor = definition["input_descriptors"][0]
    assert {"vc+sd-jwt", "jwt_vp", "ldp_vp"} <= set(descriptor["format"])
    assert "$.vct" in descriptor["constraints"]["fields"][0]["path"]
    assert request.claims["client_id_scheme"] == "did" and request.did == request.client_id


def test_sdjwt_login_opens_a_session_and_revocation_cuts_it(gateway, policy, token_lists):
    credential, index = role_sdjwt(token_lists)
    browser = Browser(gateway.url)
    login = browser.open()
    seen: list[str] = []
    stream = browser.follow(login, seen)
    eventually(lambda: seen, 5, 0.02)
    started = time.monotonic()
    response = oid4vp.answer(login["link"], [held_sdjwt(credential, HOLDER)], policy=policy)
    assert response.status_code == 200, response.text
    assert browser.state(login)["state"] == "verified"
    elapsed = time.monotonic() - started
    stream.join(timeout=10)
    assert seen == ["pending", "scanned", "verified"], seen
    assert elapsed < 2.0
    finished = browser.finish(login)
    assert finished.status_code == 303, finished.text
    route = gateway.url + "/apps/oid4vp-probe/data"
    allowed = browser.http.get(route, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["holder"] == HOLDER.did

    token_lists.set("roles", index)
    took, _ = timed(
        lambda: browser.http.get(route, timeout=10).status_code != 200,
        3,
        what="the revoked SD-JWT to stop opening the route",
    )
    assert took < 1.0
    denied = browser.http.get(route, timeout=10)
    assert denied.status_code == 403 and denied.json()["type"].endswith("/revoked")


def test_vcjwt_presentation_logs_in(gateway, policy, status_server):
    entry = status_server.entry("v2-roles", next(INDEXES), "BitstringStatusListEntry")
    vc = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=entry, version=2)
    credential = issue_vcjwt(AUTHORITY, HOLDER, vc)
    browser = Browser(gateway.url)
    login = browser.open()
    response = oid4vp.answer(login["link"], [held_vcjwt(credential, HOLDER)], policy=policy)
    assert response.status_code == 200, response.text
    assert browser.state(login)["state"] == "verified"
    assert browser.finish(login).status_code == 303


def test_selective_disclosure_reveals_only_what_was_asked(token_lists):
    credential = issue_sdjwt(
        AUTHORITY, HOLDER, "RoleCredential", {"roles": ["DataProvider"], "email": "a@example.org"}
    )
    query = dcql_query("data-provider")["credentials"][0]
    presented = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), query, nonce="n", audience="aud"
    )
    assert presented.count("~") == 2  # issuer JWT ~ one disclosure ~ KB-JWT
    assert "email" not in str([jose.b64url_decode(d) for d in presented.split("~")[1:-1]])


def test_draft_wallet_answers_with_a_presentation_submission(gateway, policy, token_lists):
    """A wallet of the PE drafts: bare did client_id as audience, one SD-JWT as vp_token."""
    credential, _ = role_sdjwt(token_lists)
    browser = Browser(gateway.url)
    login = browser.open()
    request = oid4vp.fetch_request(login["draft"], policy=policy)
    descriptor = request.claims["presentation_definition"]["input_descriptors"][0]
    query = {"claims": [{"path": ["roles"]}]}
    token = oid4vp.present_sdjwt(
        held_sdjwt(credential, HOLDER), query, nonce=request.nonce, audience=request.client_id
    )
    submission = {
        "id": "s",
        "definition_id": request.claims["presentation_definition"]["id"],
        "descriptor_map": [{"id": descriptor["id"], "format": "vc+sd-jwt", "path": "$"}],
    }
    response = requests.post(
        request.response_uri,
        timeout=10,
        data={
            "vp_token": token,
            "state": request.state,
            "presentation_submission": json.dumps(submission),
        },
    )
    assert response.status_code == 200, response.text
    assert browser.state(login)["state"] == "verified"


def test_disclosures_nested_and_in_arrays():
    """RFC 9901 processing: array-element disclosures, nested _sd, undisclosed elements
    dropped; a disclosure nobody signed, or a repeated one, refused."""
    from verifier.errors import VerificationError
    from verifier.sdjwt import digest, disclose

    first, second = disclosure_pair = [
        jose.b64url(json.dumps(["s1", "DataProvider"]).encode()),
        jose.b64url(json.dumps(["s2", "ModelConsumer"]).encode()),
    ]
    street = jose.b64url(json.dumps(["s3", "street", "Main St"]).encode())
    payload = {
        "roles": [{"...": digest(first)}, {"...": digest(second)}, "Governance"],
        "address": {"_sd": [digest(street)], "country": "DE"},
        "_sd_alg": "sha-256",
    }
    assert disclose(payload, (first, street)) == {
        "roles": ["DataProvider", "Governance"],
        "address": {"country": "DE", "street": "Main St"},
    }
    assert disclose(payload, tuple(disclosure_pair))["roles"][:2] == [
        "DataProvider",
        "ModelConsumer",
    ]
    stray = jose.b64url(json.dumps(["s4", "admin", True]).encode())
    for presented in ((first, stray), (first, first)):
        with pytest.raises(VerificationError) as refused:
            disclose(payload, presented)
        assert refused.value.slug == "disclosure-mismatch"


def test_token_status_list_bit_order_and_widths():
    """Token Status List: the first token in the least significant bits of byte 0; 2-bit
    entries carry SUSPENDED (2)."""
    from verifier.tokenstatus import TokenStatusList

    one = TokenStatusList("u", "did:x", 1, bytes([0b00000010]), 0, 0, None)
    assert [one.value(i) for i in range(3)] == [0, 1, 0]
    two = TokenStatusList("u", "did:x", 2, bytes([0b11100100]), 0, 0, None)
    assert [two.value(i) for i in range(4)] == [0, 1, 2, 3]
