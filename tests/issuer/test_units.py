"""The issuer's small parts on their own: data-model rules, credential builders, flist digests and
downloads (loopback), QR codes, idempotency keys and record state changes (database)."""

from __future__ import annotations

import base64
import concurrent.futures
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from credgate.db import transaction
from credgate.errors import DomainError
from credgate.problems import problem_of
from credgate.qr import qr_svg, qr_version
from issuer import credentials, idempotency, records
from issuer.exchanges import DEEP_LINK, deep_link
from issuer.flist import Digests, digest_chunks, fetch_flist
from issuer.lifecycle import requested_credential
from issuer.models import ISSUING, OFFERED, Exchange, IdempotencyKey
from issuer.status import purpose_for
from issuer.vcdm import check_credential, data_model
from schemas.registry import validate
from tests.support.issuer_wallet import FlistServer
from verifier.fetch import FetchPolicy

DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
YEAR = timedelta(days=365)


# -- VC Data Model rules ---------------------------------------------------------------------------


def _v11() -> dict:
    return {
        "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/credgate/v1"],
        "type": ["VerifiableCredential", "RoleCredential"],
        "issuer": DID,
        "issuanceDate": "2026-11-22T12:00:00Z",
        "credentialSubject": {"id": DID, "roles": ["DataProvider"]},
    }


def test_valid_credentials_of_both_data_models_pass():
    assert check_credential(_v11()) == []
    v2 = _v11() | {
        "@context": ["https://www.w3.org/ns/credentials/v2", "https://w3id.org/credgate/v1"],
        "issuer": {"id": DID, "name": "Onboarding authority"},
        "validFrom": "2026-01-01T00:00:00+01:00",
        "validUntil": "2027-01-01T00:00:00Z",
        "credentialSubject": [{"id": DID}, {"name": "second subject"}],
    }
    del v2["issuanceDate"]
    assert check_credential(v2) == [] and data_model(v2) == "2.0"


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"@context": []}, "/@context"),
        ({"@context": ["https://w3id.org/credgate/v1"]}, "/@context/0"),
        ({"type": "RoleCredential"}, "/type"),
        ({"issuer": {"id": "no uri"}}, "/issuer/id"),
        ({"id": "not a uri"}, "/id"),
        ({"credentialSubject": []}, "/credentialSubject"),
        ({"credentialSubject": [{}]}, "/credentialSubject/0"),
        ({"validFrom": "2026-02-30T00:00:00Z"}, "/validFrom"),
        (
            {"validFrom": "2027-01-01T00:00:00Z", "validUntil": "2026-01-01T00:00:00Z"},
            "/validUntil",
        ),
        ({"proof": {}}, "/proof"),
    ],
)
def test_each_broken_rule_is_named_by_its_pointer(change, path):
    assert path in [v.path for v in check_credential(_v11() | change)]


def test_a_credential_must_be_an_object():
    assert [v.path for v in check_credential(["not", "an", "object"])] == [""]


# -- credential builders ---------------------------------------------------------------------------


def test_builders_make_schema_valid_credentials():
    person = credentials.person_onboarding(
        DID, {"givenName": "Ana", "familyName": "Silva", "country": "PT"}, NOW, YEAR
    )
    assert "id" not in person["credentialSubject"]  # bound late, by the wallet
    assert validate(credentials.with_placeholders(person)) == []
    assert person["issuanceDate"] == "2026-11-22T12:00:00Z"
    assert person["expirationDate"] == "2027-11-22T12:00:00Z"
    role = credentials.role(DID, DID, ["Certifier"], NOW, YEAR)
    assert validate(credentials.with_placeholders(role)) == []
    bound = credentials.with_subject(person, DID)
    assert bound["credentialSubject"]["id"] == DID and "id" not in person["credentialSubject"]


def test_schema_problems_carry_pointers():
    role = credentials.role(DID, DID, ["Astronaut"], NOW, YEAR)
    with pytest.raises(DomainError) as err:
        credentials.check_schema(role, placeholders=True)
    assert err.value.slug == "schema-violation" and problem_of(err.value).status == 422
    assert err.value.extra["violations"][0]["path"] == "/credentialSubject/roles/0"


def test_status_purpose_follows_the_family():
    assert purpose_for("OnboardingCredential") == "revocation"
    assert purpose_for("RoleCredential") == "revocation"
    assert purpose_for("AttorneyCredential") == "suspension"
    assert purpose_for("SoftwareCertificationCredential") == "suspension"
    assert purpose_for(None) == purpose_for("ExampleAlumniCredential") == "revocation"


# -- flists ----------------------------------------------------------------------------------------


def test_digests_of_known_bytes():
    digests = digest_chunks(iter([b"a", b"bc"]), 10)
    assert digests == Digests(
        3,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        "900150983cd24fb0d6963f7d28e17f72",
    )
    assert digests.subject_id == "urn:sha256:" + digests.sha256
    assert digests.digest_sri == "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="


