"""Secrets that service nodes share come from configuration (issue 18), and what an attacker can
put in a node's place is refused: a token key planted in a node's var/ is ignored once the key is
configured, a configured key that is not a private Ed25519 key (or a weak master secret, or a
malformed operator token hash) stops the node instead of running on something else, a node's
webhook endpoint refuses a wrong key, and a client's X-Forwarded-* headers count only behind
proxies the configuration trusts."""

from __future__ import annotations

import hashlib
import secrets
import time

import pytest
from jwcrypto import jwk
from sqlalchemy import delete

from credgate.db import transaction
from credgate.problems import Problem
from credgate.secrets import SecretConfigError, configured_secret, get_or_create_secret
from credgate.tokens import ApiToken, find_token, register_configured_operator
from credgate.web import shutdown
from gateway.tokens import KEY_FILE, TokenService, configured_key, load_or_create_key

pytestmark = pytest.mark.db

MASTER = "m" * 8 + secrets.token_urlsafe(32)


@pytest.fixture
def clean_env(monkeypatch):
    for name in (
        "CREDGATE_SECRET_KEY",
        "CREDGATE_TOKEN_KEY",
        "CREDGATE_OPERATOR_TOKEN_HASH",
        "CREDGATE_SECRET_GATEWAY_SESSION_KEY",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def service(key: jwk.JWK) -> TokenService:
    return TokenService(key, issuer="http://gw.test", audience="http://gw.test")


def test_a_key_planted_in_var_is_ignored_when_the_key_is_configured(clean_env, tmp_path):
    shared = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    clean_env.setenv("CREDGATE_TOKEN_KEY", shared.export_private())
    planted = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / KEY_FILE).write_text(planted.export_private())
    node = service(load_or_create_key(tmp_path))
    forged = service(planted).issue(
        holder="did:key:zAttacker", grant="g", status=[], expires_at=time.time() + 60
    )
    with pytest.raises(Problem) as refused:
        node.read(forged)
    assert refused.value.status == 401
    genuine = service(shared).issue(
        holder="did:key:zHolder", grant="g", status=[], expires_at=time.time() + 60
    )
    assert node.read(genuine).holder == "did:key:zHolder"


@pytest.mark.parametrize(
    "value",
    [
        "not json",
        '{"kty": "oct", "k": "c2VjcmV0"}',
        jwk.JWK.generate(kty="OKP", crv="Ed25519").export_public(),
        jwk.JWK.generate(kty="EC", crv="P-256").export_private(),
    ],
    ids=["not-json", "oct", "ed25519-public", "p256-private"],
)  # stable: xdist workers compare ids
def test_a_configured_token_key_that_is_not_a_private_ed25519_key_stops_the_node(
    clean_env, tmp_path, value
):
    clean_env.setenv("CREDGATE_TOKEN_KEY", value)
    with pytest.raises(SecretConfigError):
        load_or_create_key(tmp_path)
    assert not (tmp_path / KEY_FILE).exists()  # and no key of its own instead


def test_a_short_master_secret_stops_the_node(clean_env, tmp_path):
    clean_env.setenv("CREDGATE_SECRET_KEY", "password")
    with pytest.raises(SecretConfigError):
        get_or_create_secret(tmp_path, "gateway-session-key")
    with pytest.raises(SecretConfigError):
        configured_key()


def test_nodes_with_one_master_agree_and_secrets_are_independent(clean_env, tmp_path):
    clean_env.setenv("CREDGATE_SECRET_KEY", MASTER)
    session_key = get_or_create_secret(tmp_path / "a", "gateway-session-key")
    assert session_key == get_or_create_secret(tmp_path / "b", "gateway-session-key")
    assert session_key != get_or_create_secret(tmp_path / "a", "gateway-openid4vp-key")
    assert not (tmp_path / "a").exists()  # nothing written to a node's var/
    token_key = configured_key()
    assert token_key.has_private and token_key.get("crv") == "Ed25519"
    clean_env.setenv("CREDGATE_SECRET_KEY", MASTER + "x")
    assert configured_secret("gateway-session-key") != session_key
    assert configured_key().thumbprint() != token_key.thumbprint()
    # A secret named explicitly wins over the derivation.
    clean_env.setenv("CREDGATE_SECRET_GATEWAY_SESSION_KEY", "explicit-" + "x" * 40)
    assert get_or_create_secret(tmp_path, "gateway-session-key") == "explicit-" + "x" * 40


@pytest.mark.parametrize("value", ["abc", "g" * 64, "0" * 63, "0" * 64 + "0"])
def test_a_malformed_operator_token_hash_stops_the_node(clean_env, db, value):
    clean_env.setenv("CREDGATE_OPERATOR_TOKEN_HASH", value)
    with pytest.raises(SecretConfigError):
        register_configured_operator(db)


def test_the_configured_operator_hash_admits_its_token_only(clean_env, db):
    token = secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    clean_env.setenv("CREDGATE_OPERATOR_TOKEN_HASH", digest)
    try:
        assert register_configured_operator(db) is True
        assert register_configured_operator(db) is True  # a second node: no duplicate, no error
        with db() as session:
            assert find_token(session, token) is not None
            assert find_token(session, token + "x") is None
            assert find_token(session, digest) is None
    finally:  # the session's database has one operator token (tests/suite/test_storage.py)
        with transaction(db) as session:
            session.execute(delete(ApiToken).where(ApiToken.token_hash == digest))


def test_a_nodes_webhook_endpoint_refuses_a_wrong_key(clean_env, settings, tmp_path):
    from suite.node import create_app

    clean_env.setenv("CREDGATE_SECRET_KEY", MASTER)
    clean_env.setenv("DATABASE_URL", settings.database_url)
    clean_env.setenv("CREDGATE_VAR", str(tmp_path))
    clean_env.setenv("AGENT_URL", "http://127.0.0.1:9")
    clean_env.setenv("AGENT_API_KEY", "unused")
    app = create_app("kcit")
    client = app.test_client()
    url = "/webhooks/verifier/topic/present_proof_v2_0/"
    body = {"state": "done", "pres_ex_id": "x"}
    assert client.post(url, json=body, headers={"x-api-key": "guess"}).status_code == 401
    assert client.post(url, json=body).status_code == 401
    key = configured_secret("webhook-key")
    assert client.post(url, json=body, headers={"x-api-key": key}).status_code == 204
    assert client.get("/ready").status_code == 200


@pytest.mark.parametrize("hops", ["", "1"])
def test_forwarded_headers_count_only_behind_configured_proxies(
    clean_env, settings, engine, tmp_path, hops
):
    from suite.node import create_app

    clean_env.setenv("CREDGATE_SECRET_KEY", MASTER)
    clean_env.setenv("DATABASE_URL", settings.database_url)
    clean_env.setenv("CREDGATE_VAR", str(tmp_path))
    clean_env.setenv("CREDGATE_PROXY_HOPS", hops)
    clean_env.setenv("AGENT_URL", "http://127.0.0.1:9")
    clean_env.setenv("AGENT_API_KEY", "unused")
    clean_env.delenv("CREDGATE_SERVICE_URLS", raising=False)
    clean_env.delenv("CREDGATE_CONFIG", raising=False)
    app = create_app("verifier")
    try:
        page = app.test_client().get(
            "/portals/data-provider?protocol=openid4vp",
            headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"},
        )
    finally:
        shutdown(app)  # the gateway's audit writer and login workers
    assert page.status_code == 200
    # A client's own X-Forwarded-Host must not choose where a wallet fetches the request from.
    assert ("evil.example" in page.get_data(as_text=True)) is bool(hops)
