"""Red team, second wave: attacks on what issues #16 (one architecture) and #17 (conformance)
changed since ccf0a03.

Each test is one attack. Where the code held, the test pins the property; where it broke, the
test was written first (and failed), then the code was fixed, and the test stays as the
regression test. Grouped as the brief orders them:

1. ``POST /credentials/issue?cryptosuite=eddsa-rdfc-2022`` (the ACA-Py plugin's signer) and the
   default instance: another key, another issuer, a chosen verification method, a smuggled
   proof or status entry, the expansion checks, 5xx, and signatures over something other than
   what the verifier checks (agents; the real issuer and verifier).
2. The admin-pages kit: CSRF bound to the session and to the service, cookies per service, the
   wallet sign-in callback (Flask test clients, no agents, no database).
3. The change feeds: a follower ahead of the head, and bounded waits (the session's database).
4. Domain errors: every type the services raise keeps a 4xx/5xx status, never becomes a 500.
5. ``hash_token``: every lookup by hash still compares in constant time where it did.
"""

from __future__ import annotations

import ast
import copy
import re
import time
from hashlib import sha256
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import requests
from flask import Flask, session

from agents.acapy_plugin.rdfc import hash_data as plugin_hash_data
from credgate.config import load_settings
from credgate.errors import DomainError
from credgate.problem_types import PROBLEM_BASE, ProblemType
from credgate.web import create_service_app
from signin import handoff
from signin.pages import SignInPolicy, admin_pages
from tests.support import vc_api
from tests.support.vc_api import V2, example_v2, example_v11
from verifier.testing import Party

ROOT = Path(__file__).resolve().parents[2]
PROBLEMS = PROBLEM_BASE
RDFC = "eddsa-rdfc-2022"
HOLDER = Party.from_seed(b"\x52" * 32)
ATTACKER = Party.from_seed(b"\x66" * 32)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# == 1. issuing: eddsa-rdfc-2022 through the ACA-Py plugin, and the default instance ==========


def issue(issuer_url, operator, credential, *, cryptosuite: str | None = RDFC, options=None):
    return vc_api.issue(issuer_url, operator, credential, options, cryptosuite=cryptosuite)


def verify(verifier_url, credential) -> dict[str, Any]:
    response = requests.post(
        f"{verifier_url}/credentials/verify", json={"verifiableCredential": credential}, timeout=30
    )
    assert response.status_code in (200, 400), response.text  # 400: verification failed
    result = response.json()
    assert result["verified"] is (response.status_code == 200), result
    return result


def refused(response, slug: str | None = None, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    if slug is not None:
        assert body["type"] == PROBLEMS + slug, body
    return body


@pytest.mark.agents
@pytest.mark.db
def test_the_caller_cannot_choose_the_verification_method_or_proof_options(
    issuer_url, operator, authority_did
):
    """Options the VC-API does not define for issuing (a verification method, a proof type, a
    cryptosuite in the body) are refused, not passed on to the agent."""
    for options in (
        {"verificationMethod": ATTACKER.method},
        {"proofType": "Ed25519Signature2020"},
        {"cryptosuite": "eddsa-jcs-2022"},
        {"created": "2000-01-01T00:00:00Z"},
    ):
        response = issue(
            issuer_url, operator, example_v2(authority_did, HOLDER.did), options=options
        )
        assert response.status_code == 400, (options, response.text)


@pytest.mark.agents
@pytest.mark.db
def test_the_signature_is_the_credential_issuers_own_key(
    issuer_url, verifier_url, operator, authority_did
):
    """The issuer as an object: the proof's method is still the issuer DID's only key, and the
    verifier accepts it; a DID the issuer holds no key for is refused before any signing."""
    signed = issue(
        issuer_url, operator, example_v2({"id": authority_did, "name": "Authority"}, HOLDER.did)
    )
    assert signed.status_code == 201, signed.text
    credential = signed.json()["verifiableCredential"]
    did = authority_did
    assert credential["proof"]["verificationMethod"] == f"{did}#{did.removeprefix('did:key:')}"
    assert verify(verifier_url, credential)["verified"] is True
    for other in (
        ATTACKER.did,
        f"{authority_did}#{ATTACKER.did.removeprefix('did:key:')}",
        authority_did.upper(),
        f" {authority_did}",
    ):
        response = issue(issuer_url, operator, example_v2(other, HOLDER.did))
        assert 400 <= response.status_code < 500, (other, response.text)


@pytest.mark.agents
@pytest.mark.db
def test_a_proof_or_status_entry_cannot_be_smuggled_in(issuer_url, operator, authority_did):
    """Sent as members, as their IRIs (expanded or compact) or under a keyword alias, a proof or
    a status entry of the caller's is refused before the agent signs anything."""
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": RDFC,
        "proofPurpose": "assertionMethod",
        "verificationMethod": ATTACKER.method,
        "proofValue": "z" + "1" * 86,
    }
    status = {
        "id": "https://evil.example/list#1",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "1",
        "statusListCredential": "https://evil.example/list",
    }
    for members in (
        {"proof": proof},
        {"credentialStatus": status},
        {"https://w3id.org/security#proof": proof},
        {"sec:proof": proof},
        {"cred:credentialStatus": status},
        {"https://www.w3.org/2018/credentials#credentialStatus": status},
    ):
        response = issue(issuer_url, operator, example_v2(authority_did, HOLDER.did, **members))
        assert response.status_code == 400, (members, response.text)


