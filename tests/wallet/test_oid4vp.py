"""The wallet stand-in logs in over OpenID4VP: ``credgate wallet scan <openid4vp://...>`` against
a gateway portal, with credentials whose keys live in ACA-Py agents — an SD-JWT VC signed by the
authority's agent (``/wallet/sd-jwt/sign``, ACA-Py's own recursive disclosures) and bound to the
wallet user's did:key, whose KB-JWT the holder agent signs; and a W3C credential issued over
DIDComm, presented as an ldp_vp the holder agent signs. A Token Status List signed by the
authority's agent key cuts the session within a second.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from sqlalchemy import select

from credgate.db import transaction, utcnow
from tests.support.gateway import gateway_app, serving_gateway
from tests.support.oid4vp import PROBE, Browser, TokenListServer
from tests.support.waits import timed
from tests.support.wallet import (
    credential_for,
    offer_link,
    publisher_trust,
    serving_wallet,
    wallet_runner,
)
from verifier import jose
from verifier.dids import DidResolver
from verifier.testing import Party, serving_lists
from wallet import oid4vci
from wallet.models import DONE, Interaction, WalletUser

pytestmark = [pytest.mark.agents, pytest.mark.db]

PUBLISHER = Party.generate()  # the W3C status list's publisher, named for the authority


@pytest.fixture(scope="module")
def authority(tenant):
    return tenant("issuer", "oid4vp-authority")


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(("w3c-roles", PUBLISHER, "revocation"))


@pytest.fixture(scope="module")
def token_lists(status_server, authority):
    server = TokenListServer(feed=status_server).start()

    def sign(payload, header):
        return authority.client.sign_jwt(payload, did=authority.did, headers=header)

    server.add("roles", None, did=authority.did, sign=sign)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(settings, db, authority, status_server, token_lists):
    app = gateway_app(
        settings,
        db,
        trust=publisher_trust(authority, PUBLISHER),
        status_url=status_server.url,
        apps=[PROBE],
        FETCH_ALLOW=[token_lists.url],
    )
    yield from serving_gateway(app)


@pytest.fixture(scope="module")
def wallet(suite, settings, db, gateway, authority, links, status_server):
    yield from serving_wallet(
        suite,
        settings,
        db,
        publisher_trust(authority, PUBLISHER),
        [gateway.url, links.url, status_server.url],
    )


@pytest.fixture(scope="module")
def run(settings, wallet):
    """``credgate wallet ...`` against this module's wallet service."""
    return wallet_runner(settings.var_dir, wallet)


@pytest.fixture(scope="module")
def olga(run, db):
    code, out = run("create", "olga-oid4vp")
    assert code == 0, out
    with db() as session:
        return session.scalar(select(WalletUser).where(WalletUser.name == "olga-oid4vp"))


def store_sdjwt(db, user: WalletUser, credential: str) -> None:
    """What the wallet's OpenID4VCI client keeps for a received SD-JWT VC."""
    with transaction(db) as session:
        session.add(
            Interaction(
                id=f"t{time.monotonic_ns()}"[:32],
                user_id=user.id,
                kind=oid4vci.KIND,
                record_id=f"r{time.monotonic_ns()}"[:64],
                state=DONE,
                request={"configuration_id": "RoleCredential_sd_jwt", "format": "dc+sd-jwt"},
                outcome={"format": "dc+sd-jwt", "credential": credential},
                updated_at=utcnow(),
            )
        )


def holder_jwk(did: str) -> dict:
    method = DidResolver().verification_method(
        f"{did}#{did.removeprefix('did:key:')}", "authentication"
    )
    return json.loads(jose.ed25519_jwk(method.public_key).export_public())


def test_wallet_scan_logs_in_with_an_agent_signed_sdjwt(
    run, olga, db, authority, gateway, token_lists
):
    now = int(time.time())
    payload = {
        "iss": authority.did,
        "iat": now - 5,
        "nbf": now - 5,
        "exp": now + 3600,
        "vct": "RoleCredential",
        "cnf": {"jwk": holder_jwk(olga.did)},
        "status": {"status_list": {"idx": 11, "uri": token_lists.uri("roles")}},
        "roles": ["DataProvider", "ModelConsumer"],
        "legalName": "Olga Ltd",
    }
    credential = authority.client.sign_sd_jwt(
        payload,
        did=authority.did,
        headers={"typ": "dc+sd-jwt"},
        non_sd=[
            "iss",
            "iat",
            "nbf",
            "exp",
            "vct",
            "cnf",
            "status",
            "status.status_list",
            "status.status_list.idx",
            "status.status_list.uri",
        ],
    )
    store_sdjwt(db, olga, credential)

    browser = Browser(gateway.url)
    login = browser.open()
    started = time.monotonic()
    code, out = run("scan", login["link"], "-w", "olga-oid4vp")
    assert code == 0, out
    assert "over OpenID4VP" in out
    assert browser.state(login)["state"] == "verified"
    assert time.monotonic() - started < 5
    assert browser.finish(login).status_code == 303
    route = gateway.url + "/apps/oid4vp-probe/data"
    allowed = browser.http.get(route, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["holder"] == olga.did

    token_lists.set("roles", 11)
    took, _ = timed(lambda: browser.http.get(route, timeout=10).status_code != 200, 3)
    assert took < 1.0

    # The scan's record names what was presented, not the claims nobody asked for.
    with db() as session:
        row = session.scalars(
            select(Interaction).where(
                Interaction.user_id == olga.id,
                Interaction.kind == "oid4vp-presentation",
            )
        ).all()[-1]
    assert row.state == DONE and row.outcome["status"] == 200


def test_wallet_refused_login_says_why(run, olga, gateway):
    browser = Browser(gateway.url)
    login = browser.open("company-access")  # olga holds no Attorney credential
    code, out = run("scan", login["link"], "-w", "olga-oid4vp")
    assert code != 0
    assert "no credential" in out.lower()
    assert requests.get(gateway.url + login["state"], timeout=5).json()["state"] == "scanned"


def test_wallet_scan_presents_a_didcomm_issued_credential_as_ldp_vp(
    run, db, authority, gateway, links, status_server
):
    code, out = run("create", "oskar-oid4vp")
    assert code == 0, out
    credential = credential_for(
        authority,
        "RoleCredential",
        roles=["DataProvider"],
        status=status_server.entry("w3c-roles", 5),
    )
    code, out = run(
        "scan", offer_link(links, authority, credential), "-w", "oskar-oid4vp", "--accept"
    )
    assert code == 0 and "stored RoleCredential" in out, out

    browser = Browser(gateway.url)
    login = browser.open()
    code, out = run("scan", login["link"], "-w", "oskar-oid4vp")
    assert code == 0, out
    assert "ldp" in out and browser.state(login)["state"] == "verified"
    assert browser.finish(login).status_code == 303
    route = gateway.url + "/apps/oid4vp-probe/data"
    assert browser.http.get(route, timeout=10).status_code == 200
