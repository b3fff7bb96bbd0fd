"""The OpenID journey against the running suite, as a person with the wallet stand-in does it:
receive a RoleCredential over OpenID4VCI (SD-JWT VC, VC-JWT or ldp_vc; PIN), scan the gateway
portal's OpenID4VP QR code (the page offers it beside the DIDComm one), log in; a revocation
through the revocation service's API shows on the open session within a second (the Token
Status List the issuer's key signed, or the W3C status list, fed by the revocation change feed).
"""

from __future__ import annotations

import html
import json
import re
import time

import pytest
import requests

from tests.support.oid4vci import new_wallet, offer_of
from tests.support.status_entries import entries_of, revoke_entry
from tests.support.waits import timed

pytestmark = [pytest.mark.agents, pytest.mark.db]
TIMEOUT = 15


SUFFIX = {"dc+sd-jwt": "sd_jwt", "jwt_vc_json": "jwt_vc_json", "ldp_vc": "ldp_vc"}


@pytest.mark.parametrize("fmt", list(SUFFIX))
def test_openid_wallet_logs_in_and_a_revocation_cuts_the_session(wallet_cli, urls, operator, fmt):
    name, did = new_wallet(wallet_cli, "vp")
    offer = offer_of(urls, operator, "RoleCredential", did=did)
    code, out = wallet_cli(
        "scan", "-w", name, offer["offer_link"], "--tx-code", offer["tx_code"], "--format", fmt
    )
    assert code == 0 and f"received RoleCredential_{SUFFIX[fmt]}" in out, out
    code, out = wallet_cli("credentials", "-w", name, "--json")
    [role] = [c for c in json.loads(out) if "RoleCredential" in c["types"]]

    gateway = urls["verifier"]
    browser = requests.Session()
    page = browser.get(f"{gateway}/portals/data-consumer", timeout=TIMEOUT)
    assert page.status_code == 200, page.text
    assert "didcomm://invite?oob=" in page.text  # both protocols on one page
    link = html.unescape(re.search(r'id="oid4vp-link" href="([^"]+)"', page.text).group(1))
    login_id = re.search(r'data-state="[^"]*/login/([^"]+)"', page.text).group(1)
    began = time.monotonic()
    code, out = wallet_cli("scan", "-w", name, link)
    assert code == 0 and "over OpenID4VP" in out, out
    state = browser.get(f"{gateway}/login/{login_id}", timeout=TIMEOUT).json()
    assert state["state"] == "verified", state
    scanned_to_verified = time.monotonic() - began
    finished = browser.post(
        f"{gateway}/login/{login_id}/session", allow_redirects=False, timeout=TIMEOUT
    )
    assert finished.status_code == 303, finished.text
    me = browser.get(f"{gateway}/auth/me", timeout=TIMEOUT).json()
    assert me["holder"] == did
    assert [c["valid"] for c in me["credentials"]] == [True], me
    assert me["credentials"][0]["id"] == role["id"]  # the issuer's id, the same in every format

    entry = entries_of(urls["revocation"], role["id"], operator)[0]
    revoke_entry(urls["revocation"], entry["id"], operator)
    took, me = timed(
        lambda: browser.get(f"{gateway}/auth/me", timeout=TIMEOUT).json(),
        3,
        until=lambda me: not me["credentials"][0]["valid"],
        what="the revoked SD-JWT VC to stop counting",
    )
    assert took < 1.0
    assert me["credentials"][0]["errors"] == ["revoked"]
    assert scanned_to_verified < 5
