"""Revocation end to end, through the verifier service the gateway uses.

Credentials issued by the issuer service over DIDComm verify with ``verifier/`` (the suite's
verifier service, VC-API); after the revocation service revokes or suspends them, the verifier
reports it within one second — its status-list cache is invalidated by the change feed — and a
reinstated credential verifies again.
"""

from __future__ import annotations

import json

import pytest
import requests

from schemas.registry import example_credential
from tests.support.issuer_wallet import accept_exchange, operator_headers
from tests.support.waits import timed

pytestmark = [pytest.mark.agents, pytest.mark.db]

DEADLINE = 1.0


@pytest.fixture(scope="module")
def parties(suite, settings, db, tenant):
    urls = {name: server.url for name, server in suite.servers.items()}
    authority = requests.get(f"{urls['issuer']}/issuer/did", timeout=10).json()["did"]
    company = tenant("issuer", "realtime-company")
    holder = tenant("holder", "realtime-holder")
    # The operator's trust configuration (KCIT serves it once it exists): our authority, and the
    # company as an identified, active KCIT company.
    trust = settings.var_dir / "verifier" / "trust.json"
    trust.parent.mkdir(parents=True, exist_ok=True)
    trust.write_text(
        json.dumps({"onboarding_authority": authority, "companies": {company.did: "active"}})
    )
    return urls, authority, company, holder, operator_headers(settings, db)


def _offer(urls, operator, credential) -> dict:
    response = requests.post(
        f"{urls['issuer']}/issuer/offers",
        json={"credential": credential},
        headers=operator,
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _verify(urls, vc) -> dict:
    response = requests.post(
        f"{urls['verifier']}/credentials/verify", json={"verifiableCredential": vc}, timeout=10
    )
    body = response.json()
    assert (response.status_code == 200) == body["verified"], body
    return body


def _error_types(body: dict) -> set[str]:
    return {error["type"].rsplit("/", 1)[-1] for error in body["errors"]}


def _until(urls, vc, predicate) -> tuple[dict, float]:
    """The first verification ``predicate`` accepts and how long it took (it fails past three
    times the bound, so that a late answer says how late)."""
    elapsed, body = timed(lambda: _verify(urls, vc), 3 * DEADLINE, until=predicate)
    return body, elapsed


def _change(urls, operator, exchange, action: str) -> None:
    record = exchange["credentials"][0]
    detail = requests.get(
        f"{urls['issuer']}/issuer/credentials/{record['id']}", headers=operator, timeout=10
    ).json()
    entry = f"{urls['revocation']}/status/entries/{detail['status_entry_id']}/{action}"
    response = requests.post(entry, json={"reason": f"test {action}"}, headers=operator, timeout=10)
    assert response.status_code == 200, response.text


def test_revoked_onboarding_credential_is_refused_within_a_second(parties, hub):
    urls, authority, _company, holder, operator = parties
    credential = example_credential("OnboardingCredential")
    for key in ("id", "credentialStatus", "issuanceDate"):
        del credential[key]
    credential["issuer"] = authority
    credential["credentialSubject"]["id"] = holder.did
    exchange = _offer(urls, operator, credential)
    [vc] = accept_exchange(hub, holder, exchange, bind_did=False)
    assert vc["credentialStatus"]["statusPurpose"] == "revocation"
    assert _verify(urls, vc)["verified"] is True

    _change(urls, operator, exchange, "revoke")
    body, elapsed = _until(urls, vc, lambda b: not b["verified"])
    assert "revoked" in _error_types(body), body
    assert elapsed <= DEADLINE


def test_suspended_attorney_credential_is_refused_then_reinstated(parties, hub):
    urls, _authority, company, holder, operator = parties
    credential = example_credential("AttorneyCredential")
    for key in ("id", "credentialStatus", "issuanceDate"):
        del credential[key]
    credential["issuer"] = company.did
    credential["credentialSubject"]["mandator"]["id"] = company.did
    credential["credentialSubject"]["id"] = holder.did
    exchange = _offer(urls, operator, credential)
    [vc] = accept_exchange(hub, holder, exchange, bind_did=False)
    first = _verify(urls, vc)
    assert first["verified"] is True, first

    _change(urls, operator, exchange, "suspend")
    body, elapsed = _until(urls, vc, lambda b: not b["verified"])
    assert "suspended" in _error_types(body), body
    assert elapsed <= DEADLINE

    _change(urls, operator, exchange, "reinstate")
    body, elapsed = _until(urls, vc, lambda b: b["verified"])
    assert body["verified"] is True and elapsed <= DEADLINE