@pytest.mark.agents
@pytest.mark.db
def test_the_expansion_checks_run_on_the_rdfc_instance_too(issuer_url, operator, authority_did):
    """What the verifier would refuse is refused at issue (a 400, never a 5xx, never a signature):
    an undefined property, claim or type (VCDM 1.1: no @vocab), an inline context, an unknown
    context."""
    v1 = example_v11(authority_did, HOLDER.did)
    cases = [
        ({**v1, "undefinedThing": "x"}, "undefined-term"),
        ({**v1, "type": ["VerifiableCredential", "NoSuchType"]}, "undefined-term"),
        ({**v1, "credentialSubject": {"id": HOLDER.did, "undefinedClaim": 1}}, "undefined-term"),
        (
            {
                **example_v2(authority_did, HOLDER.did),
                "@context": [V2, {"x": "https://evil.example/x"}],
            },
            "invalid-credential",
        ),
        (
            {**example_v2(authority_did, HOLDER.did), "@context": [V2, "https://evil.example/ctx"]},
            "invalid-credential",
        ),
    ]
    for credential, slug in cases:
        for cryptosuite in (RDFC, None):
            response = issue(issuer_url, operator, credential, cryptosuite=cryptosuite)
            assert response.status_code == 400, (slug, cryptosuite, response.text)
            assert response.json()["type"] == PROBLEMS + slug, (cryptosuite, response.text)


@pytest.mark.agents
@pytest.mark.db
def test_a_vcdm_2_issuer_dependent_term_is_signed_only_as_the_verifier_reads_it(
    issuer_url, verifier_url, operator, authority_did
):
    """credentials/v2's @vocab defines every other term (issuer-dependent): what either instance
    signs with one, our verifier accepts, and the term is covered by the signature."""
    for cryptosuite in (RDFC, None):
        credential = example_v2(authority_did, HOLDER.did, undefinedThing="x")
        response = issue(issuer_url, operator, credential, cryptosuite=cryptosuite)
        if response.status_code != 201:
            refused(response)
            continue
        signed = response.json()["verifiableCredential"]
        assert verify(verifier_url, signed)["verified"] is True, cryptosuite
        signed["undefinedThing"] = "y"
        assert verify(verifier_url, signed)["verified"] is False, cryptosuite


@pytest.mark.agents
@pytest.mark.db
def test_a_credential_with_a_control_character_verifies_as_issued_on_both_instances(
    issuer_url, verifier_url, operator, authority_did
):
    """RDFC-1.0 escapes \\b, \\f, the other C0 controls and DEL in literals; pyld (which ACA-Py's
    linked-data signer canonicalizes with) writes them raw. Whatever an instance signs must
    verify with our verifier, or be refused at issue: never a credential that is signed but
    refused (``bad-signature``) later."""
    for text in ("back\bspace", "form\ffeed", "bell\x07", "delete\x7f"):
        for cryptosuite in (RDFC, None):
            credential = example_v2(authority_did, HOLDER.did, name=text)
            response = issue(issuer_url, operator, credential, cryptosuite=cryptosuite)
            if response.status_code == 201:
                signed = response.json()["verifiableCredential"]
                result = verify(verifier_url, signed)
                assert result["verified"] is True, (text, cryptosuite, result)
            else:
                refused(response, "signing-refused")
                assert cryptosuite is None  # the plugin signs what the verifier checks


