"""Exchange bookkeeping: every DIDComm exchange ends done or abandoned. Time-outs, problem reports,
a wallet that names no DID, and webhooks the service never saw all end cleanly, with the status
index marked abandoned (never reused) unless the credential was really issued."""

from __future__ import annotations

import concurrent.futures
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from agents.hub import ExchangeFailed, WebhookTimeout
from credgate.db import utcnow
from credgate.web import on_shutdown
from issuer import lifecycle
from issuer.models import Exchange, IssuedCredential
from issuer.watcher import Watcher
from revocation.models import StatusEntry
from tests.support.didcomm import offer_reached, take_credential
from tests.support.issuer_wallet import (
    accept_exchange,
    fetch_invitation,
    issuer_of,
    ledger,
    operator_headers,
    receive_offers,
    stored_credentials,
)
from tests.support.waits import eventually

pytestmark = [pytest.mark.agents, pytest.mark.db]


@pytest.fixture(scope="module")
def holder(tenant):
    return tenant("holder", "issuer-lifecycle-dana")


def person(issuer_url: str, given: str = "Dana") -> dict:
    response = requests.post(
        f"{issuer_url}/issuer/onboarding/persons",
        json={"givenName": given, "familyName": "Novak"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def states(db, exchange_id: str) -> tuple[str, list[tuple[str, str]]]:
    """The exchange's state and (record state, status entry state) of each of its credentials."""
    with db() as session:
        exchange = session.get(Exchange, exchange_id)
        rows = session.execute(
            select(IssuedCredential.state, StatusEntry.state)
            .join(StatusEntry, StatusEntry.id == IssuedCredential.status_entry_id)
            .where(IssuedCredential.exchange_id == exchange_id)
            .order_by(IssuedCredential.created_at)
        ).all()
    return exchange.state, [tuple(row) for row in rows]


def test_an_invitation_nobody_scans_expires_and_its_index_is_abandoned(suite, issuer_url, db):
    exchange = person(issuer_url)
    ctx = issuer_of(suite)
    lifecycle.sweep(ctx, now=utcnow() + timedelta(hours=1))
    state, credentials = states(db, exchange["id"])
    assert state == "abandoned"
    assert credentials == [("abandoned", "abandoned")]
    with db() as session:
        assert "expired" in session.get(Exchange, exchange["id"]).reason
    gone = requests.get(exchange["invitation_url"], timeout=10)
    assert gone.status_code == 410 and gone.json()["type"].endswith("/invitation-expired")


def test_a_request_after_the_exchange_expired_is_never_signed(suite, issuer_url, hub, holder, db):
    exchange = person(issuer_url)
    [offer] = receive_offers(hub, holder, fetch_invitation(exchange["invitation_url"]), 1)
    lifecycle.sweep(issuer_of(suite), now=utcnow() + timedelta(hours=1))
    assert states(db, exchange["id"]) == ("abandoned", [("abandoned", "abandoned")])
    with pytest.raises((WebhookTimeout, ExchangeFailed)):
        holder.client.send_credential_request(offer["cred_ex_id"], holder_did=holder.did)
        offer_reached(hub, offer, "credential-received", timeout=3)
    assert states(db, exchange["id"]) == ("abandoned", [("abandoned", "abandoned")])
    assert stored_credentials(holder, [exchange["credentials"][0]["credential_id"]]) == []


def test_a_wallet_that_names_no_did_gets_nothing(issuer_url, hub, holder, db):
    """A person's Onboarding credential is bound to the wallet's DID; a request without one is
    refused before signing (the schema requires a subject DID)."""
    exchange = person(issuer_url)
    [offer] = receive_offers(hub, holder, fetch_invitation(exchange["invitation_url"]), 1)
    holder.client.send_credential_request(offer["cred_ex_id"])  # no holder_did
    eventually(lambda: states(db, exchange["id"])[0] == "abandoned")
    assert states(db, exchange["id"]) == ("abandoned", [("abandoned", "abandoned")])
    with db() as session:
        record = session.scalar(
            select(IssuedCredential).where(IssuedCredential.exchange_id == exchange["id"])
        )
    assert "holder DID" in record.reason
    assert stored_credentials(holder, [record.credential_id]) == []


def test_a_declined_offer_over_a_connection_ends_by_problem_report(
    tenant, issuer_url, settings, hub, db
):
    """Organisation onboarding travels over a connection: the holder takes the Onboarding
    credential and declines the Role one; the problem report ends that offer at once."""
    org = tenant("holder", "issuer-lifecycle-org")
    body = {
        "did": org.did,
        "legalName": "Orbis Analytics SA",
        "kcitRecordId": "kcit-0077",
        "legalRegistrationNumber": {"euid": "FRRCS.552100554"},
        "country": "FR",
        "roles": ["DataConsumer"],
    }
    exchange = requests.post(
        f"{issuer_url}/issuer/organisations",
        json=body,
        headers=operator_headers(settings, db),
        timeout=10,
    ).json()
    onboarding_offer, role_offer = sorted(
        receive_offers(hub, org, fetch_invitation(exchange["invitation_url"]), 2),
        key=lambda offer: offer["created_at"],
    )
    take_credential(hub, org, onboarding_offer, holder_did=None)
    began = time.monotonic()
    org.client.credential_problem_report(role_offer["cred_ex_id"], "we do not consume data")
    eventually(lambda: states(db, exchange["id"])[0] != "invited")
    assert time.monotonic() - began < 5
    state, credentials = states(db, exchange["id"])
    assert state == "done"
    assert sorted(credentials) == [("abandoned", "abandoned"), ("issued", "issued")]
    with db() as session:
        reasons = session.scalars(
            select(IssuedCredential.reason).where(
                IssuedCredential.exchange_id == exchange["id"],
                IssuedCredential.state == "abandoned",
            )
        ).all()
    assert "we do not consume data" in reasons[0]


def test_webhooks_missed_while_the_service_was_away_are_caught_up(
    suite, issuer_url, hub, holder, db
):
    """With its watcher stopped (a restart), the service misses the wallet's request; the
    sweeper asks the agent about quiet records and finishes the exchange."""
    app = suite.servers["issuer"].server.app
    ctx = issuer_of(suite)
    app.extensions["issuer.watcher"].stop()
    try:
        exchange = person(issuer_url, "Emil")
        [offer] = receive_offers(hub, holder, fetch_invitation(exchange["invitation_url"]), 1)
        holder.client.send_credential_request(offer["cred_ex_id"], holder_did=holder.did)
        time.sleep(0.5)
        assert states(db, exchange["id"]) == ("invited", [("offered", "reserved")])
        lifecycle.sweep(ctx, now=utcnow() + ctx.settings.reconcile_after)
        offer_reached(hub, offer, "credential-received", timeout=10)
        holder.client.store_credential(offer["cred_ex_id"])
        offer_reached(hub, offer, "done", timeout=10)
        assert states(db, exchange["id"]) == ("invited", [("issued", "issued")])
        time.sleep(0.3)  # the ack reaches the agent, which nobody listens to now
        lifecycle.sweep(ctx, now=utcnow() + 2 * ctx.settings.reconcile_after)
    finally:
        # Started again, as by a restart; stopped with the service when the suite stops (the
        # shutdown hook holds the stopped watcher), or it would sweep a dropped database.
        watcher = app.extensions["issuer.watcher"] = Watcher(ctx, suite.hub).start()
        on_shutdown(app, watcher.stop)
    assert states(db, exchange["id"]) == ("done", [("issued", "issued")])


def test_200_concurrent_issuances_get_200_distinct_indices_and_records(
    suite, issuer_url, settings, db, holder
):
    """8 clients issue 200 credentials at once through the VC-API (run on PostgreSQL in CI)."""
    headers = operator_headers(settings, db)
    authority = requests.get(f"{issuer_url}/issuer/did", timeout=10).json()["did"]
    before = ledger(db)

    def issue(i: int) -> dict:
        credential = {
            "@context": ["https://www.w3.org/2018/credentials/v1", "https://w3id.org/credgate/v1"],
            "type": ["VerifiableCredential", "RoleCredential"],
            "issuer": authority,
            "credentialSubject": {"id": holder.did, "roles": ["DataConsumer"]},
        }
        with requests.Session() as http:
            response = http.post(
                f"{issuer_url}/credentials/issue",
                json={"credential": credential},
                headers=headers | {"Idempotency-Key": f"concurrent-{i}-{before['records']}"},
                timeout=60,
            )
        assert response.status_code == 201, response.text
        return response.json()["verifiableCredential"]

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(issue, range(200)))
    entries = {
        (vc["credentialStatus"]["statusListCredential"], vc["credentialStatus"]["statusListIndex"])
        for vc in issued
    }
    assert len(entries) == 200
    assert len({vc["id"] for vc in issued}) == 200
    after = ledger(db)
    assert after["records"] == before["records"] + 200
    assert after["records:issued"] == before.get("records:issued", 0) + 200
    assert after["entries"] == before["entries"] + 200
    with db() as session:
        ids = [vc["id"] for vc in issued]
        recorded = session.scalar(
            select(func.count(IssuedCredential.id)).where(
                IssuedCredential.credential_id.in_(ids), IssuedCredential.state == "issued"
            )
        )
    assert recorded == 200


def test_the_holder_can_accept_an_exchange_over_a_connection_when_configured(
    suite, holder, hub, db
):
    """ISSUER_HANDSHAKE: single credentials over DID Exchange too (for wallets that want the
    issuer as a contact)."""
    ctx = issuer_of(suite)
    from dataclasses import replace

    from issuer.exchanges import describe_exchange, get_exchange
    from issuer.onboarding import onboard_person

    with_handshake = replace(ctx, settings=replace(ctx.settings, handshake=True))
    opened = onboard_person(with_handshake, {"givenName": "Farid", "familyName": "Haddad"})
    exchange, issued = get_exchange(ctx, opened.id)
    view = describe_exchange(exchange, issued, suite.servers["issuer"].url)
    assert exchange.handshake
    [vc] = accept_exchange(hub, holder, view)
    assert vc["credentialSubject"]["id"] == holder.did
    eventually(lambda: states(db, opened.id)[0] == "done")
