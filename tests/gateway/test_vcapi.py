"""The verifier service's W3C VC-API: request and response shapes, problem documents, limits."""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.support.gateway import verifier_client
from tests.support.problems import PROBLEMS
from verifier import errors
from verifier.testing import Party, credgate_credential, serving_lists
from verifier.trust import StaticTrustRegistry

pytestmark = pytest.mark.db

AUTHORITY = Party.generate()
HOLDER = Party.generate()
DOMAIN = "gateway.credgate.example"


@pytest.fixture(scope="module")
def server():
    yield from serving_lists(("roles", AUTHORITY, "revocation"))


@pytest.fixture(scope="module")
def client(settings, db, server, clock):
    return verifier_client(
        settings,
        db,
        trust=StaticTrustRegistry(onboarding_authority=AUTHORITY.did),
        FETCH_ALLOW=[server.url],  # a loopback status server is fetched only if listed
        VERIFIER_DOMAIN=DOMAIN,
        VERIFIER_CLOCK=clock,
    )


_indexes = iter(range(1, 10_000))


def role(server, **kwargs):
    entry = server.entry("roles", next(_indexes))
    return credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=entry, **kwargs)


def post(client, path, body=None, *, raw=None, content_type="application/json"):
    data = raw if raw is not None else json.dumps(body)
    return client.post(path, data=data, content_type=content_type)


def test_credential_verifies(client, server):
    response = post(client, "/credentials/verify", {"verifiableCredential": role(server)})
    assert response.status_code == 200, response.json
    assert response.json == {
        "verified": True,
        "checks": ["structure", "proof", "issuer", "validity", "trust", "status"],
        "warnings": [],
        "errors": [],
    }


def test_failed_verification_is_a_problem_document_with_typed_errors(client, server):
    credential = role(server, valid_from="2024-01-01T00:00:00Z", valid_until="2024-02-01T00:00:00Z")
    credential["credentialSubject"]["roles"] = ["Governance"]
    response = post(client, "/credentials/verify", {"verifiableCredential": credential})
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["type"] == PROBLEMS + "verification-failed"
    assert body["verified"] is False
    # Nothing more is checked (or fetched) of a credential whose proof failed.
    assert [e["type"] for e in body["errors"]] == [PROBLEMS + errors.BAD_SIGNATURE]
    assert all(e["title"] and e["detail"] for e in body["errors"])


@pytest.mark.parametrize(
    ("raw", "content_type", "status", "slug"),
    [
        ("{not json", "application/json", 400, errors.MALFORMED_JSON),
        ('{"verifiableCredential": 1}', "application/json", 400, errors.INVALID_REQUEST),
        ("[]", "application/json", 400, errors.INVALID_REQUEST),
        (
            '{"verifiableCredential": "eyJhbGciOiJub25lIn0.e30."}',
            "application/json",
            400,
            errors.UNSUPPORTED_FORMAT,
        ),
        (
            '{"verifiableCredential": {}, "options": 3}',
            "application/json",
            400,
            errors.INVALID_REQUEST,
        ),
        ("hello", "text/plain", 415, "unsupported-media-type"),
    ],
)
def test_malformed_requests_are_problem_documents(client, raw, content_type, status, slug):
    response = post(client, "/credentials/verify", raw=raw, content_type=content_type)
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert response.json["type"] == PROBLEMS + slug


def test_oversized_body_is_refused(client, server):
    credential = role(server)
    credential["padding"] = "x" * (300 * 1024)
    response = post(client, "/credentials/verify", {"verifiableCredential": credential})
    assert response.status_code == 413
    assert response.json["type"] == PROBLEMS + errors.PAYLOAD_TOO_LARGE


