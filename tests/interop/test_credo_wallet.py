"""Interop with a wallet engine we did not write: Credo 0.6 (``@credo-ts/openid4vc``, the engine
of the Bifold mobile wallet), unmodified, installed by ``make test`` (``make interop-deps``) and
driven by ``interop/credo/wallet.mjs``. It takes what a phone's camera would read (the offer QR's
``openid-credential-offer://`` link and the PIN; the portal QR's ``openid4vp://`` link) and does
the rest itself: OpenID4VCI 1.0 issuance of an OnboardingCredential and a RoleCredential as SD-JWT
VC and VC-JWT, then login at a gateway portal over OpenID4VP (signed request object, direct_post):
the 1.0 link (DCQL) first, and, while Credo refuses its ``iss`` (see below), the drafts' link the
page offers beside it. A revocation through the revocation API then cuts the session within 1 s.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.oid4vci import offer_of
from tests.support.status_entries import entries_of, revoke_entry
from tests.support.waits import timed

pytestmark = [pytest.mark.agents, pytest.mark.db]

CREDO = Path(__file__).resolve().parents[2] / "interop" / "credo"
TIMEOUT = 15
WALLET_TIMEOUT = 60  # one Node process: start Credo, do one exchange, exit
CLAIM_FORMAT = {"dc+sd-jwt": "dc+sd-jwt", "jwt_vc_json": "jwt_vc"}  # as Credo stores them
# What the wallet asks for: both formats (Credo then logs in with the VC-JWT), or SD-JWT VC alone
# (it logs in with an SD-JWT and KB-JWT; the revocation goes through the Token Status List).
WALLETS = {"sd-jwt-and-vc-jwt": "dc+sd-jwt,jwt_vc_json", "sd-jwt-only": "dc+sd-jwt"}


@pytest.fixture
def credo(tmp_path_factory):
    """``credo(command, *args)``: the Credo wallet CLI on one wallet folder; its JSON answer."""
    node = shutil.which("node")
    if node is None or not (CREDO / "node_modules" / "@credo-ts" / "openid4vc").is_dir():
        pytest.fail(
            "the Credo wallet is not installed: run `make interop-deps` (needs Node.js 20 "
            "and npm), or `make test`, which runs it first",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("credo-wallet")

    def run(command: str, *args: str, check: bool = True) -> dict[str, Any]:
        done = subprocess.run(
            [node, str(CREDO / "wallet.mjs"), command, str(folder), *args],
            capture_output=True,
            text=True,
            timeout=WALLET_TIMEOUT,
            cwd=CREDO,
        )
        lines = done.stdout.strip().splitlines()
        assert lines, f"no output from the Credo wallet ({done.returncode}): {done.stderr[-2000:]}"
        result = json.loads(lines[-1])
        if check:
            assert done.returncode == 0 and "error" not in result, (result, done.stderr[-2000:])
        return result

    return run


@pytest.mark.parametrize("formats", list(WALLETS.values()), ids=list(WALLETS))
def test_credo_receives_over_openid4vci_logs_in_over_openid4vp_and_a_revocation_cuts_it(
    credo,
    urls,
    operator,
    formats,  # noqa: F811
):
    stored_as = sorted(CLAIM_FORMAT[f] for f in formats.split(","))
    holder = credo("init")["did"]
    assert holder.startswith("did:key:z6Mk")

    timings: dict[str, float] = {}
    received: dict[str, list[dict[str, Any]]] = {}
    for family in ("OnboardingCredential", "RoleCredential"):
        offer = offer_of(urls, operator, family, did=holder)
        assert offer["offer_link"].startswith("openid-credential-offer://")
        began = time.monotonic()
        result = credo("receive", offer["offer_link"], offer["tx_code"], "--formats", formats)
        timings[f"scan→stored {family}"] = time.monotonic() - began
        timings[f"  of which in Credo {family}"] = result["seconds"]  # without Node's start-up
        received[family] = result["received"]
        assert sorted(r["format"] for r in result["received"]) == stored_as, result
        for credential in result["received"]:
            if credential["format"] == "dc+sd-jwt":
                assert credential["vct"].endswith(family) or family in credential["vct"], credential
            else:
                assert family in credential["types"], credential
    role_ids = {r.get("jti") or r.get("credential_id") for r in received["RoleCredential"]}
    assert len(role_ids) == 1, received  # the issuer's id, the same in every format
    [role_id] = role_ids
    held = credo("list")["credentials"]
    assert len(held) == 2 * len(stored_as), held

    gateway = urls["verifier"]
    browser = requests.Session()

    def open_login() -> tuple[str, str, str]:
        page = browser.get(f"{gateway}/portals/data-consumer", timeout=TIMEOUT)
        assert page.status_code == 200, page.text
        link, draft_link = (
            html.unescape(re.search(rf'id="{name}" href="([^"]+)"', page.text).group(1))
            for name in ("oid4vp-link", "oid4vp-draft-link")
        )
        login_id = re.search(r'data-state="[^"]*/login/([^"]+)"', page.text).group(1)
        return link, draft_link, login_id

    # OpenID4VP 1.0 (DCQL, client_id decentralized_identifier:<did:key>), the QR's link. Credo
    # 0.6.3's JAR check (@openid4vc/oauth2 0.4) wants the request object's iss to be the bare DID
    # the kid starts with, which the gateway now signs. Should a later Credo refuse it for that
    # reason alone, the same login over the drafts' link the page offers beside it.
    link, draft_link, login_id = open_login()
    assert link.startswith("openid4vp://?client_id=decentralized_identifier:did:key:"), link
    began = time.monotonic()
    presented = credo("present", link, check=False)
    if "error" in presented:
        assert "different from did value in 'iss'" in presented["error"], presented
        timings["OpenID4VP 1.0 refused by Credo after (s)"] = time.monotonic() - began
        _, draft_link, login_id = open_login()
        began = time.monotonic()
        presented = credo("present", draft_link)
        assert presented["query"] == "presentation_definition", presented
        if formats == "dc+sd-jwt":
            assert presented["submitted"] == ["vc+sd-jwt"], presented  # the drafts' name for it
    else:
        assert presented["query"] == "dcql", presented
    assert presented["ok"] and presented["signed"], presented
    state = browser.get(f"{gateway}/login/{login_id}", timeout=TIMEOUT).json()
    timings["scan→verified"] = time.monotonic() - began
    timings["  of which in Credo"] = presented["seconds"]
    assert state["state"] == "verified", state
    finished = browser.post(
        f"{gateway}/login/{login_id}/session", allow_redirects=False, timeout=TIMEOUT
    )
    assert finished.status_code == 303, finished.text
    me = browser.get(f"{gateway}/auth/me", timeout=TIMEOUT).json()
    assert me["holder"] == holder, me
    assert me["credentials"] and all(c["valid"] for c in me["credentials"]), me
    assert role_id in {c["id"] for c in me["credentials"]}, me

    entries = entries_of(urls["revocation"], role_id, operator)
    assert entries, role_id
    for entry in entries:
        revoke_entry(urls["revocation"], entry["id"], operator, "interop test")

    def cut() -> bool:
        me = browser.get(f"{gateway}/auth/me", timeout=TIMEOUT).json()
        role = [c for c in me.get("credentials", []) if c["id"] == role_id]
        return not role or not role[0]["valid"]

    timings["revocation→session cut"] = timed(cut, 3, what="the revoked RoleCredential cut")[0]
    print("Credo presented:", presented["query"], presented["submitted"])
    print("Credo interop timings (s):", {k: round(v, 3) for k, v in timings.items()})
    assert timings["revocation→session cut"] < 1.0, timings
