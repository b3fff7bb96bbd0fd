"""Relay and QR hijack: a challenge belongs to the consumer that issued it.

Each place that takes a presentation over a challenge — the VC-API's ``/challenges``, the
gateway's token API, each QR login (per portal, and per login), depute's sign-in — spends only
its own challenges: one issued elsewhere is *unknown* there (the answer does not say that it
exists elsewhere). The token API and depute's direct sign-in also require the proof's
``domain``; QR logins take Aries presentations without one, bound to their login instead.

The first part runs against an in-process gateway with real keys and a real status-list server;
the second against the suite's gateway and depute over HTTP, with a real QR login (its agent).
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
import requests

from credgate.db import utcnow
from gateway.challenges import login_challenges, token_challenges
from gateway.state import gateway
from tests.support.gateway import challenge, running_gateway
from tests.support.problems import PROBLEMS
from verifier import errors
from verifier.challenges import (
    DEPUTE,
    GATEWAY_TOKEN,
    VC_API,
    ChallengeStore,
    login_consumer,
)
from verifier.testing import Party, credgate_credential, serving_lists
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
HOLDER = Party.generate()
_index = itertools.count(1)

CONSUMERS = (
    VC_API,
    GATEWAY_TOKEN,
    DEPUTE,
    login_consumer("governance"),
    login_consumer("company-access"),
    login_consumer("data-provider"),
)

# -- the store: every pair of consumers -------------------------------------------------------


@pytest.mark.db
@pytest.mark.parametrize(("issuer", "spender"), list(itertools.permutations(CONSUMERS, 2)))
def test_a_challenge_of_one_consumer_is_unknown_to_every_other(db, issuer, spender):
    issued = ChallengeStore(db, issuer).issue("gw.example")
    with pytest.raises(errors.VerificationError) as refused:
        ChallengeStore(db, spender).consume(issued.challenge, "gw.example")
    assert refused.value.slug == errors.CHALLENGE_UNKNOWN
    assert "gw.example" not in refused.value.detail  # nothing about the other consumer's row
    ChallengeStore(db, issuer).consume(issued.challenge, "gw.example")  # still live for its own


@pytest.mark.db
def test_a_store_that_requires_a_domain_refuses_none_without_spending(db):
    store = ChallengeStore(db, GATEWAY_TOKEN, require_domain=True)
    issued = store.issue("gw.example")
    for missing in (None, ""):
        with pytest.raises(errors.VerificationError) as refused:
            store.consume(issued.challenge, missing)
        assert refused.value.slug == errors.DOMAIN_MISSING
    store.consume(issued.challenge, "gw.example")
    with pytest.raises(errors.VerificationError) as again:
        store.consume(issued.challenge, "gw.example")
    assert again.value.slug == errors.CHALLENGE_REUSED


@pytest.mark.db
def test_gateway_challenges_are_uuid4_from_the_one_store(db):
    issued = token_challenges(db).issue("gw.example")
    assert len(issued.challenge) == 36 and issued.challenge[14] == "4"
    now = utcnow()
    login = login_challenges(db, "governance", timedelta(seconds=30)).issue("gw.example", now=now)
    assert login.expires_at == now + timedelta(seconds=30)  # the login's own lifetime
    assert len(login.challenge) == 36 and login.challenge[14] == "4"


# -- an in-process gateway: VC-API and token API ----------------------------------------------


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(("roles", AUTHORITY, "revocation"))


@pytest.fixture(scope="module")
def app(settings, db, status_server):
    trust = StaticTrustRegistry(onboarding_authority=AUTHORITY.did)
    yield from running_gateway(
        settings,
        db,
        trust=trust,
        status_url=status_server.url,
        apps=[],
        VERIFIER_DOMAIN="gateway.test",
    )


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture()
def role(status_server):
    return credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status_server.entry("roles", next(_index))
    )


def token(client, vp) -> tuple[int, str | None]:
    response = client.post("/auth/token", json={"verifiablePresentation": vp})
    return response.status_code, (response.get_json() or {}).get("type", "").removeprefix(
        PROBLEMS
    ) or None


def vc_api_verify(client, vp, challenge_value) -> dict:
    return client.post(
        "/presentations/verify",
        json={
            "verifiablePresentation": vp,
            "options": {"challenge": challenge_value},
        },
    ).get_json()


@pytest.mark.db
def test_the_honest_token_path_works(client, role):
    issued = challenge(client)
    assert issued["domain"] == "gateway.test"
    vp = HOLDER.present([role], challenge=issued["challenge"], domain=issued["domain"])
    assert token(client, vp) == (200, None)


@pytest.mark.db
def test_a_vc_api_challenge_is_unknown_to_the_token_api(client, role):
    issued = client.post("/challenges", json={"domain": "gateway.test"}).get_json()
    vp = HOLDER.present([role], challenge=issued["challenge"], domain="gateway.test")
    assert token(client, vp) == (400, errors.CHALLENGE_UNKNOWN)
    # ... and stays usable where it was issued.
    assert vc_api_verify(client, vp, issued["challenge"])["verified"] is True


@pytest.mark.db
def test_a_token_presentation_relayed_to_the_vc_api_is_refused(client, role):
    issued = challenge(client)
    vp = HOLDER.present([role], challenge=issued["challenge"], domain=issued["domain"])
    bare = {"verifiablePresentation": vp}
    relayed = client.post("/presentations/verify", json=bare).get_json()
    assert relayed["verified"] is False
    assert relayed["type"] == PROBLEMS + "verification-failed"
    assert [e["type"] for e in relayed["errors"]] == [PROBLEMS + errors.CHALLENGE_UNKNOWN]
    # Named by the caller (the VC-API's options.challenge), it is only compared with the proof:
    # reported as not ours, and never spent from the token API's store.
    compared = vc_api_verify(client, vp, issued["challenge"])
    assert [w["type"] for w in compared["warnings"]] == [PROBLEMS + errors.CHALLENGE_UNKNOWN]
    assert token(client, vp) == (200, None)  # the relay did not spend it
    # A VP replayed to a second consumer after its first use: unknown there, not "reused".
    again = client.post("/presentations/verify", json=bare).get_json()
    assert [e["type"] for e in again["errors"]] == [PROBLEMS + errors.CHALLENGE_UNKNOWN]


@pytest.mark.db
def test_the_token_api_requires_a_domain(client, role):
    issued = challenge(client)
    bare = HOLDER.present([role], challenge=issued["challenge"])  # as a relayed Aries proof
    status, slug = token(client, bare)
    assert (status, slug) == (400, errors.DOMAIN_MISSING)
    response = client.post("/auth/token", json=bare).get_json()
    assert response["title"] == "Domain missing" and "domain" in response["detail"]
    # Refused without spending: the holder can still sign properly.
    vp = HOLDER.present([role], challenge=issued["challenge"], domain=issued["domain"])
    assert token(client, vp) == (200, None)


@pytest.mark.db
def test_a_wrong_domain_and_a_spent_challenge_are_refused(client, role):
    issued = challenge(client)
    elsewhere = HOLDER.present([role], challenge=issued["challenge"], domain="evil.example")
    assert token(client, elsewhere) == (400, errors.DOMAIN_MISMATCH)
    vp = HOLDER.present([role], challenge=issued["challenge"], domain=issued["domain"])
    assert token(client, vp) == (200, None)
    assert token(client, vp) == (400, errors.CHALLENGE_REUSED)
    resigned = HOLDER.present([role], challenge=issued["challenge"], domain=issued["domain"])
    assert token(client, resigned) == (400, errors.CHALLENGE_REUSED)


@pytest.mark.db
def test_a_qr_login_challenge_is_unknown_to_the_token_api(client, app, role):
    with app.app_context():
        gw = gateway()
        login = login_challenges(gw.factory, "data-provider").issue(gw.domain)
    vp = HOLDER.present([role], challenge=login.challenge, domain="gateway.test")
    assert token(client, vp) == (400, errors.CHALLENGE_UNKNOWN)


# -- the suite: real QR logins, depute's sign-in ----------------------------------------------


@pytest.fixture(scope="module")
def urls(suite):
    return {"gateway": suite.servers["verifier"].url, "depute": suite.servers["depute"].url}


def open_login(base: str, portal: str) -> tuple[str, str]:
    """A QR login as a browser starts it and a wallet scans it: (its state URL, its challenge)."""
    http = requests.Session()
    page = http.get(f"{base}/portals/{portal}", timeout=15)
    assert page.status_code == 200, page.text
    state_path = page.text.split('data-state="', 1)[1].split('"', 1)[0]
    login_id = state_path.rsplit("/", 1)[1]
    invitation = requests.get(
        f"{base}/i/{login_id}", headers={"Accept": "application/json"}, timeout=10
    ).json()
    request = invitation["requests~attach"][0]["data"]["json"]
    options = request["request_presentations~attach"][0]["data"]["json"]["options"]
    return state_path, options["challenge"]


def post_to_login(base: str, state_path: str, vp: dict) -> dict:
    login_id = state_path.rsplit("/", 1)[1]
    posted = requests.post(f"{base}/login/{login_id}/presentation", json=vp, timeout=10)
    assert posted.status_code == 400, posted.text
    assert posted.json()["type"] == PROBLEMS + "login-failed"
    return requests.get(base + state_path, timeout=10).json()


def depute_challenge(urls) -> dict:
    response = requests.post(f"{urls['depute']}/depute/api/login/challenge", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def depute_login(urls, vp) -> requests.Response:
    return requests.post(
        f"{urls['depute']}/depute/api/login", json={"presentation": vp}, timeout=10
    )


def gateway_token_challenge(urls) -> dict:
    return requests.post(f"{urls['gateway']}/auth/challenge", timeout=10).json()


@pytest.mark.agents
@pytest.mark.db
def test_a_qr_login_challenge_relayed_to_the_token_api_is_unknown(urls):
    _login_id, login_challenge = open_login(urls["gateway"], "data-provider")
    domain = gateway_token_challenge(urls)["domain"]
    vp = HOLDER.present([], challenge=login_challenge, domain=domain)
    response = requests.post(f"{urls['gateway']}/auth/token", json=vp, timeout=10)
    assert response.status_code == 400
    assert response.json()["type"] == PROBLEMS + errors.CHALLENGE_UNKNOWN


@pytest.mark.agents
@pytest.mark.db
def test_vc_api_and_token_challenges_do_not_open_a_qr_login(urls):
    base = urls["gateway"]
    for issued in (
        requests.post(f"{base}/challenges", timeout=10).json(),
        gateway_token_challenge(urls),
    ):
        login_id, _ = open_login(base, "data-provider")
        vp = HOLDER.present([], challenge=issued["challenge"])  # an Aries proof: no domain
        state = post_to_login(base, login_id, vp)
        assert state["state"] == "failed" and errors.CHALLENGE_MISMATCH in state["reason"]


@pytest.mark.agents
@pytest.mark.db
def test_a_token_challenge_is_unknown_to_depute(urls):
    issued = gateway_token_challenge(urls)
    domain = depute_challenge(urls)["domain"]
    refused = depute_login(urls, HOLDER.present([], challenge=issued["challenge"], domain=domain))
    assert refused.status_code == 401
    assert refused.json()["type"] == PROBLEMS + errors.CHALLENGE_UNKNOWN
    vc_api = requests.post(f"{urls['gateway']}/challenges", timeout=10).json()
    refused = depute_login(urls, HOLDER.present([], challenge=vc_api["challenge"], domain=domain))
    assert refused.json()["type"] == PROBLEMS + errors.CHALLENGE_UNKNOWN


@pytest.mark.agents
@pytest.mark.db
def test_depute_requires_a_domain(urls):
    issued = depute_challenge(urls)
    refused = depute_login(urls, HOLDER.present([], challenge=issued["challenge"]))
    assert refused.status_code == 401
    assert refused.json()["type"] == PROBLEMS + errors.DOMAIN_MISSING


@pytest.mark.agents
@pytest.mark.db
def test_a_depute_challenge_opens_neither_governance_nor_a_token(urls):
    issued = depute_challenge(urls)
    base = urls["gateway"]
    login_id, _ = open_login(base, "governance")
    state = post_to_login(base, login_id, HOLDER.present([], challenge=issued["challenge"]))
    assert state["state"] == "failed" and errors.CHALLENGE_MISMATCH in state["reason"]
    domain = gateway_token_challenge(urls)["domain"]
    vp = HOLDER.present([], challenge=issued["challenge"], domain=domain)
    response = requests.post(f"{base}/auth/token", json=vp, timeout=10)
    assert response.json()["type"] == PROBLEMS + errors.CHALLENGE_UNKNOWN


@pytest.mark.agents
@pytest.mark.db
def test_one_logins_challenge_does_not_open_another_portals_login(urls):
    base = urls["gateway"]
    _first, first_challenge = open_login(base, "governance")
    second, _ = open_login(base, "data-provider")
    state = post_to_login(base, second, HOLDER.present([], challenge=first_challenge))
    assert state["state"] == "failed" and errors.CHALLENGE_MISMATCH in state["reason"]
