"""OpenID4VCI 1.0 issuance against the running suite: the four families in the three formats,
through a raw protocol client written here (so that each MUST can be broken on purpose) and
through the wallet stand-in (`credgate wallet scan openid-credential-offer://... --tx-code`).

Every refusal is an OAuth / OpenID4VCI error object (``error``, ``error_description``) with a 4xx
status, never a 500. A revocation through the revocation API flips the entry's bit in the IETF
Token Status List token and in the W3C status list alike.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from jwcrypto import jwk, jws
from jwcrypto.common import json_encode
from nacl.signing import VerifyKey

from revocation.bitstring import bit_at, decode_list
from revocation.token_status import decode_lst, status_at
from schemas.loader import CONTEXTS_DIR
from tests.support.depute import register_and_approve, registration
from tests.support.oid4vci import new_wallet, offer_of
from tests.support.software import register_certifier
from tests.support.status_entries import entries_of, revoke_entry
from tests.support.waits import eventually
from verifier.encoding import ED25519_PUB, multikey_decode

pytestmark = [pytest.mark.agents, pytest.mark.db]

TIMEOUT = 15
PRE_AUTH = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
FORMATS = {"dc+sd-jwt": "sd_jwt", "jwt_vc_json": "jwt_vc_json", "ldp_vc": "ldp_vc"}
FAMILIES = (
    "OnboardingCredential",
    "RoleCredential",
    "AttorneyCredential",
    "SoftwareCertificationCredential",
)


# -- the raw protocol client -------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(part: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Key:
    """A wallet key: Ed25519 (EdDSA) or P-256 (ES256), named by jwk, did:key or did:jwk."""

    def __init__(self, alg: str = "EdDSA") -> None:
        self.alg = alg
        self.key = (
            jwk.JWK.generate(kty="OKP", crv="Ed25519")
            if alg == "EdDSA"
            else jwk.JWK.generate(kty="EC", crv="P-256")
        )
        self.public = json.loads(self.key.export_public())

    @property
    def did(self) -> str:
        if self.alg == "EdDSA":
            raw = base64.urlsafe_b64decode(self.public["x"] + "==")
            from verifier.dids import did_key_from_public_key

            return did_key_from_public_key(raw)
        members = {k: self.public[k] for k in ("crv", "kty", "x", "y")}
        return "did:jwk:" + b64url(
            json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
        )

    def kid(self) -> str:
        if self.did.startswith("did:key:"):
            return f"{self.did}#{self.did.removeprefix('did:key:')}"
        return f"{self.did}#0"

    def proof(
        self,
        audience: str,
        nonce: str | None,
        *,
        header: dict | None = None,
        claims: dict | None = None,
        by: str = "jwk",
    ) -> str:
        protected = {"typ": "openid4vci-proof+jwt", "alg": self.alg}
        protected |= {"jwk": self.public} if by == "jwk" else {"kid": self.kid()}
        protected.update(header or {})
        payload = {"aud": audience, "iat": int(time.time())}
        if nonce is not None:
            payload["nonce"] = nonce
        payload.update(claims or {})
        token = jws.JWS(json.dumps(payload))
        token.add_signature(self.key, alg=self.alg, protected=json_encode(protected))
        return token.serialize(compact=True)


def unsigned(header: dict, payload: dict, signature: bytes = b"") -> str:
    return ".".join(
        (
            b64url(json.dumps(header).encode()),
            b64url(json.dumps(payload).encode()),
            b64url(signature),
        )
    )


class Client:
    """The protocol by hand: offer, metadata, token, nonce, credential."""

    def __init__(self, offer_link: str) -> None:
        uri = parse_qs(urlsplit(offer_link).query)["credential_offer_uri"][0]
        self.offer = requests.get(uri, timeout=TIMEOUT).json()
        self.issuer = self.offer["credential_issuer"]
        self.meta = requests.get(
            f"{self.issuer}/.well-known/openid-credential-issuer", timeout=TIMEOUT
        ).json()
        auth = requests.get(
            f"{self.issuer}/.well-known/oauth-authorization-server", timeout=TIMEOUT
        ).json()
        self.token_endpoint = auth["token_endpoint"]
        self.token: str | None = None

    @property
    def code(self) -> str:
        return self.offer["grants"][PRE_AUTH]["pre-authorized_code"]

    def token_request(self, **form: str) -> requests.Response:
        data = {"grant_type": PRE_AUTH, "pre-authorized_code": self.code} | form
        return requests.post(self.token_endpoint, data=data, timeout=TIMEOUT)

    def redeem(self, tx_code: str) -> str:
        response = self.token_request(tx_code=tx_code)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["token_type"] == "Bearer" and 0 < body["expires_in"] <= 300
        assert response.headers["Cache-Control"] == "no-store"
        self.token = body["access_token"]
        return self.token

    def nonce(self) -> str:
        response = requests.post(self.meta["nonce_endpoint"], timeout=TIMEOUT)
        assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
        return response.json()["c_nonce"]

    def request(
        self,
        body: Any,
        *,
        token: str | None = None,
        raw: bytes | None = None,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if raw is not None:
            headers["Content-Type"] = "application/json"
            return requests.post(
                self.meta["credential_endpoint"], data=raw, headers=headers, timeout=TIMEOUT
            )
        return requests.post(
            self.meta["credential_endpoint"], json=body, headers=headers, timeout=TIMEOUT
        )

    def credential(self, config_id: str, key: Key | None, *, by: str = "jwk") -> Any:
        body: dict[str, Any] = {"credential_configuration_id": config_id}
        if key is not None:
            body["proofs"] = {"jwt": [key.proof(self.issuer, self.nonce(), by=by)]}
        response = self.request(body)
        assert response.status_code == 200, response.text
        [item] = response.json()["credentials"]
        return item["credential"]


def refused(response: requests.Response, error: str, status: int = 400) -> str:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert body["error"] == error, body
    assert isinstance(body.get("error_description"), str)
    return body["error_description"]


# -- what the issuer sent ----------------------------------------------------------------------


def verify_jws(compact: str) -> tuple[dict, dict]:
    """Header and payload of a JWS signed by the did:key its kid names (checked here)."""
    head, body, signature = compact.split(".")
    header = b64json(head)
    assert header["alg"] == "EdDSA"
    did = header["kid"].split("#")[0]
    public = multikey_decode(did.removeprefix("did:key:"), ED25519_PUB)
    VerifyKey(public).verify(f"{head}.{body}".encode(), base64.urlsafe_b64decode(signature + "=="))
    return header, b64json(body)


def open_sd_jwt(sd_jwt: str) -> tuple[dict, dict, dict]:
    """(header, signed payload, disclosed claims by name), disclosures checked against _sd."""
    assert sd_jwt.endswith("~")
    jws_part, *disclosures = sd_jwt.split("~")
    header, payload = verify_jws(jws_part)
    digests = set(payload.get("_sd", []))
    disclosed = {}
    for disclosure in filter(None, disclosures):
        digest = b64url(hashlib.sha256(disclosure.encode()).digest())
        assert digest in digests, "a disclosure the issuer did not sign"
        _salt, name, value = b64json(disclosure)
        disclosed[name] = value
    return header, payload, disclosed


def status_bits(urls, sd_payload: dict, w3c: dict) -> tuple[int, bool]:
    """(Token Status List status of the SD-JWT, W3C list bit of the credential)."""
    reference = sd_payload["status"]["status_list"]
    response = requests.get(
        reference["uri"], headers={"Accept": "application/statuslist+jwt"}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/statuslist+jwt")
    header, token = verify_jws(response.text)
    assert header["typ"] == "statuslist+jwt"
    assert header["kid"].split("#")[0] == sd_payload["iss"]  # the SD-JWT's own key
    assert token["sub"] == reference["uri"] and token["exp"] > time.time()
    tsl = status_at(
        decode_lst(token["status_list"]["lst"]), reference["idx"], token["status_list"]["bits"]
    )
    entry = w3c["credentialStatus"]
    listed = requests.get(entry["statusListCredential"], timeout=TIMEOUT).json()
    bits = decode_list(listed["credentialSubject"]["encodedList"], "StatusList2021")
    return tsl, bit_at(bits, int(entry["statusListIndex"]))


# -- fixtures: one offer per family ------------------------------------------------------------


@pytest.fixture(scope="module")
def certifier(suite, operator):
    return register_certifier(suite, operator, "oid4vci-certifier")


def new_company(urls, operator) -> tuple[dict, dict]:
    """A company identified in KCIT and provisioned by depute (its DID on the issuer agent),
    with its first admin mandate pending."""
    return register_and_approve(
        urls,
        operator,
        registration("Quarry Analytics GmbH", "DE136695976", "Mara Quell", "mara@quarry.example"),
    )


@pytest.fixture(scope="module")
def company(urls, operator):
    return new_company(urls, operator)


# -- tests -------------------------------------------------------------------------------------


def test_metadata_context_and_type_metadata(urls):
    issuer = urls["issuer"]
    meta = requests.get(f"{issuer}/.well-known/openid-credential-issuer", timeout=TIMEOUT).json()
    assert meta["credential_issuer"] == issuer
    assert meta["nonce_endpoint"] == f"{issuer}/oid4vci/nonce"
    assert meta["credential_endpoint"] == f"{issuer}/oid4vci/credential"
    assert meta["display"][0]["name"]
    configs = meta["credential_configurations_supported"]
    assert len(configs) == 12
    for family in FAMILIES:
        sd = configs[f"{family}_sd_jwt"]
        assert sd["format"] == "dc+sd-jwt" and sd["vct"] == f"{issuer}/vct/{family}"
        assert sd["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"] == [
            "EdDSA",
            "ES256",
        ]
        assert set(sd["cryptographic_binding_methods_supported"]) == {"jwk", "did:key", "did:jwk"}
        assert sd["credential_metadata"]["display"][0]["name"]
        ldp = configs[f"{family}_ldp_vc"]
        assert ldp["credential_definition"]["type"] == ["VerifiableCredential", family]
        assert "https://w3id.org/credgate/v1" in ldp["credential_definition"]["@context"]
        assert configs[f"{family}_jwt_vc_json"]["credential_definition"]["type"][1] == family
        type_meta = requests.get(sd["vct"], timeout=TIMEOUT).json()
        assert type_meta["vct"] == sd["vct"]
    for family in ("OnboardingCredential", "RoleCredential", "AttorneyCredential"):
        assert set(configs[f"{family}_ldp_vc"]["cryptographic_binding_methods_supported"]) == {
            "did:key",
            "did:jwk",
        }
    auth = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()
    assert auth["issuer"] == issuer and auth["token_endpoint"] == f"{issuer}/oid4vci/token"
    assert auth["pre-authorized_grant_anonymous_access_supported"] is True

    preflight = requests.options(
        f"{issuer}/oid4vci/credential",
        timeout=TIMEOUT,
        headers={
            "Origin": "https://wallet.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert preflight.status_code == 200 and preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]

    context = requests.get(f"{issuer}/contexts/credgate/v1", timeout=TIMEOUT)
    assert context.status_code == 200
    assert context.headers["Content-Type"].startswith("application/ld+json")
    assert "max-age=" in context.headers["Cache-Control"] and context.headers["ETag"]
    assert context.content == (CONTEXTS_DIR / "credgate-v1.jsonld").read_bytes()
    again = requests.get(
        f"{issuer}/contexts/credgate/v1",
        timeout=TIMEOUT,
        headers={"If-None-Match": context.headers["ETag"]},
    )
    assert again.status_code == 304


@pytest.mark.parametrize("family", FAMILIES)
def test_each_family_in_each_format_bound_to_the_wallet_key(
    family, urls, operator, company, certifier, suite
):
    key = Key("EdDSA")
    offer = offer_of(urls, operator, family, did=key.did, company=company, certifier=certifier)
    assert offer["offer_link"].startswith("openid-credential-offer://?credential_offer_uri=")
    assert offer["tx_code"].isdigit() and len(offer["tx_code"]) == 6
    client = Client(offer["offer_link"])
    assert client.offer["grants"][PRE_AUTH]["tx_code"]["input_mode"] == "numeric"
    ids = client.offer["credential_configuration_ids"]
    assert ids == [f"{family}_{suffix}" for suffix in FORMATS.values()]
    client.redeem(offer["tx_code"])
    bound = family != "SoftwareCertificationCredential"

    sd_jwt = client.credential(f"{family}_sd_jwt", key, by="kid")
    header, payload, disclosed = open_sd_jwt(sd_jwt)
    assert header["typ"] == "dc+sd-jwt"
    assert payload["vct"] == f"{urls['issuer']}/vct/{family}"
    assert payload["cnf"] == {"jwk": {k: key.public[k] for k in ("kty", "crv", "x")}}
    assert set(payload["status"]["status_list"]) == {"idx", "uri"}
    assert {"iss", "iat", "exp", "vct", "cnf", "status"} <= set(payload)
    assert disclosed and not set(disclosed) & set(payload)  # personal claims only as disclosures
    if family == "OnboardingCredential":
        assert disclosed["givenName"] == "Ada" and "givenName" not in payload

    vc_jwt = client.credential(f"{family}_jwt_vc_json", key if bound else None)
    _, claims = verify_jws(vc_jwt)
    vc = claims["vc"]
    assert claims["iss"] == vc["issuer"] == payload["iss"] and claims["jti"] == vc["id"]
    ldp = client.credential(f"{family}_ldp_vc", key if bound else None)
    assert ldp["proof"]["type"] == "Ed25519Signature2020"
    assert suite.agents["verifier"].client().verify_credential(ldp)["verified"]
    # One credential in three formats: one id, one status entry.
    assert ldp["id"] == vc["id"] == payload["jti"]
    assert ldp["credentialStatus"] == vc["credentialStatus"]
    if bound:
        assert ldp["credentialSubject"]["id"] == vc["credentialSubject"]["id"] == key.did
    else:
        assert ldp["credentialSubject"]["id"].startswith("urn:sha256:")
    assert status_bits(urls, payload, ldp) == (0, False)

    entry = entries_of(urls["revocation"], ldp["id"], operator)[0]
    revoke_entry(urls["revocation"], entry["id"], operator)
    assert status_bits(urls, payload, ldp) == (1, True)


def test_es256_did_jwk_key_and_the_didcomm_invitation_is_withdrawn(urls, operator):
    key = Key("ES256")
    offer = offer_of(urls, operator, "OnboardingCredential")
    client = Client(offer["offer_link"])
    client.redeem(offer["tx_code"])
    vc = b64json(
        client.credential("OnboardingCredential_jwt_vc_json", key, by="kid").split(".")[1]
    )["vc"]
    assert vc["credentialSubject"]["id"] == key.did and key.did.startswith("did:jwk:")
    _, payload, _ = open_sd_jwt(client.credential("OnboardingCredential_sd_jwt", key))
    assert payload["cnf"]["jwk"]["crv"] == "P-256"
    # The DIDComm side of the same offer is gone: its short link no longer hands out anything.
    records = requests.get(
        f"{urls['issuer']}/issuer/credentials",
        params={"workflow": "person-onboarding"},
        headers=operator,
        timeout=TIMEOUT,
    ).json()
    mine = [r for r in records["credentials"] if r["credential_id"] == vc["id"]]
    assert mine and mine[0]["channel"] == "oid4vci" and mine[0]["state"] == "issued"


def test_the_pre_authorized_code_and_its_pin(urls, operator):
    offer = offer_of(urls, operator, "OnboardingCredential")
    client = Client(offer["offer_link"])
    refused(client.token_request(grant_type="authorization_code"), "unsupported_grant_type")
    refused(client.token_request(), "invalid_request")  # no tx_code
    refused(
        client.token_request(**{"pre-authorized_code": "pac_guess", "tx_code": "000000"}),
        "invalid_grant",
    )
    wrong = str((int(offer["tx_code"]) + 1) % 10**6).zfill(6)
    assert "attempt" in refused(client.token_request(tx_code=wrong), "invalid_grant")
    json_body = requests.post(client.token_endpoint, json={"grant_type": PRE_AUTH}, timeout=TIMEOUT)
    refused(json_body, "invalid_request")
    client.redeem(offer["tx_code"])
    # Single use: the same code (with the right PIN) is refused afterwards.
    refused(client.token_request(tx_code=offer["tx_code"]), "invalid_grant")

    # Five wrong PINs void the offer: even the right one no longer works.
    other = offer_of(urls, operator, "OnboardingCredential")
    second = Client(other["offer_link"])
    wrong = str((int(other["tx_code"]) + 1) % 10**6).zfill(6)
    for _ in range(5):
        refused(second.token_request(tx_code=wrong), "invalid_grant")
    refused(second.token_request(tx_code=other["tx_code"]), "invalid_grant")


def test_a_taken_didcomm_offer_is_not_redeemed_again(urls, operator, tenant, hub):
    from tests.support.issuer_wallet import accept_exchange

    response = requests.post(
        f"{urls['issuer']}/issuer/onboarding/persons",
        timeout=TIMEOUT,
        json={"givenName": "Bo", "familyName": "Dicom"},
    )
    view = response.json()
    holder = tenant("holder", "oid4vci-didcomm")
    [credential] = accept_exchange(hub, holder, view)
    assert credential["credentialSubject"]["id"] == holder.did
    client = Client(view["oid4vci"]["offer_link"])
    refused(client.token_request(tx_code=view["oid4vci"]["tx_code"]), "invalid_grant")


def test_key_proofs_that_must_be_refused(urls, operator):
    key, other = Key("EdDSA"), Key("EdDSA")
    offer = offer_of(urls, operator, "OnboardingCredential")
    client = Client(offer["offer_link"])
    client.redeem(offer["tx_code"])
    config = "OnboardingCredential_sd_jwt"
    ldp_config = "OnboardingCredential_ldp_vc"
    aud = client.issuer

    def ask(proof: str | None = None, **body: Any) -> requests.Response:
        request = {"credential_configuration_id": config} | body
        if proof is not None:
            request["proofs"] = {"jwt": [proof]}
        return client.request(request)

    refused(
        client.request({"credential_configuration_id": config}, token="nope"), "invalid_token", 401
    )
    refused(ask(), "invalid_proof")  # no proof at all
    refused(ask(key.proof(aud, None)), "invalid_nonce")
    refused(ask(key.proof(aud, "never-issued")), "invalid_nonce")
    refused(ask(key.proof("https://elsewhere.example", client.nonce())), "invalid_proof")
    refused(ask(key.proof(aud, client.nonce(), header={"typ": "JWT"})), "invalid_proof")
    refused(
        ask(key.proof(aud, client.nonce(), claims={"iat": int(time.time()) - 3600})),
        "invalid_proof",
    )  # expired
    refused(
        ask(key.proof(aud, client.nonce(), claims={"iat": int(time.time()) + 3600})),
        "invalid_proof",
    )
    refused(
        ask(key.proof(aud, client.nonce(), claims={"exp": int(time.time()) - 10})), "invalid_proof"
    )
    # alg none: no signature at all.
    none = unsigned(
        {"typ": "openid4vci-proof+jwt", "alg": "none", "jwk": key.public},
        {"aud": aud, "iat": int(time.time()), "nonce": client.nonce()},
    )
    refused(ask(none + "x"), "invalid_proof")
    refused(ask(none), "invalid_proof")
    # HS256 with the public key's bytes as the secret (the classic confusion).
    hmac_key = jwk.JWK(kty="oct", k=key.public["x"])
    hs = jws.JWS(json.dumps({"aud": aud, "iat": int(time.time()), "nonce": client.nonce()}))
    hs.add_signature(
        hmac_key,
        alg="HS256",
        protected=json_encode({"typ": "openid4vci-proof+jwt", "alg": "HS256", "jwk": key.public}),
    )
    refused(ask(hs.serialize(compact=True)), "invalid_proof")
    # A signature by another key than the one the header names.
    forged = other.proof(aud, client.nonce(), header={"jwk": key.public})
    refused(ask(forged), "invalid_proof")
    # A private key in the header; a kid that is not a did:key / did:jwk; both jwk and kid.
    private = json.loads(key.key.export_private())
    refused(ask(key.proof(aud, client.nonce(), header={"jwk": private})), "invalid_proof")
    refused(
        ask(key.proof(aud, client.nonce(), header={"kid": "https://evil.example/k"}, by="kid")),
        "invalid_proof",
    )
    refused(ask(key.proof(aud, client.nonce(), header={"kid": key.kid()})), "invalid_proof")
    mismatched = unsigned(
        {"typ": "openid4vci-proof+jwt", "alg": "ES256", "jwk": key.public},
        {"aud": aud, "iat": int(time.time()), "nonce": client.nonce()},
        b"\x01" * 64,
    )
    refused(ask(mismatched), "invalid_proof")  # an Ed25519 key under ES256
    # Batches and unknown configurations.
    nonce = client.nonce()
    refused(
        client.request(
            {
                "credential_configuration_id": config,
                "proofs": {"jwt": [key.proof(aud, nonce), key.proof(aud, nonce)]},
            }
        ),
        "invalid_proof",
    )
    refused(
        ask(key.proof(aud, client.nonce()), credential_configuration_id="Nope_sd_jwt"),
        "unknown_credential_configuration",
    )
    not_offered = "RoleCredential_sd_jwt"
    refused(
        ask(key.proof(aud, client.nonce()), credential_configuration_id=not_offered),
        "unknown_credential_configuration",
    )
    refused(
        client.request(None, raw=b'{"credential_configuration_id": '), "invalid_credential_request"
    )
    refused(client.request(["not", "an", "object"]), "invalid_credential_request")

    # A good proof works once; its nonce is spent.
    nonce = client.nonce()
    good = key.proof(aud, nonce)
    assert ask(good).status_code == 200
    refused(
        ask(good, credential_configuration_id="OnboardingCredential_jwt_vc_json"), "invalid_nonce"
    )  # replayed nonce
    refused(ask(key.proof(aud, client.nonce())), "credential_request_denied")  # issued already
    # The credential is now bound to ``key``: another key cannot take its other formats.
    refused(
        ask(other.proof(aud, client.nonce()), credential_configuration_id=ldp_config),
        "invalid_proof",
    )
    ok = ask(key.proof(aud, client.nonce()), credential_configuration_id=ldp_config)
    assert ok.status_code == 200, ok.text


def test_a_role_credential_is_issued_only_to_the_requested_did(urls, operator):
    owner, thief = Key("EdDSA"), Key("EdDSA")
    offer = offer_of(urls, operator, "RoleCredential", did=owner.did)
    client = Client(offer["offer_link"])
    client.redeem(offer["tx_code"])
    body = {
        "credential_configuration_id": "RoleCredential_sd_jwt",
        "proofs": {"jwt": [thief.proof(client.issuer, client.nonce())]},
    }
    assert "bound to" in refused(client.request(body), "invalid_proof")
    assert client.credential("RoleCredential_sd_jwt", owner)


# -- the wallet stand-in -----------------------------------------------------------------------


def test_wallet_stand_in_receives_every_family_in_every_format(
    wallet_cli, urls, operator, certifier
):
    name, did = new_wallet(wallet_cli, "vci")
    fresh_company = new_company(urls, operator)
    for family in FAMILIES:
        offer = offer_of(
            urls, operator, family, did=did, company=fresh_company, certifier=certifier
        )
        code, out = wallet_cli("scan", "-w", name, offer["offer_link"])
        assert code != 0 and "PIN" in out, out  # the PIN is asked for
        code, out = wallet_cli(
            "scan", "-w", name, offer["offer_link"], "--tx-code", offer["tx_code"]
        )
        assert code == 0, out
        for suffix in FORMATS.values():
            assert f"received {family}_{suffix}" in out, out
    code, out = wallet_cli("credentials", "-w", name, "--json")
    assert code == 0, out
    held = json.loads(out)
    by_type: dict[str, list] = {}
    for item in held:
        by_type.setdefault(item["types"][-1], []).append(item)
    for family in FAMILIES:
        assert len(by_type[family]) == 3, by_type.get(family)
        assert all(i["status"]["status"] == "valid" for i in by_type[family]), by_type[family]
    sd = next(i for i in by_type["RoleCredential"] if i.get("format") == "dc+sd-jwt")
    code, out = wallet_cli("credential", "-w", name, sd["record_id"], "--json")
    assert code == 0, out
    shown = json.loads(out)
    assert shown["claims"]["roles"] == ["DataConsumer"] and shown["credential"].endswith("~")
    # Revoke the onboarding credential: the wallet shows every format of it revoked.
    [onboarding_id] = {i["id"] for i in by_type["OnboardingCredential"]}
    entry = entries_of(urls["revocation"], onboarding_id, operator)[0]
    revoke_entry(urls["revocation"], entry["id"], operator)

    def statuses():
        code, out = wallet_cli("credentials", "-w", name, "--json")
        return [i["status"]["status"] for i in json.loads(out) if i["id"] == onboarding_id]

    eventually(
        statuses, 10, 0.1, until=lambda s: s == ["revoked"] * 3, what="revoked in the wallet"
    )
    code, out = wallet_cli("forget", "-w", name, sd["record_id"])
    assert code == 0, out
    code, out = wallet_cli("credentials", "-w", name, "--json")
    assert sd["record_id"] not in {i["record_id"] for i in json.loads(out)}


def test_a_redeemed_offer_never_fetched_is_abandoned_when_its_token_expires(urls, operator, suite):
    from datetime import timedelta

    from credgate.db import utcnow
    from issuer.oid4vci import grants

    offer = offer_of(urls, operator, "OnboardingCredential")
    client = Client(offer["offer_link"])
    client.redeem(offer["tx_code"])
    ctx = suite.servers["issuer"].server.app.extensions["issuer"]
    assert grants.sweep(ctx, utcnow()) == 0  # the token is still valid: nothing to end
    assert grants.sweep(ctx, utcnow() + timedelta(minutes=6)) >= 1
    assert grants.sweep(ctx, utcnow() + timedelta(minutes=6)) == 0  # once
    refused(
        client.request({"credential_configuration_id": "OnboardingCredential_sd_jwt"}),
        "invalid_token",
        401,
    )
    found = requests.get(
        f"{urls['issuer']}/issuer/credentials",
        headers=operator,
        params={"workflow": "person-onboarding", "state": "abandoned"},
        timeout=TIMEOUT,
    ).json()["credentials"]
    assert any(r["reason"] == "redeemed over OpenID4VCI but never fetched" for r in found)


def test_pages_show_the_openid_offer_and_its_pin_beside_the_didcomm_qr(urls, operator):
    issuer = urls["issuer"]
    opened = requests.post(
        f"{issuer}/issuer/onboarding/persons",
        timeout=TIMEOUT,
        json={"givenName": "Ada", "familyName": "Lovelace"},
    ).json()
    page = requests.get(f"{issuer}/onboarding/{opened['id']}", timeout=TIMEOUT).text
    assert page.count("<svg") == 2 and opened["oid4vci"]["tx_code"] in page
    assert "openid-credential-offer://?credential_offer_uri=" in page
    key = Key()
    asked = requests.post(
        f"{issuer}/issuer/role-requests",
        timeout=TIMEOUT,
        json={"did": key.did, "roles": ["DataProvider"]},
    ).json()
    waiting = requests.get(f"{issuer}/role-requests/{asked['id']}", timeout=TIMEOUT)
    assert waiting.status_code == 200 and "<svg" not in waiting.text
    requests.post(
        f"{issuer}/issuer/role-requests/{asked['id']}/approve", headers=operator, timeout=TIMEOUT
    ).raise_for_status()
    page = requests.get(f"{issuer}/role-requests/{asked['id']}", timeout=TIMEOUT).text
    assert page.count("<svg") == 2 and "tx-code" in page
    # Taken over OpenID4VCI: the page no longer offers either QR code.
    offer = requests.get(f"{issuer}/issuer/role-requests/{asked['id']}", timeout=TIMEOUT).json()[
        "exchange"
    ]["oid4vci"]
    Client(offer["offer_link"]).redeem(offer["tx_code"])
    page = requests.get(f"{issuer}/role-requests/{asked['id']}", timeout=TIMEOUT).text
    assert "<svg" not in page and "taken over OpenID4VCI" in page
