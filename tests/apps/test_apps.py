# ruff: noqa: F811 -- the fixtures of tests/support/apps.py, imported by name, are parameters here
"""The catalogue, marketplace and compute apps behind the gateway (entry-point discovery), with
machine clients holding tokens: publishing by role or through a company's attorney, offers whose
policy is checked against the buyer's credentials, and compute jobs run within their limits,
audited in a hash chain that detects an edited entry (admission by the real certifier workflow:
tests/apps/test_software_journey.py, tests/security/test_software_trust.py).
"""

from __future__ import annotations

import io
import json
import tarfile

import pytest
import schemathesis
from sqlalchemy import select, update

from apps.compute import __main__ as compute_cli
from apps.compute.audit import verify_chain
from apps.compute.executor import FlistError, Limits, unpack
from apps.compute.models import AuditEntry
from credgate.db import transaction
from gateway.state import gateway
from tests.support import apps as apps_world
from tests.support.apps import env, status_server  # noqa: F401 (status_server and env are fixtures)
from tests.support.openapi_checks import run_operation, runs_for
from tests.support.software import flist

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def app(settings, db, status_server, tmp_path_factory):
    app = apps_world.apps_gateway(
        settings, db, status_server, tmp_path_factory.mktemp("flists"), Limits(seconds=3.0)
    )
    yield app
    app.extensions["credgate.status_feed"].stop()


# -- catalogue ---------------------------------------------------------------------------------


def test_the_apps_are_mounted_from_their_entry_points(client):
    names = [a["name"] for a in client.get("/gateway/apps").get_json()["apps"]]
    assert names == ["catalogue", "compute", "marketplace"]
    powers = {a["name"]: a["powers"] for a in client.get("/gateway/apps").get_json()["apps"]}
    assert "purchase" in powers["marketplace"] and "publish" in powers["catalogue"]


def test_catalogue_publish_search_filter_sort(client, env):
    items = "/apps/catalogue/api/items"
    for title, keywords in (
        ("Zebra crossings", ["traffic"]),
        ("Air quality Lyon", ["air", "eu"]),
        ("Air quality Porto", ["air"]),
    ):
        created = client.post(
            items,
            headers=env["provider"],
            json={
                "kind": "data-product",
                "title": title,
                "keywords": keywords,
                "description": "hourly sensor readings",
                "license": "CC-BY-4.0",
            },
        )
        assert created.status_code == 201, created.get_data(as_text=True)
        assert created.get_json()["owner"] == apps_world.PROVIDER.did
    found = client.get(items + "?q=air+quality&sort=title", headers=env["consumer"]).get_json()
    assert [i["title"] for i in found["items"]][:2] == ["Air quality Lyon", "Air quality Porto"]
    by_keyword = client.get(items + "?keyword=eu", headers=env["consumer"]).get_json()
    assert [i["title"] for i in by_keyword["items"]] == ["Air quality Lyon"]
    newest = client.get(
        items + "?kind=data-product&sort=-created&limit=1", headers=env["consumer"]
    ).get_json()
    assert newest["items"][0]["title"] == "Air quality Porto" and newest["total"] >= 3
    one = client.get(f"{items}/{newest['items'][0]['id']}", headers=env["consumer"])
    assert one.get_json()["license"] == "CC-BY-4.0"
    assert (
        apps_world.problem_type(client.get(f"{items}/999999", headers=env["consumer"]))
        == "unknown-item"
    )
    for query, field in (
        ("kind=rocks", "kind"),
        ("limit=0", "limit"),
        ("sort=size", "sort"),
        ("offset=x", "offset"),
    ):
        response = client.get(f"{items}?{query}", headers=env["consumer"])
        assert response.status_code == 400 and response.get_json()["field"] == field


def test_catalogue_publishing_needs_the_role_or_a_company_with_it(client, env):
    items = "/apps/catalogue/api/items"
    model = {"kind": "model", "title": "Churn model"}
    refused = client.post(items, headers=env["provider"], json=model)  # DataProvider only
    assert refused.status_code == 403 and apps_world.problem_type(refused) == "role-missing"
    assert "ModelProvider" in refused.get_json()["detail"]
    consumer = client.post(items, headers=env["consumer"], json={"kind": "service", "title": "x"})
    assert consumer.status_code == 403 and "role DataProvider" in consumer.get_json()["missing"]
    service = {"kind": "service", "title": "Anonymisation service"}
    as_company = client.post(items, headers=env["employee"], json=service)
    assert as_company.status_code == 201, as_company.get_data(as_text=True)
    assert as_company.get_json()["owner"] == apps_world.COMPANY.did
    assert as_company.get_json()["publisher"] == apps_world.EMPLOYEE.did
    for body, field in (
        ({"kind": "x", "title": "t"}, "kind"),
        ({"kind": "service"}, "title"),
        ({"kind": "service", "title": "t", "keywords": "a"}, "keywords"),
        ({"kind": "flist", "title": "t"}, "certificate"),
    ):
        response = client.post(items, headers=env["provider"], json=body)
        assert response.status_code == 400 and response.get_json()["field"] == field


