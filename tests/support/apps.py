"""The catalogue, marketplace and compute apps behind a test gateway, for the apps' tests and the
compute sandbox's: the parties (an onboarding authority, a selling and a buying company, a
software certifier, and the people acting for them), their status lists, each person's bearer
grant (``env``), and certificates the certifier signs here (admission without the agents; the
real certifier workflow is tests/support/software.py's).

``status_server`` and ``env`` are fixtures: a test module imports them by name, beside an ``app``
fixture of its own (built with ``apps_gateway``) and the suite's ``client``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from apps.compute.executor import Limits
from credgate.tokens import ensure_operator_token
from tests.support.gateway import bearer, gateway_app, resign, token_for
from tests.support.problems import PROBLEMS
from verifier.testing import Party, StatusListServer, credgate_credential
from verifier.trust import StaticTrustRegistry

AUTHORITY = Party.generate()
COMPANY = Party.generate()
BUYER_CO = Party.generate()
CERTIFIER = Party.generate()
PROVIDER = Party.generate()  # a person with DataProvider (and ModelConsumer)
CONSUMER = Party.generate()
EMPLOYEE = Party.generate()  # acts for COMPANY
BUYER = Party.generate()  # acts for BUYER_CO
CLERK = Party.generate()  # acts for BUYER_CO, without the purchase power
_index = iter(range(1, 100_000))


@pytest.fixture(scope="module")
def status_server():
    server = StatusListServer().start()
    for party, name in (
        (AUTHORITY, "roles"),
        (COMPANY, "co"),
        (BUYER_CO, "buyer"),
        (CERTIFIER, "certs"),
    ):
        server.add_list(name, party, "suspension" if party is not AUTHORITY else "revocation")
    yield server
    server.stop()


def apps_gateway(settings, db, status_server, store: Path, limits: Limits, **config):
    """The gateway with the apps mounted from their entry points, trusting the parties above;
    compute keeps its flists in ``store`` and runs jobs within ``limits``."""
    trust = StaticTrustRegistry(
        onboarding_authority=AUTHORITY.did,
        companies={COMPANY.did: "active", BUYER_CO.did: "active"},
        accreditations={CERTIFIER.did: ["SoftwareCertificationCredential"]},
    )
    return gateway_app(
        settings,
        db,
        trust=trust,
        status_url=status_server.url,
        apps=None,
        COMPUTE_STORE=store,
        COMPUTE_LIMITS=limits,
        **config,
    )


@pytest.fixture(scope="module")
def env(app, client, status_server, settings, db):
    def role(holder, *roles, issuer=AUTHORITY):
        entry = status_server.entry("roles", next(_index))
        credential = credgate_credential("RoleCredential", issuer, holder.did, status=entry)
        return resign(issuer, credential, roles=list(roles)) if roles else credential

    def onboarding(holder):  # what makes a person a participant
        entry = status_server.entry("roles", next(_index))
        return credgate_credential("OnboardingCredential", AUTHORITY, holder.did, status=entry)

    def attorney(holder, company, list_name, powers):
        entry = status_server.entry(list_name, next(_index))
        credential = credgate_credential("AttorneyCredential", company, holder.did, status=entry)
        return resign(company, credential, powers=powers)

    operator = {"Authorization": f"Bearer {ensure_operator_token(settings, db)}"}
    for company, roles in ((COMPANY, ("DataProvider",)), (BUYER_CO, ("DataConsumer",))):
        registered = client.post(
            "/gateway/company-credentials",
            headers=operator,
            json={"verifiableCredential": role(company, *roles)},
        )
        assert registered.status_code == 201, registered.get_data(as_text=True)
    tokens = {
        "provider": token_for(client, PROVIDER, [onboarding(PROVIDER), role(PROVIDER)]),
        "consumer": token_for(
            client, CONSUMER, [onboarding(CONSUMER), role(CONSUMER, "DataConsumer")]
        ),
        "employee": token_for(
            client,
            EMPLOYEE,
            [
                attorney(
                    EMPLOYEE,
                    COMPANY,
                    "co",
                    [
                        {"app": "catalogue", "actions": ["read", "publish"]},
                        {"app": "marketplace", "actions": ["read", "sell"]},
                    ],
                )
            ],
        ),
        "buyer": token_for(
            client,
            BUYER,
            [
                attorney(
                    BUYER,
                    BUYER_CO,
                    "buyer",
                    [
                        {"app": "marketplace", "actions": ["read", "purchase"]},
                        {"app": "compute", "actions": ["run"]},
                    ],
                )
            ],
        ),
        "clerk": token_for(
            client,
            CLERK,
            [attorney(CLERK, BUYER_CO, "buyer", [{"app": "marketplace", "actions": ["read"]}])],
        ),
    }
    return {name: bearer(token) for name, token in tokens.items()}


def problem_type(response) -> str:
    assert response.mimetype == "application/problem+json", response.get_data(as_text=True)
    return response.get_json()["type"].removeprefix(PROBLEMS)


def certify(data: bytes, status_server, purposes=("anonymisation",), certifier=CERTIFIER):
    digest = "urn:sha256:" + hashlib.sha256(data).hexdigest()
    entry = status_server.entry("certs", next(_index)) if certifier is CERTIFIER else None
    credential = credgate_credential(
        "SoftwareCertificationCredential", certifier, digest, status=entry
    )
    return resign(
        certifier,
        credential,
        purposes=list(purposes),
        md5=hashlib.md5(data).hexdigest(),
        digestSRI="sha256-x",
    )


def upload(client, headers, data: bytes) -> str:
    response = client.post(
        "/apps/compute/api/flists", headers=headers, data=data, content_type="application/gzip"
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["digest"]