@pytest.mark.agents
@pytest.mark.db
def test_the_rdfc_signature_covers_what_the_verifier_reads(
    issuer_url, verifier_url, operator, authority_did
):
    """Changing what the verifier reads (issuer, subject, validity, a direction, the proof's
    options) breaks the signature."""
    name = [
        {"@value": "Alumni", "@language": "en"},
        {"@value": "خريج", "@language": "ar", "@direction": "rtl"},
    ]
    credential = example_v2(authority_did, HOLDER.did, name=name, validUntil="2099-01-01T00:00:00Z")
    response = issue(issuer_url, operator, credential)
    assert response.status_code == 201, response.text
    signed = response.json()["verifiableCredential"]
    assert verify(verifier_url, signed)["verified"] is True
    tampered = []
    for path, value in (
        (("credentialSubject", "id"), ATTACKER.did),
        (("validUntil",), "2199-01-01T00:00:00Z"),
        (("proof", "proofPurpose"), "authentication"),
        (("proof", "created"), "2001-01-01T00:00:00Z"),
    ):
        copy_ = copy.deepcopy(signed)
        target = copy_
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        tampered.append(copy_)
    flipped = copy.deepcopy(signed)
    flipped["name"][1]["@direction"] = "ltr"
    tampered.append(flipped)
    nolang = copy.deepcopy(signed)
    del nolang["name"][1]["@language"]
    tampered.append(nolang)
    for credential in tampered:
        assert verify(verifier_url, credential)["verified"] is False


def test_the_plugin_hashes_the_proof_options_it_is_given_under_the_documents_context():
    """The plugin's hash data binds the proof's options (a changed purpose or method is another
    hash), and a document it cannot canonicalize (an inline or unknown context) is the agent's
    400, not a 500. (Undefined terms are the issuer's check, before the agent: see above.)"""
    issuer = Party.from_seed(b"\x17" * 32)
    document = example_v2(issuer.did, HOLDER.did)
    proof = {
        "type": "DataIntegrityProof",
        "cryptosuite": RDFC,
        "created": "2025-01-01T00:00:00Z",
        "verificationMethod": issuer.method,
        "proofPurpose": "assertionMethod",
    }
    base = plugin_hash_data(document, proof)
    for change in (
        {"proofPurpose": "authentication"},
        {"verificationMethod": ATTACKER.method},
        {"created": "2025-01-01T00:00:01Z"},
    ):
        assert plugin_hash_data(document, {**proof, **change}) != base
    from acapy_agent.vc.data_integrity.manager import DataIntegrityManagerError

    for bad in (
        {**document, "@context": [V2, {"a": "b:c"}]},
        {**document, "@context": [V2, "https://evil.example/ctx"]},
    ):
        with pytest.raises(DataIntegrityManagerError):
            plugin_hash_data(bad, proof)


# == 2. the admin-pages kit ===================================================================


def probe_policy(client: str, refuse=None) -> SignInPolicy:
    def token_sign_in(token: str) -> bool:
        if token != f"{client}-token":
            return False
        session.clear()
        session["who"] = f"token:{client}"
        return True

    def wallet_sign_in(signed_in):
        if refuse is not None:
            raise refuse
        session.clear()
        session["who"] = f"wallet:{signed_in.holder}"

    return SignInPolicy(
        client=client,
        portal="governance",
        signed_in=lambda: session.get("who"),
        token_sign_in=token_sign_in,
        wallet_sign_in=wallet_sign_in,
        wallet_text="Probe admins sign in with their wallet.",
    )


def probe_app(tmp_path, name: str, refuse=None, **config) -> Flask:
    settings = load_settings(tmp_path, "sqlite://")
    app = create_service_app(
        name,
        config={"CREDGATE_SETTINGS": settings, "DB_SESSION_FACTORY": object(), **config},
        sessions=True,
    )
    app.register_blueprint(
        admin_pages(
            f"{name}_pages",
            __name__,
            prefix=f"/{name}/admin",
            policy=probe_policy(name, refuse),
            title=f"{name} admin",
            home=lambda actor: (
                f'<p>Signed in as {actor}</p><form method="post">'
                f'<input name="csrf_token" value="{_csrf_token()}"></form>'
            ),
        )
    )
    return app