def test_catalogue_page_escapes_what_it_shows(client, env):
    hostile = "<script>alert('x')</script>"
    client.post(
        "/apps/catalogue/api/items",
        headers=env["provider"],
        json={"kind": "data-product", "title": hostile},
    )
    page = client.get(
        "/apps/catalogue/?q=alert", headers={**env["consumer"], "Accept": "text/html"}
    )
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and hostile not in text and "&lt;script&gt;" in text
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]


# -- marketplace -------------------------------------------------------------------------------


def test_marketplace_offer_purchase_and_history(client, env):
    offers = "/apps/marketplace/api/offers"
    offer = client.post(
        offers,
        headers=env["provider"],
        json={
            "title": "Air quality Lyon, 2025",
            "price": "120.50",
            "currency": "EUR",
            "policy": {"roles": ["DataConsumer"]},
        },
    )
    assert offer.status_code == 201, offer.get_data(as_text=True)
    offer_id = offer.get_json()["id"]
    bought = client.post(f"{offers}/{offer_id}/purchase", headers=env["buyer"])
    assert bought.status_code == 201, bought.get_data(as_text=True)
    agreement = bought.get_json()
    assert (
        agreement["buyer"] == apps_world.BUYER_CO.did
        and agreement["buyerHolder"] == apps_world.BUYER.did
    )
    assert agreement["price"] == "120.50" and agreement["as"] == "buyer"
    assert len(agreement["credentials"]) == 2  # the attorney and the company's role

    no_power = client.post(f"{offers}/{offer_id}/purchase", headers=env["clerk"])
    assert no_power.status_code == 403 and apps_world.problem_type(no_power) == "power-missing"
    assert "marketplace:purchase" in no_power.get_json()["title"]
    assert "power marketplace:purchase" in no_power.get_json()["missing"]

    person = client.post(f"{offers}/{offer_id}/purchase", headers=env["consumer"])
    assert person.status_code == 201 and person.get_json()["buyer"] == apps_world.CONSUMER.did
    own = client.post(f"{offers}/{offer_id}/purchase", headers=env["provider"])
    assert own.status_code == 409 and apps_world.problem_type(own) == "own-offer"
    history = client.get("/apps/marketplace/api/history", headers=env["provider"]).get_json()
    assert {t["as"] for t in history["transactions"]} == {"seller"}
    assert len(history["transactions"]) == 2
    buyer_history = client.get("/apps/marketplace/api/history", headers=env["clerk"]).get_json()
    # the company's history, seen by its staff
    assert buyer_history["party"] == apps_world.BUYER_CO.did
    assert [t["id"] for t in buyer_history["transactions"]] == [agreement["id"]]


def test_marketplace_policy_and_bad_offers(client, env):
    offers = "/apps/marketplace/api/offers"
    strict = client.post(
        offers,
        headers=env["employee"],
        json={"title": "Models only", "price": "1", "policy": {"roles": ["ModelConsumer"]}},
    )
    assert strict.status_code == 201 and strict.get_json()["seller"] == apps_world.COMPANY.did
    refused = client.post(f"{offers}/{strict.get_json()['id']}/purchase", headers=env["buyer"])
    assert refused.status_code == 403 and apps_world.problem_type(refused) == "policy-unsatisfied"
    assert "ModelConsumer" in refused.get_json()["detail"]
    provider = client.post(f"{offers}/{strict.get_json()['id']}/purchase", headers=env["provider"])
    assert provider.status_code == 201  # ModelConsumer in person
    for body, field in (
        ({"title": "t", "price": "abc"}, "price"),
        ({"title": "t", "price": "1.005"}, "price"),
        ({"title": "t", "price": "-1"}, "price"),
        ({"title": "t", "price": "1", "currency": "eu"}, "currency"),
        ({"title": "t", "price": "1", "policy": {"roles": ["Wizard"]}}, "policy.roles"),
        ({"title": "t", "price": "1", "policy": {"definition": "nope"}}, "policy.definition"),
        ({"title": "t", "price": "1", "policy": {"other": 1}}, "policy"),
        ({"price": "1"}, "title"),
    ):
        response = client.post(offers, headers=env["provider"], json=body)
        assert response.status_code == 400 and response.get_json()["field"] == field, body
    assert (
        apps_world.problem_type(client.post(f"{offers}/999999/purchase", headers=env["consumer"]))
        == "unknown-offer"
    )
    assert client.post(offers, headers=env["consumer"], json={"title": "t"}).status_code == 403


# -- compute -----------------------------------------------------------------------------------


