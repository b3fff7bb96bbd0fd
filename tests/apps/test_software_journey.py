"""The certified-software journey, end to end through the suite's HTTP APIs (real agents, real
servers): a certifier accredited in KCIT certifies an flist; the signed certificate is published
in the issuer's public registry by digest and verifies with our verifier; a publisher lists the
flist in the catalogue with it; a data consumer's job on those bytes is admitted and runs; the
certifier revokes the certificate and the next job is refused within one second.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.support import software
from tests.support.problems import PROBLEMS

pytestmark = [pytest.mark.agents, pytest.mark.db]


def test_certify_publish_list_run_revoke_refuse(suite, settings, db, operator):
    issuer, gateway = software.urls(suite)["issuer"], software.urls(suite)["verifier"]
    certifier = software.register_certifier(suite, operator, f"journey-{uuid.uuid4().hex[:8]}")
    marker = uuid.uuid4().hex  # unique bytes: this run's own digest
    data = software.flist(f"import os\nprint('anonymised', os.environ['DATASET'], '{marker}')\n")
    digest = software.digest_of(data)

    # 1. certify: the issuer hashes the upload and the certifier's tenant signs.
    cert = software.created(
        software.certify(suite, certifier, data, purposes=("anonymisation", "harmonisation"))
    )
    vc = cert["verifiableCredential"]
    assert cert["subject"] == digest == vc["credentialSubject"]["id"]
    assert vc["issuer"] == certifier["did"] and vc["proof"]["type"] == "Ed25519Signature2020"

    # 2. published: anyone finds it by digest, with its live status; our verifier accepts it.
    published = requests.get(f"{issuer}/issuer/software/{digest}", timeout=10)
    assert published.status_code == 200, published.text
    [entry] = published.json()["certificates"]
    assert entry["status"] == "active" and entry["credential"] == vc
    assert entry["certifier"]["did"] == certifier["did"] and entry["url"] == cert["registry"]
    for wrong, status in (
        (digest.upper(), 400),
        ("sha256-abc", 400),
        ("urn:sha256:" + "0" * 64, 404),
    ):
        answer = requests.get(f"{issuer}/issuer/software/{wrong}", timeout=10)
        assert answer.status_code == status and answer.headers["Content-Type"].startswith(
            "application/problem+json"
        )
    listing = requests.get(f"{issuer}/issuer/software?certifier={certifier['did']}", timeout=10)
    assert [e["digest"] for e in listing.json()["software"]] == [digest]
    verdict = requests.post(
        f"{gateway}/credentials/verify", json={"verifiableCredential": vc}, timeout=10
    )
    assert verdict.status_code == 200 and verdict.json()["verified"] is True, verdict.text
    download = requests.get(
        f"{issuer}/issuer/certifications/{cert['id']}/credential",
        headers=certifier["auth"],
        timeout=10,
    )
    assert download.json()["verifiableCredential"] == vc  # what the certifier hands a publisher

    # 3. listed in the catalogue by a DataProvider, with the link to the registry.
    publisher = software.participant(suite, settings, db, ["DataProvider"]).token(gateway)
    item = software.created(
        requests.post(
            f"{gateway}/apps/catalogue/api/items",
            headers=publisher,
            json={
                "kind": "flist",
                "title": f"Anonymiser {marker}",
                "certificate": download.json()["verifiableCredential"],
            },
            timeout=30,
        )
    )
    assert item["digest"] == digest and item["certificateUrl"] == cert["registry"]
    assert item["purposes"] == ["anonymisation", "harmonisation"] and item["certified"] is True
    found = requests.get(
        f"{gateway}/apps/catalogue/api/items?kind=flist&q={marker}", headers=publisher, timeout=10
    ).json()["items"]
    assert [(i["digest"], i["certificateUrl"]) for i in found] == [(digest, cert["registry"])]

    # 4. a job on those bytes is admitted (no certificate sent: compute finds it) and runs.
    consumer = software.participant(suite, settings, db, ["DataConsumer"]).token(gateway)
    assert software.upload(gateway, consumer, data) == digest
    admitted = software.run_job(gateway, consumer, digest)
    assert admitted.status_code == 202, admitted.text
    assert admitted.json()["certificates"] == [vc["id"]]
    job = software.finished(gateway, consumer, admitted.json()["id"])
    assert job["state"] == "succeeded", job
    assert f"anonymised s3://hospital/cohort-7 {marker}" in job["output"]

    # 5. revoked: the registry says so, and the next job is refused within one second.
    revoked = software.revoke_certification(
        issuer, cert["id"], certifier["auth"], "re-identification found"
    )
    assert revoked.status_code == 200, revoked.text
    refused, elapsed = software.refused_within(
        1.0, lambda: software.run_job(gateway, consumer, digest)
    )
    assert refused.status_code == 403, refused.text
    assert elapsed < 1.0
    problem = refused.json()
    assert problem["type"] == PROBLEMS + "software-not-certified"
    # One suspension-purpose list carries both (revocation/ makes a revoked bit final): the
    # verifier reads a set bit of that list as "suspended".
    assert [e.split(": ")[-1] for e in problem["certificateErrors"]] == ["suspended"], problem
    [entry] = requests.get(f"{issuer}/issuer/software/{digest}", timeout=10).json()["certificates"]
    assert entry["status"] == "revoked"