def _csrf_token() -> str:
    from credgate.pages import csrf_token

    return csrf_token()


def csrf(page) -> str:
    match = CSRF.search(page.get_data(as_text=True))
    assert match, page.get_data(as_text=True)[:300]
    return match.group(1)


def cookie_of(client, name: str, path: str = "/") -> str:
    cookie = client.get_cookie(name, path=path)
    assert cookie is not None, name
    return cookie.value


def test_two_services_on_one_host_keep_their_sessions_apart(tmp_path):
    """Same host, same secrets directory: each service has its own cookie name and its own key,
    so one service's session cookie (renamed to the other's) signs nobody in there, and one's
    CSRF token is no good at the other."""
    alpha, beta = probe_app(tmp_path, "alpha"), probe_app(tmp_path, "beta")
    assert alpha.secret_key != beta.secret_key
    assert alpha.config["SESSION_COOKIE_NAME"] != beta.config["SESSION_COOKIE_NAME"]
    a = alpha.test_client()
    page = a.get("/alpha/admin")
    a.post("/alpha/admin/login", data={"token": "alpha-token", "csrf_token": csrf(page)})
    home = a.get("/alpha/admin")
    assert "Signed in as token:alpha" in home.get_data(as_text=True)
    stolen = cookie_of(a, "credgate_alpha_session")
    b = beta.test_client()
    b.set_cookie("credgate_beta_session", stolen)
    assert "Signed in as" not in b.get("/beta/admin").get_data(as_text=True)
    b.get("/beta/admin")
    out = b.post("/beta/admin/logout", data={"csrf_token": csrf(home)})
    assert out.status_code == 403 and out.get_json(force=True)["type"] == PROBLEMS + "csrf-failed"


def test_a_planted_session_does_not_survive_sign_in(tmp_path):
    """Session fixation: the attacker's own (anonymous) session cookie, planted in the victim's
    browser, is replaced at sign-in, so the attacker's copy signs nobody in and its CSRF token
    dies."""
    app = probe_app(tmp_path, "alpha")
    attacker = app.test_client()
    attacker_page = attacker.get("/alpha/admin")
    planted = cookie_of(attacker, "credgate_alpha_session")
    victim = app.test_client()
    victim.set_cookie("credgate_alpha_session", planted)
    victim.post(
        "/alpha/admin/login", data={"token": "alpha-token", "csrf_token": csrf(attacker_page)}
    )
    assert "Signed in as" in victim.get("/alpha/admin").get_data(as_text=True)
    assert cookie_of(victim, "credgate_alpha_session") != planted
    assert "Signed in as" not in attacker.get("/alpha/admin").get_data(as_text=True)
    stale = attacker.post("/alpha/admin/logout", data={"csrf_token": csrf(attacker_page)})
    assert "Signed in as" in victim.get("/alpha/admin").get_data(as_text=True)
    assert stale.status_code in (303, 403)


def test_logout_and_login_are_posts_only(tmp_path):
    client = probe_app(tmp_path, "alpha").test_client()
    for path in ("/alpha/admin/logout", "/alpha/admin/login"):
        assert client.get(path).status_code == 405


