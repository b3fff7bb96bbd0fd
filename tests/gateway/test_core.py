"""Gateway core and token API: mounted routes declare requirements, the policy decides, every
decision is audited, tokens are EdDSA JWTs bound to a grant whose credentials are re-checked on
every request — a revocation or a KCIT deactivation denies the next request within a second.
"""

from __future__ import annotations

import base64
import copy
import json
import time

import pytest
from flask import Blueprint
from jwcrypto import jwk, jwt

from credgate.tokens import ensure_operator_token
from gateway.mount import MountError, mount
from gateway.plugin import (
    ActingFor,
    AnyOf,
    AttorneyPower,
    DefinitionName,
    GatewayApp,
    Participant,
    Public,
    Role,
    current_principal,
    requires,
)
from gateway.state import gateway
from tests.support.gateway import (
    AUTHORITY,
    COMPANY,
    bearer,
    challenge,
    running_gateway,
    token_for,
)
from tests.support.problems import PROBLEMS
from tests.support.waits import timed
from verifier.testing import Party, StatusListServer, credgate_credential, serving_lists
from verifier.trust import CompanyStatus

pytestmark = pytest.mark.db

HOLDER = Party.generate()
EMPLOYEE = Party.generate()
STRANGER = Party.generate()

probe = Blueprint("probe", __name__)


@probe.get("/open")
@requires(Public())
def open_route():
    return {"open": True}


@probe.get("/me")
@requires(Participant())
def me():
    principal = current_principal()
    return {"holder": principal.holder, "party": principal.party, "via": principal.via}


@probe.get("/data")
@requires(Role("DataProvider"))
def data():
    return {"data": [1, 2, 3]}


@probe.post("/buy")
@requires(AnyOf(AttorneyPower("marketplace", "purchase"), Role("DataConsumer")))
def buy():
    return {"bought": True, "buyer": current_principal().party}


@probe.post("/publish")
@requires(ActingFor(AttorneyPower("catalogue", "publish"), ("DataProvider", "ModelProvider")))
def publish():
    return {"published": True, "for": current_principal().acting_for}


@probe.get("/portal")
@requires(DefinitionName("data-provider"))
def portal():
    return {"ok": True}


PROBE = GatewayApp("probe", "Probe", probe, powers=("read",))
_index = iter(range(1, 100_000))


@pytest.fixture(scope="module")
def status_server():
    yield from serving_lists(
        ("roles", AUTHORITY, "revocation"),
        ("attorneys", COMPANY, "suspension"),
    )


@pytest.fixture(scope="module")
def app(settings, db, trust, status_server):
    yield from running_gateway(
        settings, db, trust=trust, status_url=status_server.url, apps=[PROBE]
    )


def gateway_of(app):
    with app.app_context():
        return gateway()


def role(holder=HOLDER, *, status=True, issuer=AUTHORITY, **kwargs):
    entry = None
    if status:
        entry = status_server_ref.entry("roles", next(_index))
    return credgate_credential("RoleCredential", issuer, holder.did, status=entry, **kwargs)


def onboarding(holder=HOLDER):
    entry = status_server_ref.entry("roles", next(_index))
    return credgate_credential("OnboardingCredential", AUTHORITY, holder.did, status=entry)


def attorney(holder=EMPLOYEE, powers=None, issuer=COMPANY):
    credential = credgate_credential(
        "AttorneyCredential",
        issuer,
        holder.did,
        status=status_server_ref.entry("attorneys", next(_index)),
    )
    if powers is not None:  # re-sign with other powers
        credential.pop("proof")
        credential["credentialSubject"]["powers"] = powers
        credential = issuer.sign(credential)
    return credential


status_server_ref: StatusListServer


@pytest.fixture(scope="module", autouse=True)
def _status_ref(status_server):
    global status_server_ref
    status_server_ref = status_server


def decisions(app, **filters):
    gw = gateway_of(app)
    gw.audit.flush()
    from gateway.audit import recent_decisions

    return recent_decisions(gw.factory, **filters)


# -- tokens and decisions ---------------------------------------------------------------------