def test_hostile_graph_is_refused_quickly_and_the_worker_stays_responsive(client, server):
    nodes = [
        {
            "id": f"_:participant{i}",
            "connectedTo": [{"id": f"_:participant{j}"} for j in range(8) if j != i],
        }
        for i in range(8)
    ]
    hostile = {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://www.w3.org/ns/credentials/examples/v2",
        ],
        "type": ["VerifiableCredential"],
        "issuer": AUTHORITY.did,
        "credentialSubject": {"connectedTo": nodes},
    }
    hostile = AUTHORITY.sign(
        {
            "@context": hostile["@context"],
            "type": hostile["type"],
            "issuer": AUTHORITY.did,
            "credentialSubject": {"id": HOLDER.did},
        },
        proof_type="DataIntegrityProof",
        cryptosuite="eddsa-rdfc-2022",
    ) | {"credentialSubject": {"connectedTo": nodes}}
    # The refusal in the thread's CPU time (the test client runs the request on this thread):
    # the work it took, not how long a loaded host kept the thread waiting for a core.
    started = time.thread_time()
    response = post(client, "/credentials/verify", {"verifiableCredential": hostile})
    assert time.thread_time() - started < 0.2
    assert response.status_code == 400
    assert [e["type"] for e in response.json["errors"]][:1] == [PROBLEMS + errors.HOSTILE_GRAPH]
    started = time.monotonic()
    ok = post(client, "/credentials/verify", {"verifiableCredential": role(server)})
    assert ok.status_code == 200 and time.monotonic() - started < 0.5


def test_challenge_then_presentation(client, server):
    issued = client.post("/challenges").json
    assert issued["domain"] == DOMAIN and len(issued["challenge"]) >= 32
    vp = HOLDER.present([role(server)], challenge=issued["challenge"], domain=DOMAIN)
    body = {"verifiablePresentation": vp, "options": {"challenge": issued["challenge"]}}
    response = post(client, "/presentations/verify", body)
    assert response.status_code == 200, response.json
    assert response.json["verified"] is True
    assert response.json["credentialResults"][0]["verified"] is True
    assert {"proof", "challenge", "domain", "holder"} <= set(response.json["checks"])

    again = post(client, "/presentations/verify", body)
    assert again.status_code == 400
    assert [e["type"] for e in again.json["errors"]] == [PROBLEMS + errors.CHALLENGE_REUSED]


@pytest.mark.parametrize(
    ("change", "slug"),
    [
        ("unknown-challenge", errors.CHALLENGE_UNKNOWN),
        ("wrong-challenge", errors.CHALLENGE_MISMATCH),
        ("wrong-domain", errors.DOMAIN_MISMATCH),
        ("other-holder", errors.HOLDER_MISMATCH),
        ("revoked", errors.REVOKED),
    ],
)
def test_presentation_failures_through_the_api(client, server, clock, change, slug):
    issued = client.post("/challenges", json={"domain": DOMAIN}).json
    credential = role(server)
    signer = Party.generate() if change == "other-holder" else HOLDER
    challenge = "made-up-challenge" if change == "unknown-challenge" else issued["challenge"]
    domain = "evil.example" if change == "wrong-domain" else DOMAIN
    if change == "revoked":
        entry = credential["credentialStatus"]
        server.set("roles", int(entry["statusListIndex"]))
        clock.advance(1.05)  # no change feed here: past the list cache's short TTL
    vp = signer.present([credential], challenge=challenge, domain=domain)
    options = {"challenge": "something-else" if change == "wrong-challenge" else challenge}
    if change == "unknown-challenge":
        del options["challenge"]  # a caller's own challenge is compared, not refused
    if change == "other-holder":
        options["checks"] = ["holder"]  # the generic VC-API binds the holder when asked
    response = post(
        client, "/presentations/verify", {"verifiablePresentation": vp, "options": options}
    )
    assert response.status_code == 400
    types = [e["type"] for e in response.json["errors"]]
    assert PROBLEMS + slug in types, types


def test_unsigned_presentation_and_wrong_shape(client, server):
    vp = HOLDER.present([role(server)], challenge="x")
    unsigned = {k: v for k, v in vp.items() if k != "proof"}
    response = post(client, "/presentations/verify", {"verifiablePresentation": unsigned})
    assert response.status_code == 400
    assert response.json["errors"][0]["type"] == PROBLEMS + errors.PROOF_MISSING
    response = post(client, "/presentations/verify", {"verifiablePresentation": copy.deepcopy([])})
    assert response.json["type"] == PROBLEMS + errors.INVALID_REQUEST