def test_the_wallet_callback_refuses_forged_borrowed_and_replayed_answers(tmp_path, monkeypatch):
    """No pending cookie, another state, another client's pending cookie, a replayed callback:
    a login page with a 400, no session, never a 5xx or a redirect elsewhere."""
    redeemed = []

    def fake_post(url, json, timeout):
        redeemed.append(json)

        class Answer:
            status_code = 200

            @staticmethod
            def json():
                return {"holder": HOLDER.did, "portal": "governance", "credentials": []}

        return Answer()

    monkeypatch.setattr(handoff.requests, "post", fake_post)
    gateway = "http://gateway.example"
    alpha = probe_app(tmp_path, "alpha", GATEWAY_URL=gateway)
    beta = probe_app(tmp_path, "beta", GATEWAY_URL=gateway)
    browser = alpha.test_client()
    bare = browser.get("/alpha/admin/login/callback?state=x&code=y")
    assert bare.status_code == 400 and "Signed in as" not in browser.get("/alpha/admin").text
    started = browser.get("/alpha/admin/login/wallet")
    location = started.headers["Location"]
    assert location.startswith(f"{gateway}/connect/alpha?")
    state = re.search(r"state=([^&]+)", location).group(1)
    wrong = browser.get("/alpha/admin/login/callback?state=other&code=y")
    assert wrong.status_code == 400 and not redeemed
    # another service's pending cookie (its own name and key) does not stand in for this one's
    other = beta.test_client()
    other_location = other.get("/beta/admin/login/wallet").headers["Location"]
    other_state = re.search(r"state=([^&]+)", other_location).group(1)
    forged = alpha.test_client()
    forged.set_cookie(
        "credgate_signin_alpha",
        cookie_of(other, "credgate_signin_beta", "/beta/admin/login/callback"),
        path="/alpha/admin/login/callback",
    )
    assert forged.get(f"/alpha/admin/login/callback?state={other_state}&code=y").status_code == 400
    assert not redeemed
    # a refused answer ends that sign-in (its pending cookie is forgotten): start again
    assert browser.get(f"/alpha/admin/login/callback?state={state}&code=y").status_code == 400
    location = browser.get("/alpha/admin/login/wallet").headers["Location"]
    state = re.search(r"state=([^&]+)", location).group(1)
    done = browser.get(f"/alpha/admin/login/callback?state={state}&code=y")
    assert done.status_code == 200 and redeemed[-1]["client"] == "alpha"
    assert f"Signed in as wallet:{HOLDER.did}" in browser.get("/alpha/admin").text
    replayed = browser.get(f"/alpha/admin/login/callback?state={state}&code=y")
    assert replayed.status_code == 400 and len(redeemed) == 1


def test_a_domain_error_refusing_a_wallet_sign_in_is_the_login_page(tmp_path, monkeypatch):
    """Services now raise domain errors: the issuer's governance sign-in asks its agent for the
    authority's DID, and an agent that is away is ``DomainError(agent-unavailable)`` (it was a
    Problem). The callback must still answer with the login page and its status (503, try
    again) and forget the pending sign-in, as it does for a Problem, not a bare JSON document."""
    monkeypatch.setattr(
        handoff, "complete", lambda *args: handoff.SignedIn(HOLDER.did, "governance", ())
    )
    away = DomainError(
        ProblemType.AGENT_UNAVAILABLE,
        "the issuer agent did not answer",
        title="Issuer agent unavailable",
        retry_after=5,
    )
    app = probe_app(tmp_path, "alpha", refuse=away, GATEWAY_URL="http://gateway.example")
    browser = app.test_client()
    browser.get("/alpha/admin/login/wallet")
    assert browser.get_cookie("credgate_signin_alpha", path="/alpha/admin/login/callback")
    answer = browser.get("/alpha/admin/login/callback?state=s&code=c")
    assert answer.status_code == 503
    assert answer.mimetype == "text/html", answer.get_data(as_text=True)[:300]
    assert "Issuer agent unavailable" in answer.get_data(as_text=True)
    assert browser.get_cookie("credgate_signin_alpha", path="/alpha/admin/login/callback") is None
    refusal = DomainError(ProblemType.UNKNOWN_PORTAL, "no such portal")
    other = probe_app(tmp_path, "beta", refuse=refusal, GATEWAY_URL="http://gateway.example")
    page = other.test_client().get("/beta/admin/login/callback?state=s&code=c")
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_pages_carry_the_strict_csp_and_no_cache(tmp_path):
    client = probe_app(tmp_path, "alpha").test_client()
    for path in ("/alpha/admin", "/alpha/admin/login/wallet"):
        response = client.get(path)
        policy = response.headers.get("Content-Security-Policy", "")
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, path
        assert "unsafe-inline" not in policy and "script-src" not in policy, path


# == 3. the change feeds ======================================================================


@pytest.mark.db
def test_a_follower_ahead_of_the_head_is_moved_back_at_once_on_both_logs(db):
    """A follower that claims a number beyond the head (a replayed or forged ``after``) is
    answered at once with the head, on both logs, however long it asks to wait."""
    from kcit import feed as kcit_feed
    from revocation import feed as status_feed

    for log in (kcit_feed.LOG, status_feed.LOG):
        with db() as s:
            head = log.head(s)
        began = time.monotonic()
        found, last = log.wait_for_changes(db, head + 10_000, 20.0)
        assert time.monotonic() - began < 2.0
        assert found == [] and last == head