def test_token_gives_access_by_role_and_denial_names_the_missing_power(app, client):
    credential = role()  # roles DataProvider, ModelConsumer
    token = token_for(client, HOLDER, [credential, onboarding()])  # onboarded: a participant
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["alg"] == "EdDSA"

    assert client.get("/apps/probe/data", headers=bearer(token)).get_json() == {"data": [1, 2, 3]}
    me = client.get("/apps/probe/me", headers=bearer(token)).get_json()
    assert me == {"holder": HOLDER.did, "party": HOLDER.did, "via": "token"}

    denied = client.post("/apps/probe/buy", headers=bearer(token))
    assert denied.status_code == 403
    assert denied.mimetype == "application/problem+json"
    body = denied.get_json()
    assert body["type"] == PROBLEMS + "power-missing"
    assert "marketplace:purchase" in body["title"] and "marketplace:purchase" in body["detail"]
    assert body["missing"] == ["power marketplace:purchase", "role DataConsumer"]

    audited = decisions(app, holder=HOLDER.did)
    allowed = [d for d in audited if d["route"] == "/apps/probe/data"]
    assert allowed and allowed[0]["allow"] and allowed[0]["credentials"] == [credential["id"]]
    refused = [d for d in audited if d["route"] == "/apps/probe/buy"][0]
    assert not refused["allow"] and refused["reason"] == "power-missing"
    assert refused["requirement"] == "power marketplace:purchase or role DataConsumer"
    assert any(d["route"] == "/auth/token" and d["allow"] for d in audited)


def test_public_routes_need_nothing_and_others_need_a_token(client):
    assert client.get("/apps/probe/open").get_json() == {"open": True}
    response = client.get("/apps/probe/data")
    assert response.status_code == 401
    assert response.get_json()["type"] == PROBLEMS + "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    html = client.get("/apps/probe/data", headers={"Accept": "text/html"})
    assert html.status_code == 303 and html.headers["Location"].startswith("/portals?next=")
    assert client.get("/apps/probe/nothing-here").status_code == 404


def test_2018_and_2020_presentations_get_tokens_and_domain_is_required(client):
    credential = role()
    issued = challenge(client)
    bare = HOLDER.present([credential], challenge=issued["challenge"])  # no domain: refused
    response = client.post("/auth/token", json=bare)
    assert response.status_code == 400
    assert response.get_json()["type"] == PROBLEMS + "domain-missing"
    vp = HOLDER.present([credential], challenge=issued["challenge"], domain=issued["domain"])
    assert client.post("/auth/token", json=vp).status_code == 200  # 2018, with the domain
    token = token_for(client, HOLDER, [credential], proof_type="Ed25519Signature2020")
    assert client.get("/apps/probe/data", headers=bearer(token)).status_code == 200


def test_bad_presentations_get_their_error_type(client, app):
    credential = role()

    def refused(body, status=400, **kwargs):
        response = client.post("/auth/token", **({"json": body} if body is not None else kwargs))
        assert response.status_code == status, response.get_data(as_text=True)
        assert response.mimetype == "application/problem+json"
        return response.get_json()["type"].removeprefix(PROBLEMS)

    issued = challenge(client)
    vp = HOLDER.present([credential], challenge=issued["challenge"], domain=issued["domain"])
    assert client.post("/auth/token", json=vp).status_code == 200
    assert refused(vp) == "challenge-reused"
    domain = issued["domain"]
    unknown = HOLDER.present([credential], challenge="never-issued", domain=domain)
    assert refused(unknown) == "challenge-unknown"
    issued = challenge(client)
    wrong = HOLDER.present([credential], challenge=issued["challenge"], domain="elsewhere.example")
    assert refused(wrong) == "domain-mismatch"
    issued = challenge(client)
    stolen = STRANGER.present([credential], challenge=issued["challenge"], domain=domain)
    assert refused(stolen) == "holder-mismatch"
    issued = challenge(client)
    forged = role(STRANGER, issuer=STRANGER, status=False)
    forged_vp = STRANGER.present([forged], challenge=issued["challenge"], domain=domain)
    assert refused(forged_vp) == "untrusted-issuer"
    issued = challenge(client)
    tampered = HOLDER.present([credential], challenge=issued["challenge"], domain=domain)
    tampered["verifiableCredential"][0]["credentialSubject"]["roles"] = ["Governance"]
    assert refused(tampered) == "bad-signature"
    issued = challenge(client)
    empty = HOLDER.present([], challenge=issued["challenge"], domain=domain)
    assert refused(empty) == "invalid-presentation"
    assert refused("eyJhbGciOiJFZERTQSJ9.e30.sig") == "unsupported-format"
    assert refused({"hello": "world"}) == "invalid-request"
    assert refused(None, 415, data="x", content_type="text/plain") == "unsupported-media-type"
    assert refused(None, 400, data="{", content_type="application/json") == "malformed-json"
    big = "x" * (300 * 1024)
    assert refused(None, 413, data=big, content_type="application/json") == "payload-too-large"


