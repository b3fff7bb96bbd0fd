"""The gateway's QR-login hand-off to other services (gateway/handoff.py) and the
services' side of it (signin/handoff.py), without agents: what the gateway refuses before it
shows a login page, the one-time code (single use, PKCE verifier, client and callback bound,
expiry, credential re-checked), and the service's own decision over what it is handed.

The full flow — depute's and KCIT's pages, the gateway's QR page, a wallet answering it — runs
with the agents in tests/depute/test_flow.py and tests/signin/test_governance_login.py.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from gateway.challenges import login_challenges
from gateway.handoff import clients_from
from gateway.state import gateway
from signin.handoff import SignedIn, admit
from signin.pkce import s256
from tests.support.gateway import AUTHORITY, COMPANY, running_gateway
from tests.support.problems import assert_problem
from tests.support.waits import eventually
from verifier.challenges import bound_to
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.pdp import AttorneyPower, Role
from verifier.testing import Party, credgate_credential, serving_lists
from verifier.trust import CombinedTrustRegistry, CompanyStatus, StaticTrustRegistry

pytestmark = pytest.mark.db

ADMIN = Party.generate()
CALLBACK = "http://depute.test/depute/login/callback"
CLIENTS = {
    "depute": {"title": "Depute", "redirect_uris": [CALLBACK], "portals": ["company-access"]}
}


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(("attorneys", COMPANY, "suspension"))


@pytest.fixture(scope="module")
def app(settings, db, trust, status_server):
    yield from running_gateway(
        settings, db, trust=trust, status_url=status_server.url, apps=[], GATEWAY_CLIENTS=CLIENTS
    )


_index = iter(range(1, 100_000))


def admin_mandate(status_server, holder: Party = ADMIN) -> dict:
    credential = credgate_credential(
        "AttorneyCredential",
        COMPANY,
        holder.did,
        status=status_server.entry("attorneys", next(_index)),
    )
    credential.pop("proof")
    credential["credentialSubject"]["powers"] = [{"app": "depute", "actions": ["admin"]}]
    return COMPANY.sign(credential)


def connect_args(**changes) -> dict[str, str]:
    args = {
        "portal": "company-access",
        "redirect_uri": CALLBACK,
        "state": secrets.token_urlsafe(16),
        "code_challenge": s256("v" * 43),
        "code_challenge_method": "S256",
    }
    args.update(changes)
    return {k: v for k, v in args.items() if v is not None}


def handed_over(app, client, credential: dict, verifier_secret: str, **code_ttl) -> dict:
    """A verified login for ``depute`` and the callback URL with its code (what the browser's
    Continue gets), made without an agent: the presentation is verified as a login would be."""
    with app.test_request_context():
        gw = gateway()
        store = login_challenges(gw.factory, "company-access")  # a QR login's own challenges
        issued = store.issue(gw.domain)
        vp = ADMIN.present([credential], challenge=issued.challenge, domain=issued.domain)
        result = bound_to(gw.verifier, store).verify_presentation(
            vp, challenge=issued.challenge, domain=issued.domain
        )
        assert result.verified, result.error_types()
        grant_id, _ = gw.grants.create(
            result, kind="session", ttl=timedelta(hours=1), portal="company-access"
        )
        request = gw.handoffs.check_request(
            "depute", connect_args(code_challenge=s256(verifier_secret))
        )
        login_id = secrets.token_urlsafe(9)
        gw.handoffs.attach(login_id, request)
        if code_ttl:
            gw.handoffs.code_ttl = code_ttl["code_ttl"]
        try:
            url = gw.handoffs.issue_code(gw.handoffs.for_login(login_id), gw.grants.get(grant_id))
        finally:
            gw.handoffs.code_ttl = timedelta(seconds=60)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(CALLBACK + "?") and query["state"] == [request.state]
    return {"code": query["code"][0], "grant": grant_id}


def redeem(http, code: str, verifier_secret: str, **changes):
    body = {
        "client": "depute",
        "code": code,
        "code_verifier": verifier_secret,
        "redirect_uri": CALLBACK,
        **changes,
    }
    return http.post("/connect/token", json=body)


# -- /connect/<client>: refused before any page or login is made ------------------------------


@pytest.mark.parametrize(
    ("client_name", "changes", "status", "slug", "names"),
    [
        ("nobody", {}, 404, "unknown-client", "nobody"),
        (
            "depute",
            {"redirect_uri": "https://evil.example/cb"},
            400,
            "invalid-handoff-request",
            "redirect_uri",
        ),
        (
            "depute",
            {"redirect_uri": CALLBACK + "x"},
            400,
            "invalid-handoff-request",
            "redirect_uri",
        ),
        ("depute", {"portal": "governance"}, 400, "invalid-handoff-request", "company-access"),
        ("depute", {"state": "short"}, 400, "invalid-handoff-request", "state"),
        ("depute", {"state": None}, 400, "invalid-handoff-request", "state"),
        ("depute", {"code_challenge_method": "plain"}, 400, "invalid-handoff-request", "S256"),
        ("depute", {"code_challenge": "x" * 10}, 400, "invalid-handoff-request", "code_challenge"),
    ],
)
def test_connect_refuses_a_bad_request_with_a_problem(
    client, client_name, changes, status, slug, names
):
    response = client.get(f"/connect/{client_name}", query_string=connect_args(**changes))
    body = assert_problem(response, status, slug)
    assert names in body["detail"]


# -- /connect/token: the one-time code --------------------------------------------------------


def test_a_code_is_redeemed_once_by_its_client_with_its_verifier(app, client, status_server):
    secret = secrets.token_urlsafe(48)
    mandate = admin_mandate(status_server)
    handed = handed_over(app, client, mandate, secret)

    # Wrong verifier, client or callback: refused, and the code is not spent by it.
    assert (
        "code_verifier"
        in assert_problem(
            redeem(client, handed["code"], secrets.token_urlsafe(48)), 400, "invalid-grant"
        )["detail"]
    )
    assert_problem(redeem(client, handed["code"], secret, client="kcit"), 400, "invalid-grant")
    assert_problem(
        redeem(client, handed["code"], secret, redirect_uri=CALLBACK + "?x=1"), 400, "invalid-grant"
    )
    assert_problem(redeem(client, "not-a-code", secret), 400, "invalid-grant")

    answer = redeem(client, handed["code"], secret)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["Cache-Control"] == "no-store"
    body = answer.get_json()
    assert body["holder"] == ADMIN.did and body["portal"] == "company-access"
    assert [c["id"] for c in body["credentials"]] == [mandate["id"]]
    assert body["credentials"][0]["proof"] == mandate["proof"]  # as presented, still signed

    again = assert_problem(redeem(client, handed["code"], secret), 400, "invalid-grant")
    assert "already used" in again["detail"]
    with app.app_context():  # the gateway's own grant ends: the service runs its own session
        assert gateway().grants.get(handed["grant"]) is None


def test_an_expired_code_or_a_revoked_credential_is_refused(app, client, status_server):
    secret = secrets.token_urlsafe(48)
    expired = handed_over(
        app, client, admin_mandate(status_server), secret, code_ttl=timedelta(seconds=-1)
    )
    assert (
        "expired"
        in assert_problem(redeem(client, expired["code"], secret), 400, "invalid-grant")["detail"]
    )

    mandate = admin_mandate(status_server)
    handed = handed_over(app, client, mandate, secret)
    status_server.set("attorneys", int(mandate["credentialStatus"]["statusListIndex"]))
    verifier = app.extensions["credgate.verifier"]
    eventually(
        lambda: not verifier.verify_credential(mandate).verified,
        2,
        0.02,
        what="the suspension to reach the gateway",
    )  # the change feed drops the list
    assert_problem(redeem(client, handed["code"], secret), 403, "suspended")


@pytest.mark.parametrize(
    ("kwargs", "status", "slug"),
    [
        (
            {"data": "code=x", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported-media-type",
        ),
        ({"data": "{", "content_type": "application/json"}, 400, "malformed-json"),
        ({"json": ["code"]}, 400, "invalid-request"),
        ({"json": {"client": "depute", "code": "x"}}, 400, "invalid-request"),
        (
            {
                "json": {
                    "client": "depute",
                    "code": "x",
                    "code_verifier": "short",
                    "redirect_uri": CALLBACK,
                }
            },
            400,
            "invalid-grant",
        ),
        (
            {
                "json": {
                    "client": "depute",
                    "code": "x",
                    "code_verifier": "v" * 43,
                    "redirect_uri": CALLBACK,
                }
            },
            400,
            "invalid-grant",
        ),
        # a lone surrogate is refused by the body parser of every service, before the route
        (
            {
                "json": {
                    "client": "depute",
                    "code": "\ud800" * 43,
                    "code_verifier": "v" * 43,
                    "redirect_uri": CALLBACK,
                }
            },
            400,
            "invalid-string",
        ),
        (
            {
                "json": {
                    "client": "d\u00e9pute",
                    "code": "c" * 43,
                    "code_verifier": "v" * 43,
                    "redirect_uri": CALLBACK,
                }
            },
            400,
            "invalid-request",
        ),
    ],
)
def test_malformed_redemptions_get_problems(client, kwargs, status, slug):
    assert_problem(client.post("/connect/token", **kwargs), status, slug)


# -- the service's own decision (signin/handoff.py) ------------------------------------------


def test_a_service_admits_only_credentials_of_the_holder_that_grant_what_it_needs(
    trust, status_server
):
    verifier = Verifier(DidResolver(), trust=trust, require_status=False)
    mandate = admin_mandate(status_server)
    admin = AttorneyPower("depute", "admin")

    decision, results = admit(verifier, SignedIn(ADMIN.did, "company-access", (mandate,)), admin)
    assert decision.allow and decision.credentials == (mandate["id"],)
    assert decision.acting_for == COMPANY.did and results[0].verified

    # Handed over for someone else: not the holder's credential, so it grants nothing.
    other = Party.generate()
    decision, _ = admit(verifier, SignedIn(other.did, "company-access", (mandate,)), admin)
    assert not decision.allow and decision.reasons[0].code == "power-missing"

    # Altered after it was signed: it does not verify, and says why.
    tampered = {
        **mandate,
        "credentialSubject": {
            **mandate["credentialSubject"],
            "powers": [{"app": "compute", "actions": ["run"]}],
        },
    }
    decision, results = admit(
        verifier,
        SignedIn(ADMIN.did, "company-access", (tampered,)),
        AttorneyPower("compute", "run"),
    )
    assert not decision.allow and results[0].errors

    decision, _ = admit(
        verifier, SignedIn(ADMIN.did, "company-access", (mandate,)), Role("Governance")
    )
    assert not decision.allow and decision.reasons[0].code == "role-missing"


# -- trust from KCIT and the operator's file together ------------------------------------------


def test_combined_trust_takes_any_trusted_issuer_and_the_strictest_company_status():
    other = Party.generate()
    file = StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did, companies={COMPANY.did: "active", other.did: "active"}
    )
    registry = StaticTrustRegistry(
        onboarding_authority=other.did, companies={other.did: "suspended"}
    )
    both = CombinedTrustRegistry(file, registry)
    assert both.is_onboarding_authority(AUTHORITY.did) and both.is_onboarding_authority(other.did)
    assert not both.is_onboarding_authority(ADMIN.did)
    assert both.company_status(COMPANY.did) is CompanyStatus.ACTIVE  # known to one only
    assert both.company_status(other.did) is CompanyStatus.SUSPENDED  # one says suspended
    assert both.company_status(ADMIN.did) is CompanyStatus.UNKNOWN
    # A registry that does not track powers (a trust file) leaves a company's powers open...
    assert both.company_powers(COMPANY.did) is None
    assert both.company_powers(ADMIN.did) == frozenset()


@pytest.mark.parametrize(
    "configured",
    [
        {"depute": {"redirect_uris": CALLBACK, "portals": ["company-access"]}},
        {"depute": {"redirect_uris": [CALLBACK], "portals": []}},
        {"depute": "Depute"},
        ["depute"],
    ],
)
def test_a_malformed_client_registration_is_refused_at_start_up(configured):
    with pytest.raises(ValueError, match="GATEWAY_CLIENTS"):
        clients_from(configured, {})