@pytest.mark.db
def test_a_long_poll_on_either_log_is_bounded(db):
    from kcit import feed as kcit_feed
    from revocation import feed as status_feed

    for log in (kcit_feed.LOG, status_feed.LOG):
        with db() as s:
            head = log.head(s)
        began = time.monotonic()
        log.wait_for_changes(db, head, 0.3)
        log.wait_for_changes(db, head, -5)  # a negative wait is no wait
        assert time.monotonic() - began < 3.0


# == 4. domain errors ==========================================================================


def test_every_verifier_error_a_service_passes_on_is_registered_as_a_client_error():
    """The issuer turns a VerificationError of its expansion check into a DomainError of the same
    slug (a 400 before ccf0a03, with its own status): each must be registered, and none may
    now answer 5xx."""
    from verifier import errors

    for slug in errors.ALL:
        kind = ProblemType(slug)
        assert 400 <= kind.status < 500, slug


def test_a_domain_error_with_an_unregistered_slug_is_refused_where_it_is_raised():
    with pytest.raises(ValueError):
        DomainError(f"not-a-slug-{uuid4().hex}")


# == 5. hash_token ============================================================================


def test_lookups_by_token_hash_still_compare_in_constant_time():
    """Before ccf0a03 the operator token, the certifiers' tokens and the gateway's login binding
    were compared with hmac.compare_digest after the lookup; ``hash_token`` must not have
    dropped one of them, and the hash must be the one the rows were written with."""
    from credgate.hashing import hash_token

    assert hash_token("x") == sha256(b"x").hexdigest()
    for path in ("credgate/tokens.py", "issuer/certifiers.py", "gateway/logins.py"):
        tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
        calls = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.Call) and getattr(n.func, "attr", None) == "compare_digest"
        ]
        assert calls, path
        assert any(
            "hash_token" in ast.unparse(call) or "digest" in ast.unparse(call) for call in calls
        ), path


@pytest.mark.agents
@pytest.mark.db
def test_credgate_and_vcdm_11_status_credentials_signed_with_rdfc_verify(
    issuer_url, verifier_url, operator, authority_did
):
    """The rdfc instance on the credentials that carry our rules: a credgate RoleCredential (its
    status entry, schema and issuer rules) and a VCDM 1.1 credential with a StatusList2021 entry
    (three contexts with protected terms beside the Data Integrity one): signed, and accepted by
    our verifier, never a 5xx."""
    from tests.support.issuer_wallet import vc_api_role

    role = vc_api_role(authority_did, HOLDER.did)
    v11 = example_v11(authority_did, HOLDER.did)
    status = {"credentialStatus": {"type": "StatusList2021Entry"}}
    for credential, options in ((role, None), (v11, status)):
        response = issue(issuer_url, operator, credential, options=options)
        assert response.status_code == 201, response.text
        signed = response.json()["verifiableCredential"]
        assert signed["proof"]["cryptosuite"] == RDFC and "credentialStatus" in signed
        assert verify(verifier_url, signed)["verified"] is True, signed


@pytest.mark.agents
@pytest.mark.db
def test_a_replayed_id_gets_only_its_own_credential(issuer_url, operator, authority_did):
    """The same id again on the rdfc instance: the same request is answered with the first
    credential; with a status entry asked for, another subject or on the other instance, it
    is a conflict, never the first credential passed off as the second."""
    credential = example_v2(authority_did, HOLDER.did, id=f"urn:uuid:{uuid4()}")
    first = issue(issuer_url, operator, credential)
    assert first.status_code == 201, first.text
    again = issue(issuer_url, operator, credential)
    assert again.json() == first.json()
    other_subject = {**credential, "credentialSubject": {"id": ATTACKER.did, "alumniOf": "X"}}
    for response in (
        issue(
            issuer_url,
            operator,
            credential,
            options={"credentialStatus": {"type": "BitstringStatusListEntry"}},
        ),
        issue(issuer_url, operator, other_subject),
        issue(issuer_url, operator, credential, cryptosuite=None),
    ):
        refused(response, "credential-exists", 409)