def test_flist_download_is_limited_in_size_and_time():
    with FlistServer({"/small": b"x" * 100, "/big": b"x" * 5000}, hide_length=True) as server:
        policy = FetchPolicy([server.url("/")])  # a loopback server: only when allow-listed
        small = fetch_flist(server.url("/small"), max_bytes=100, timeout=5, policy=policy)
        assert small.size == 100
        with pytest.raises(DomainError) as err:
            fetch_flist(server.url("/big"), max_bytes=4096, timeout=5, policy=policy)
        assert err.value.slug == "flist-too-large"
    with FlistServer({"/slow": b"y" * 50}, drip=0.1) as server:
        began = time.monotonic()
        with pytest.raises(DomainError) as err:
            fetch_flist(
                server.url("/slow"),
                max_bytes=1000,
                timeout=0.5,
                policy=FetchPolicy([server.url("/")]),
            )
        # Too slow reads as unreachable: the same words for every way a download fails.
        assert err.value.slug == "flist-unreachable"
        assert time.monotonic() - began < 1.5  # the deadline holds although bytes keep coming


def test_flist_redirect_loops_are_cut_short():
    import http.server
    import threading

    class Loop(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(302)
            self.send_header("Location", self.path + "x")
            self.end_headers()

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Loop)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}"
        with pytest.raises(DomainError) as err:
            fetch_flist(url + "/a", max_bytes=10, timeout=5, policy=FetchPolicy([url]))
        assert err.value.slug == "flist-unreachable" and "redirect" in err.value.detail
    finally:
        httpd.shutdown()
        httpd.server_close()


# -- QR codes and invitation links -----------------------------------------------------------------


def test_qr_codes_of_short_links_stay_small():
    link = "https://issuer.data-space.example.org:8443/i/" + "A" * 16
    assert qr_version(link) <= 10
    assert qr_svg(link).startswith("<svg")
    with pytest.raises(ValueError):
        qr_svg("https://issuer.example/?oob=" + "A" * 2000)  # a whole invitation: unscannable


def test_deep_link_carries_the_agents_invitation():
    exchange = Exchange(invitation_url="http://127.0.0.1:9/?oob=eyJhIjoxfQ")
    assert deep_link(exchange) == DEEP_LINK + "eyJhIjoxfQ"
    assert deep_link(Exchange(invitation_url=None)) is None


def test_requested_credential_is_read_from_the_request_attachment():
    detail = {"credential": {"credentialSubject": {"id": DID}}, "options": {}}
    encoded = base64.urlsafe_b64encode(json.dumps(detail).encode()).decode().rstrip("=")
    record = {"cred_request": {"requests~attach": [{"data": {"base64": encoded}}]}}
    assert requested_credential(record) == detail["credential"]
    assert requested_credential({"cred_request": {"requests~attach": [{"data": {}}]}}) is None
    assert requested_credential({}) is None


# -- database: idempotency keys and record states --------------------------------------------------


@pytest.mark.db
def test_idempotency_key_is_claimed_once_and_taken_over_when_stale(db):
    scope, key = "token:test POST /x", f"k-{time.monotonic_ns()}"
    assert idempotency.claim(db, scope, key, "h1") is None
    earlier = idempotency.claim(db, scope, key, "h1")
    assert earlier is not None and earlier.status_code is None  # still running: a 409
    with pytest.raises(DomainError) as err:
        idempotency.replay(earlier, "h1")
    assert err.value.slug == "idempotency-request-in-progress"
    with transaction(db) as session:
        session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.key == key)
            .values(created_at=datetime.now(UTC) - timedelta(hours=1))
        )
    assert idempotency.claim(db, scope, key, "h2") is None  # the crashed first request's claim
    idempotency.store(db, scope, key, 201, {"ok": True})
    done = idempotency.claim(db, scope, key, "h2")
    assert idempotency.replay(done, "h2").get_json() == {"ok": True}
    with pytest.raises(DomainError) as err:
        idempotency.replay(done, "other body")
    assert err.value.slug == "idempotency-key-reused"


@pytest.mark.db
def test_only_one_worker_wins_a_record_state_change(db):
    credential = credentials.role(DID, DID, ["DataProvider"], NOW, YEAR)
    with transaction(db) as session:
        record = records.reserve(
            session,
            credential,
            type_name="RoleCredential",
            workflow="test",
            channel="vc-api",
            actor="test",
            status_base_url="http://127.0.0.1:9",
        )

    def race(_):
        with transaction(db) as session:
            return records.move(session, record.id, (OFFERED,), ISSUING)

    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(race, range(8)))
    assert outcomes.count(True) == 1
    with transaction(db) as session:
        assert records.abandon(session, record, "test", from_states=(ISSUING,)) is True
        assert records.abandon(session, record, "again", from_states=(ISSUING,)) is False
