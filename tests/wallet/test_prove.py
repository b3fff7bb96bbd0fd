"""``credgate wallet prove``: a presentation signed over an API's challenge (token API).

The gateway's token API end to end — ``/auth/challenge``, the wallet CLI signs, ``/auth/token``,
an app endpoint with the access token — and the problem documents for bad input. The credential
comes through the wallet from an offer link (tests/support/gateway_wallet.py); the
presentation itself is made by the wallet service alone.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import pytest
import requests

from credgate.errors import DomainError
from credgate.problem_types import PROBLEM_BASE as PROBLEMS
from credgate.tokens import ensure_operator_token
from tests.support.gateway_wallet import issue_through_wallet, wallet_tenant
from wallet.accounts import Account
from wallet.presentations import _select

READ = [{"app": "marketplace", "actions": ["read"]}]


@pytest.fixture(scope="module")
def run(wallet_cli):
    return wallet_cli


@pytest.fixture(scope="module")
def api(settings, db, suite):
    """POST to the wallet's JSON API with the operator token; the raw response."""
    headers = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    base = suite.servers["wallet"].url + "/wallet/api"
    return lambda path, body: requests.post(base + path, json=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def employee(suite, db, settings, run, tenant):
    """A wallet holding an Attorney credential (marketplace:read) from a company the gateway
    trusts; (wallet name, holder DID, record id)."""
    suffix = secrets.token_hex(3)
    company = tenant("issuer", f"prove-co-{suffix}")
    path = settings.var_dir / "verifier" / "trust.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    trust = json.loads(path.read_text()) if path.exists() else {}
    trust.setdefault("companies", {})[company.did] = "active"
    path.write_text(json.dumps(trust))
    name = f"prover-{suffix}"
    holder = wallet_tenant(db, suite, run, name)
    issued = issue_through_wallet(
        db,
        run,
        company,
        name,
        holder,
        "AttorneyCredential",
        suite.servers["revocation"].url,
        powers=READ,
    )
    code, out = run("credentials", "-w", name, "--json")
    (record,) = [c for c in json.loads(out) if c["id"] == issued.credential["id"]]
    return name, holder.did, record["record_id"]


@pytest.mark.agents
@pytest.mark.db
def test_access_token_from_a_presentation_the_wallet_signs(suite, run, employee):
    name, did, record = employee
    gateway = suite.servers["verifier"].url
    issued = requests.post(f"{gateway}/auth/challenge", timeout=10).json()
    code, out = run(
        "prove",
        "-w",
        name,
        "--challenge",
        issued["challenge"],
        "--domain",
        issued["domain"],
        "--use",
        record,
    )
    assert code == 0, out
    presentation = json.loads(out)
    assert presentation["holder"] == did
    assert presentation["proof"]["challenge"] == issued["challenge"]
    assert presentation["proof"]["domain"] == issued["domain"]
    response = requests.post(f"{gateway}/auth/token", json=presentation, timeout=10)
    assert response.status_code == 200, response.text
    headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
    history = requests.get(f"{gateway}/apps/marketplace/api/history", headers=headers, timeout=10)
    assert history.status_code == 200, history.text
    # The challenge is used up: the same presentation gets no second token.
    again = requests.post(f"{gateway}/auth/token", json=presentation, timeout=10)
    assert again.status_code >= 400, again.text

    code, out = run("history", "-w", name, "--json")
    (entry,) = [i for i in json.loads(out) if i["kind"] == "presentation"]
    assert entry["state"] == "done" and entry["counterparty"] == issued["domain"]
    assert entry["outcome"] == {"presented": [record]}


@pytest.mark.agents
@pytest.mark.db
def test_bad_input_gets_problem_documents(run, api, employee):
    name, _did, record = employee
    missing = api(f"/wallets/{name}/prove", {"credentials": [record]})
    assert missing.status_code == 400, missing.text
    assert missing.headers["Content-Type"] == "application/problem+json"
    assert missing.json()["type"] == PROBLEMS + "invalid-request"
    assert "challenge" in missing.json()["detail"]

    unknown = api(f"/wallets/{name}/prove", {"challenge": "c-1", "credentials": ["no-such-id"]})
    assert unknown.status_code == 404, unknown.text
    assert unknown.headers["Content-Type"] == "application/problem+json"
    assert unknown.json()["type"] == PROBLEMS + "credential-not-found"
    assert "no-such-id" in unknown.json()["detail"]

    code, out = run("prove", "-w", name, "--challenge", "c-2", "--use", "no-such-id")
    assert code == 1 and "Credential not found" in out and "no-such-id" in out, out
    code, out = run("prove", "-w", name)  # no challenge: click's usage error
    assert code == 2 and "--challenge" in out, out


def test_credentials_about_someone_else_are_refused():
    me = Account(1, "me", "did:key:z6Mkme", "w1", datetime.now(UTC), False)

    def record(record_id: str, subject: str) -> dict:
        return {
            "record_id": record_id,
            "cred_value": {"id": f"urn:{record_id}", "credentialSubject": {"id": subject}},
        }

    records = [record("a", me.did), record("b", "did:key:z6Mkother"), record("c", me.did)]
    assert [r["record_id"] for r in _select(me, records, [])] == ["a", "c"]
    assert [r["record_id"] for r in _select(me, records, ["urn:c", "a"])] == ["c", "a"]
    with pytest.raises(DomainError) as mixed:
        _select(me, records, ["a", "b"])
    assert mixed.value.slug == "subject-mismatch" and "different subject" in mixed.value.detail
    with pytest.raises(DomainError) as foreign:
        _select(me, records, ["b"])
    assert foreign.value.slug == "subject-mismatch" and "did:key:z6Mkother" in foreign.value.detail