def test_the_verifier_binds_every_proof_of_a_set_to_the_issuer():
    """Proof sets (issue #17): an attacker's valid proof beside the issuer's, or the issuer's
    proof carried over to a forged document, does not make a credential verify."""
    from verifier.suites import sign
    from verifier.testing import loopback_verifier
    from verifier.trust import StaticTrustRegistry

    authority = Party.from_seed(b"\x01" * 32)
    verifier = loopback_verifier(
        StaticTrustRegistry(onboarding_authority=authority.did), require_status=False
    )

    def signed(party: Party, document: dict[str, Any]) -> dict[str, Any]:
        return sign(
            document, party.key, party.method, proof_type="DataIntegrityProof", cryptosuite=RDFC
        )

    document = example_v2(authority.did, HOLDER.did)
    forged = {**document, "credentialSubject": {"id": ATTACKER.did, "alumniOf": "X"}}
    good, attacker = signed(authority, document)["proof"], signed(ATTACKER, forged)["proof"]
    assert verifier.verify_credential({**document, "proof": good}).verified
    for credential in (
        {**forged, "proof": attacker},
        {**forged, "proof": [attacker, good]},
        {**forged, "proof": [good, attacker]},
        {**document, "proof": [good, signed(ATTACKER, document)["proof"]]},
    ):
        assert not verifier.verify_credential(credential).verified


@pytest.mark.agents
@pytest.mark.db
def test_a_poison_graph_is_refused_before_any_agent_canonicalizes_it(
    issuer_url, operator, authority_did
):
    """Six blank nodes that all know each other: our canonicalizer refuses it within its budget
    (hostile-graph, as the verifier would), while pyld, which ACA-Py's linked-data signer runs,
    takes seconds on it (a clique of eight: hours, the agent's worker stuck). Refused at issue on
    both instances, before a record is reserved, in well under a second."""
    size = 6
    nodes = [
        {"id": f"_:b{k}", "knows": [{"id": f"_:b{j}"} for j in range(size) if j != k]}
        for k in range(size)
    ]
    credential = example_v2(authority_did, HOLDER.did)
    credential["credentialSubject"] = {"id": HOLDER.did, "alumniOf": "X", "graph": nodes}
    for cryptosuite in (None, RDFC):
        began = time.monotonic()
        response = issue(issuer_url, operator, credential, cryptosuite=cryptosuite)
        assert time.monotonic() - began < 2.0, cryptosuite
        refused(response, "hostile-graph")


@pytest.mark.agents
@pytest.mark.db
@pytest.mark.parametrize(
    ("path", "body", "slug"),
    [
        ("/credentials/verify", [], "invalid-request"),
        ("/credentials/verify", {"verifiableCredential": 5}, "invalid-request"),
        (
            "/credentials/verify",
            {"verifiableCredential": "eyJhbGciOiJub25lIn0.e30."},
            "unsupported-format",
        ),
        ("/credentials/verify", {"verifiableCredential": {}, "options": "x"}, "invalid-request"),
        ("/presentations/verify", {"verifiablePresentation": None}, "invalid-request"),
        (
            "/presentations/verify",
            {"verifiablePresentation": {}, "options": {"challenge": 5}},
            "invalid-request",
        ),
    ],
)
def test_malformed_verify_requests_keep_their_problem_types(verifier_url, path, body, slug):
    """The OpenAPI declarations now check these bodies first: the VC-API's problem types and
    the 400 stay (a client switching on them sees no change), never a 5xx."""
    response = requests.post(f"{verifier_url}{path}", json=body, timeout=30)
    refused(response, slug)


@pytest.mark.agents
@pytest.mark.db
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ([], 400),
        ({"credential": []}, 400),
        ({"credential": {}, "options": []}, 400),
        ({"credential": {}, "options": {"credentialStatus": "x"}}, 400),
        ({}, 400),
    ],
)
def test_malformed_issue_requests_are_client_errors_on_both_instances(
    issuer_url, operator, body, status
):
    for query in ("", f"?cryptosuite={RDFC}"):
        response = requests.post(
            f"{issuer_url}/credentials/issue{query}", json=body, headers=operator, timeout=30
        )
        assert response.status_code == status, (query, response.text)
        assert response.headers["Content-Type"].startswith("application/problem+json")