SCRIPT = (
    "import os\nprint('anonymised', os.environ['DATASET'], 'for', os.environ['PURPOSE'])\n"
    "print('rows: 42')\n"
)


def run(client, headers, digest, certificate, purpose="anonymisation"):
    body = {"flist": digest, "dataset": "s3://hospital/cohort-7", "purpose": purpose}
    if certificate is not None:
        body["certificate"] = certificate
    return client.post("/apps/compute/api/jobs", headers=headers, json=body)


def finished(client, headers, job_id) -> dict:
    job = client.get(f"/apps/compute/api/jobs/{job_id}?wait=20", headers=headers).get_json()
    assert job["state"] in ("succeeded", "failed"), job
    return job


# Admission with certificates from the real certifier workflow (issuer, KCIT, registry, status
# lists): tests/apps/test_software_journey.py and tests/security/test_software_trust.py. The
# helper-made certificates here (tests.support.apps.certify) only let the executor's limits be
# tried without the agents.


def test_jobs_run_within_their_limits(client, env, status_server):
    data = flist("import time\nprint('started', flush=True)\ntime.sleep(30)\n")
    digest = apps_world.upload(client, env["buyer"], data)
    accepted = run(client, env["buyer"], digest, apps_world.certify(data, status_server))
    job = finished(client, env["buyer"], accepted.get_json()["id"])
    assert job["state"] == "failed" and job["timedOut"] and "started" in job["output"]
    assert job["reason"] == "time limit exceeded"
    hog = flist("x = bytearray(2 * 1024 ** 3)\nprint('allocated')\n")
    digest = apps_world.upload(client, env["buyer"], hog)
    job = finished(
        client,
        env["buyer"],
        run(client, env["buyer"], digest, apps_world.certify(hog, status_server)).get_json()["id"],
    )
    assert job["state"] == "failed" and "MemoryError" in job["errors"]


def test_unsafe_archives_are_not_unpacked(tmp_path):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    archive = tmp_path / "evil.tar.gz"
    archive.write_bytes(buffer.getvalue())
    with pytest.raises(FlistError):
        unpack(archive, tmp_path / "root", Limits())
    assert not (tmp_path / "escape.txt").exists()
    archive.write_bytes(b"not a tar")
    with pytest.raises(FlistError):
        unpack(archive, tmp_path / "root2", Limits())


def test_the_audit_chain_detects_an_edited_entry(app, client, env, settings, capsys):
    factory = gateway_of(app).factory
    report = verify_chain(factory)
    assert report.ok and report.entries >= 3
    with factory() as session:
        victim = session.scalar(select(AuditEntry).where(AuditEntry.event == "admitted").limit(1))
    original = dict(victim.data)
    with transaction(factory) as session:
        session.execute(
            update(AuditEntry)
            .where(AuditEntry.seq == victim.seq)
            .values(data={**original, "reason": "nothing to see"})
        )
    try:
        broken = verify_chain(factory)
        assert not broken.ok and broken.broken_at == victim.seq
        assert broken.reason == "its content was changed"
        assert compute_cli.main(["verify-audit", "--database-url", settings.database_url]) == 1
        assert json.loads(capsys.readouterr().out)["brokenAt"] == victim.seq
        governance = client.get("/apps/compute/api/audit/verify", headers=env["consumer"])
        assert governance.status_code == 403  # Governance or DataIntermediary only
    finally:
        with transaction(factory) as session:
            session.execute(
                update(AuditEntry).where(AuditEntry.seq == victim.seq).values(data=original)
            )
    assert verify_chain(factory).ok


def gateway_of(app):
    with app.app_context():
        return gateway()


# -- the apps' OpenAPI declarations, past the gateway ------------------------------------------


@pytest.mark.slow  # a bounded fuzzing run: make test runs it, make test-fast leaves it out
def test_the_apps_answer_as_the_gateway_document_says(app, env):
    """A bounded schemathesis run over the mounted apps' operations in the gateway's
    ``/openapi.json``, by a caller the gateway lets in (a DataProvider, also ModelConsumer): each
    answers as declared (strict mode checks the bodies too), and what a declaration refuses is
    refused. tests/suite/test_openapi.py only reaches their 401s (its callers hold no grant).
    Runs last: its offers, purchases and items would change the counts the tests above read."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    schema.config.generation.update(with_security_parameters=False, allow_extra_parameters=False)
    headers = {**env["provider"], "Accept": "application/json"}
    failures, ran = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.startswith("/apps/"):
            continue
        raw = operation.definition.raw
        assert not raw.get("x-undeclared"), operation.label
        for mode, checks in runs_for(raw):
            ran += 1
            failure = run_operation(operation, mode, checks, headers)
            if failure:
                failures.append(f"{operation.label} ({mode.value}): {failure}")
    assert ran >= 12, ran  # every operation of the three apps was driven
    assert not failures, "\n".join(failures)