def forge(claims, key=None, alg="EdDSA"):
    key = key or jwk.JWK.generate(kty="OKP", crv="Ed25519")
    token = jwt.JWT(header={"alg": alg}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def test_bad_tokens_are_401_with_their_type(client, app):
    def refused(token):
        response = client.get("/apps/probe/me", headers=bearer(token))
        assert response.status_code == 401, response.get_data(as_text=True)
        assert "WWW-Authenticate" in response.headers
        return response.get_json()["type"].removeprefix(PROBLEMS)

    gw = gateway_of(app)
    token = token_for(client, HOLDER, [role()])
    claims = json.loads(jwt.JWT(jwt=token, key=jwk.JWK(**gw.tokens.jwks()["keys"][0])).claims)
    assert refused("garbage") == "invalid-token"
    assert refused(token[:-4] + "AAAA") == "invalid-token"
    assert refused(forge(claims)) == "invalid-token"  # signed by someone else
    none = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert refused(f"{none}.{body}.") == "alg-none"
    assert refused(f"{none}.{body}.x") == "alg-none"
    expired = dict(claims, exp=int(time.time()) - 10, iat=int(time.time()) - 400)
    assert refused(forge(expired, gw.tokens.key)) == "token-expired"
    other_audience = dict(claims, aud="https://elsewhere.example")
    assert refused(forge(other_audience, gw.tokens.key)) == "invalid-token"
    unknown_grant = dict(claims, grant="no-such-grant")
    assert refused(forge(unknown_grant, gw.tokens.key)) == "invalid-token"


def test_jwks_and_me(client, app):
    keys = client.get("/.well-known/jwks.json").get_json()["keys"]
    assert keys[0]["kty"] == "OKP" and keys[0]["crv"] == "Ed25519" and "d" not in keys[0]
    credential = role()
    token = token_for(client, HOLDER, [credential])
    me = client.get("/auth/me", headers=bearer(token)).get_json()
    assert me["holder"] == HOLDER.did and me["credentials"][0]["valid"] is True
    assert client.get("/auth/me").status_code == 401
    key_file = app.config["CREDGATE_SETTINGS"].secrets_dir / "gateway-token-key.jwk"
    assert key_file.stat().st_mode & 0o777 == 0o600


# -- re-checks on every request ---------------------------------------------------------------


def wait_until_denied(client, path, token, method="get", limit=1.0):
    """Seconds until ``path`` is refused (bounded: fails after ``limit``)."""
    took, response = timed(
        lambda: getattr(client, method)(path, headers=bearer(token)),
        limit,
        interval=0.01,
        until=lambda answer: answer.status_code == 403,
    )
    return took, response.get_json()


def test_revocation_denies_an_issued_token_within_a_second(client, status_server):
    credential = role()
    token = token_for(client, HOLDER, [credential])
    assert client.get("/apps/probe/data", headers=bearer(token)).status_code == 200
    status_server.set("roles", int(credential["credentialStatus"]["statusListIndex"]))
    took, body = wait_until_denied(client, "/apps/probe/data", token)
    assert took < 1.0
    assert body["type"] == PROBLEMS + "revoked"
    assert body["credentialErrors"][0]["credential"] == credential["id"]
    assert client.get("/apps/probe/me", headers=bearer(token)).status_code == 403


def test_kcit_deactivation_and_suspension_deny_attorneys(client, trust, status_server):
    credential = attorney()
    token = token_for(client, EMPLOYEE, [credential])
    bought = client.post("/apps/probe/buy", headers=bearer(token))
    assert bought.status_code == 200 and bought.get_json()["buyer"] == COMPANY.did
    trust.companies[COMPANY.did] = CompanyStatus.SUSPENDED
    try:
        took, body = wait_until_denied(client, "/apps/probe/buy", token, "post")
        assert body["type"] == PROBLEMS + "company-inactive"
    finally:
        trust.companies[COMPANY.did] = CompanyStatus.ACTIVE
    assert client.post("/apps/probe/buy", headers=bearer(token)).status_code == 200
    status_server.set("attorneys", int(credential["credentialStatus"]["statusListIndex"]))
    took, body = wait_until_denied(client, "/apps/probe/buy", token, "post")
    assert took < 1.0 and body["type"] == PROBLEMS + "suspended"


def test_acting_for_needs_the_company_role(client, app, settings, db):
    credential = attorney(powers=[{"app": "catalogue", "actions": ["publish"]}])
    token = token_for(client, EMPLOYEE, [credential])
    denied = client.post("/apps/probe/publish", headers=bearer(token))
    assert denied.status_code == 403
    assert denied.get_json()["type"] == PROBLEMS + "company-role-missing"
    company_role = credgate_credential(
        "RoleCredential",
        AUTHORITY,
        COMPANY.did,
        status=status_server_ref.entry("roles", next(_index)),
    )
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    path = "/gateway/company-credentials"
    assert client.post(path, json={"verifiableCredential": company_role}).status_code == 401
    bad = copy.deepcopy(company_role)
    bad["credentialSubject"]["roles"] = ["Governance"]
    refused = client.post(path, json={"verifiableCredential": bad}, headers=operator)
    assert refused.status_code == 400 and refused.get_json()["errors"] == ["bad-signature"]
    not_role = attorney()
    refused = client.post(path, json={"verifiableCredential": not_role}, headers=operator)
    assert refused.get_json()["type"] == PROBLEMS + "not-a-role-credential"
    registered = client.post(path, json={"verifiableCredential": company_role}, headers=operator)
    assert registered.status_code == 201 and registered.get_json()["company"] == COMPANY.did
    allowed = client.post("/apps/probe/publish", headers=bearer(token))
    assert allowed.status_code == 200 and allowed.get_json()["for"] == COMPANY.did
    status_server_ref.set("roles", int(company_role["credentialStatus"]["statusListIndex"]))
    took, body = wait_until_denied(client, "/apps/probe/publish", token, "post")
    assert body["type"] == PROBLEMS + "company-role-missing"


def test_definition_requirement_and_operator_audit_api(client, app, settings, db):
    token = token_for(client, HOLDER, [role()])
    assert client.get("/apps/probe/portal", headers=bearer(token)).status_code == 200
    other = token_for(client, EMPLOYEE, [attorney()])
    denied = client.get("/apps/probe/portal", headers=bearer(other))
    assert denied.get_json()["type"] == PROBLEMS + "descriptor-unsatisfied"
    assert client.get("/gateway/decisions").status_code == 401
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    found = client.get(f"/gateway/decisions?holder={EMPLOYEE.did}&allow=false", headers=operator)
    assert found.status_code == 200
    assert all(not d["allow"] for d in found.get_json()["decisions"])
    assert client.get("/gateway/decisions?limit=x", headers=operator).status_code == 400
    apps = client.get("/gateway/apps").get_json()["apps"]
    assert apps == [
        {
            "name": "probe",
            "title": "Probe",
            "description": "",
            "path": "/apps/probe/",
            "powers": ["read"],
        }
    ]


def test_mounting_refuses_undeclared_views_and_bad_names():
    from flask import Flask

    loose = Blueprint("loose", __name__)

    @loose.get("/x")
    def undeclared():
        return "x"

    with pytest.raises(MountError, match="without a requirement"):
        mount(Flask("t1"), [GatewayApp("loose", "Loose", loose)])
    with pytest.raises(MountError, match="name"):
        mount(Flask("t2"), [GatewayApp("Bad Name", "Bad", Blueprint("b", __name__))])
    with pytest.raises(MountError, match="two apps"):
        mount(Flask("t3"), [PROBE, GatewayApp("probe", "Again", Blueprint("p2", __name__))])
    with pytest.raises(TypeError):
        requires("DataProvider")


def test_operator_inputs_and_secure_cookies(client, app, settings, db):
    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    path = "/gateway/company-credentials"
    for body in ([], {"verifiableCredential": "x"}, {}):
        response = client.post(path, json=body, headers=operator)
        assert response.status_code == 400, body
        assert response.mimetype == "application/problem+json"
    assert client.post(path, data="x", headers=operator).status_code == 415

    from flask import Response

    from gateway.cookies import set_session_cookie

    with app.test_request_context("/", base_url="https://gateway.example"):
        response = Response()
        set_session_cookie(response, "secret", 60)
        cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.test_request_context("/", base_url="http://127.0.0.1"):
        response = Response()
        set_session_cookie(response, "secret", 60)
        assert "Secure" not in response.headers["Set-Cookie"]
