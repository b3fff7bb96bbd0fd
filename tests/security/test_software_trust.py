"""Attacks on certified software, through the suite's HTTP APIs: each certificate an attacker can
bring or plant is refused — by the issuer before it signs, by compute before a job runs, by the
catalogue before it lists.

* the issuer signs only for a DID KCIT accredits now (not its own list: there is none);
* a certificate signed by a DID KCIT does not accredit (self-made, or accreditation withdrawn);
* a certificate whose digest is not the digest of the flist's bytes (other bytes, swapped file);
* a certificate for another purpose than the job's;
* a revoked certificate, sent with the job or found in the registry;
* a forged registry: altered credentials, self-signed ones and a lying status.
"""

from __future__ import annotations

import copy
import json
import uuid

import pytest
import requests

from tests.support import software
from tests.support.gateway import resign
from tests.support.problems import PROBLEMS
from verifier.testing import LoopbackServer, Party, QuietHandler, credgate_credential

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def gateway(suite):
    return software.urls(suite)["verifier"]


@pytest.fixture(scope="module")
def certifier(suite, operator):
    return software.register_certifier(suite, operator, f"trust-{uuid.uuid4().hex[:8]}")


@pytest.fixture(scope="module")
def consumer(suite, settings, db, gateway):
    return software.participant(suite, settings, db, ["DataConsumer", "DataProvider"]).token(
        gateway
    )


def fresh_flist() -> bytes:
    return software.flist(f"print('job {uuid.uuid4().hex}')\n")


def problem(response) -> tuple[str, dict]:
    assert response.headers["Content-Type"].startswith("application/problem+json"), response.text
    body = response.json()
    return body["type"].removeprefix(PROBLEMS), body


def test_the_issuer_signs_only_for_a_did_kcit_accredits_now(suite, operator, gateway):
    certifier = software.register_certifier(
        suite, operator, f"kcit-{uuid.uuid4().hex[:8]}", accredited=False
    )
    data = fresh_flist()
    assert problem(software.certify(suite, certifier, data))[0] == "certifier-not-accredited"
    software.accredit(suite, operator, certifier["did"])  # KCIT, the only place accreditations live
    cert = software.created(software.certify(suite, certifier, data))
    software.accredit(suite, operator, certifier["did"], active=False)
    refused = software.certify(suite, certifier, fresh_flist())
    assert refused.status_code == 403 and problem(refused)[0] == "certifier-not-accredited"
    # Nor through the VC-API, under the certifier's DID.
    unsigned = {
        k: v
        for k, v in cert["verifiableCredential"].items()
        if k not in ("proof", "id", "credentialStatus")
    }
    vc_api = requests.post(
        f"{software.urls(suite)['issuer']}/credentials/issue",
        json={"credential": unsigned},
        headers=operator,
        timeout=30,
    )
    assert vc_api.status_code == 403 and problem(vc_api)[0] == "certifier-not-accredited"


def test_a_certificate_from_a_did_kcit_does_not_accredit_is_refused(
    suite, operator, gateway, consumer
):
    data = fresh_flist()
    digest = software.upload(gateway, consumer, data)
    rogue = Party.generate()  # signs a well-formed certificate of the exact bytes
    forged = resign(
        rogue,
        credgate_credential("SoftwareCertificationCredential", rogue, digest),
        purposes=["anonymisation"],
    )
    refused = software.run_job(gateway, consumer, digest, certificate=forged)
    slug, body = problem(refused)
    assert refused.status_code == 403 and slug == "software-not-certified"
    assert "untrusted-issuer" in body["certificateErrors"][0]

    # A real certifier's certificate stops counting once KCIT withdraws the accreditation.
    certifier = software.register_certifier(suite, operator, f"withdrawn-{uuid.uuid4().hex[:8]}")
    software.created(software.certify(suite, certifier, data))
    assert software.run_job(gateway, consumer, digest).status_code == 202  # found in the registry
    software.accredit(suite, operator, certifier["did"], active=False)
    refused, elapsed = software.refused_within(
        1.0, lambda: software.run_job(gateway, consumer, digest)
    )
    assert refused.status_code == 403 and elapsed < 1.0, refused.text
    assert "untrusted-issuer" in problem(refused)[1]["certificateErrors"][0]


def test_a_certificate_of_other_bytes_is_refused(suite, certifier, gateway, consumer):
    data = fresh_flist()
    vc = software.created(software.certify(suite, certifier, data))["verifiableCredential"]
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    other = software.upload(gateway, consumer, bytes(changed))
    refused = software.run_job(gateway, consumer, other, certificate=vc)
    assert refused.status_code == 403 and problem(refused)[0] == "software-not-certified"

    # The stored file swapped after upload: the bytes are hashed again at admission.
    digest = software.upload(gateway, consumer, data)
    store = suite.servers["verifier"].server.app.extensions["apps.compute"].path(digest)
    original = store.read_bytes()
    store.write_bytes(bytes(changed))
    try:
        swapped = software.run_job(gateway, consumer, digest)
        assert swapped.status_code == 409 and problem(swapped)[0] == "flist-tampered"
    finally:
        store.write_bytes(original)
    assert software.run_job(gateway, consumer, digest).status_code == 202


def test_a_certificate_for_another_purpose_is_refused(suite, certifier, gateway, consumer):
    data = fresh_flist()
    software.created(software.certify(suite, certifier, data, purposes=("anonymisation",)))
    digest = software.upload(gateway, consumer, data)
    refused = software.run_job(gateway, consumer, digest, purpose="model-training")
    assert refused.status_code == 403 and problem(refused)[0] == "purpose-not-certified"
    assert software.run_job(gateway, consumer, digest, purpose="anonymisation").status_code == 202


def test_a_revoked_certificate_is_refused_however_it_comes(suite, certifier, gateway, consumer):
    data = fresh_flist()
    cert = software.created(software.certify(suite, certifier, data))
    digest = software.upload(gateway, consumer, data)
    revoked = software.revoke_certification(
        software.urls(suite)["issuer"], cert["id"], certifier["auth"], "backdoor found"
    )
    assert revoked.status_code == 200, revoked.text
    for sent in (None, cert["verifiableCredential"]):
        extra = {"certificate": sent} if sent else {}
        refused, _ = software.refused_within(
            1.0, lambda e=extra: software.run_job(gateway, consumer, digest, **e)
        )
        assert refused.status_code == 403 and problem(refused)[0] == "software-not-certified"


class ForgedRegistry(LoopbackServer):
    """A registry an attacker controls: it answers every digest with ``entries``."""

    def __init__(self, entries: list[dict]) -> None:
        entries_json = json.dumps({"certificates": entries}).encode()

        class Handler(QuietHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                self.reply(200, entries_json, "application/json")

        super().__init__(Handler)
        self.start()


def test_a_forged_registry_admits_nothing(suite, operator, certifier, gateway, consumer):
    data = fresh_flist()
    digest = software.upload(gateway, consumer, data)
    # A genuine certificate of other software, and one of these bytes for another purpose.
    elsewhere = software.created(software.certify(suite, certifier, fresh_flist()))[
        "verifiableCredential"
    ]
    honest = software.created(software.certify(suite, certifier, data, purposes=("harmonisation",)))
    altered = copy.deepcopy(elsewhere)  # re-addressed to these bytes, signature kept
    altered["credentialSubject"]["id"] = digest
    widened = copy.deepcopy(honest["verifiableCredential"])  # purposes widened after signing
    widened["credentialSubject"]["purposes"] = ["harmonisation", "anonymisation"]
    rogue = Party.generate()
    self_made = resign(
        rogue,
        credgate_credential("SoftwareCertificationCredential", rogue, digest),
        purposes=["anonymisation"],
    )
    # A genuine certificate of these bytes, revoked; the forged registry still calls it active.
    lying = honest["verifiableCredential"]
    revoked = software.revoke_certification(
        software.urls(suite)["issuer"], honest["id"], certifier["auth"], "x"
    )
    assert revoked.status_code == 200
    entries = [
        {"digest": digest, "status": "active", "credential": c}
        for c in (altered, widened, self_made, lying)
    ]

    registry = suite.servers["verifier"].server.app.extensions["apps.registry"]
    genuine = registry.base_url
    forged = ForgedRegistry(entries)
    # The gateway is pointed at the attacker's registry.
    registry.base_url = f"{forged.url}/issuer/software"
    try:
        for purpose in ("anonymisation", "harmonisation"):
            refused, _ = software.refused_within(
                1.0, lambda p=purpose: software.run_job(gateway, consumer, digest, purpose=p)
            )
            slug, body = problem(refused)
            assert refused.status_code == 403 and slug == "software-not-certified", body
            assert len(body["certificateErrors"]) == 4, body  # each forged entry, refused
        catalogued = requests.post(
            f"{gateway}/apps/catalogue/api/items",
            headers=consumer,
            json={"kind": "flist", "title": "forged", "digest": digest},
            timeout=30,
        )
        assert catalogued.status_code == 400, catalogued.text
        assert problem(catalogued)[0] == "software-not-certified"
    finally:
        registry.base_url = genuine
        forged.stop()
