"""Bad input to every JSON endpoint of every service: never a 5xx, never a slow answer.

The routes come from each app's own ``url_map`` (every POST/PUT/PATCH/DELETE rule), so a new route
is driven without being named here. Each gets a corpus of hostile bodies (deep nesting, lone
surrogates, NUL, huge strings, wrong types per field, oversized bodies with and without
``Content-Length``, bytes that are not UTF-8, empty and non-JSON bodies) and hypothesis-generated
values per field. The services run on real loopback servers over the session's database, with the
operator token, and with no agent: their agent URL is a closed port, so a route that needs one may
answer 503 (with ``Retry-After``), never 500.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import secrets
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import select
from stdnum.iso7064 import mod_97_10

from credgate.bodies import MAX_STRING
from credgate.serving import bind
from credgate.tokens import ensure_operator_token
from credgate.web import shutdown
from suite.services import SERVICES, app_factory

pytestmark = [pytest.mark.db, pytest.mark.slow]  # every route, with every corpus body

SLOW = 2.0  # seconds: no answer may take longer
BIG = 20 * 1024 * 1024
NO_AGENT = "http://127.0.0.1:9"  # discard port: nothing listens

#: A plausible body per route (rule as the url_map spells it); fields are mutated one by one.
#: Routes not listed get GENERIC, so a new route is still driven.
EXAMPLES: dict[str, dict[str, Any]] = {
    "/issuer/onboarding/persons": {"givenName": "Alice", "familyName": "Martin", "country": "fr"},
    "/issuer/organisations": {"legalName": "Acme", "did": "did:key:z6Mkf", "country": "FR"},
    "/issuer/offers": {"credential": {"type": ["VerifiableCredential"]}, "holderDid": "did:key:z"},
    "/credentials/issue": {"credential": {"type": ["VerifiableCredential"]}, "options": {}},
    "/issuer/role-requests": {"did": "did:key:z6Mkf", "roles": ["DataProvider"], "note": "hi"},
    "/issuer/role-requests/<request_id>/reject": {"reason": "no"},
    "/issuer/certifiers": {"name": "cert"},
    "/issuer/certifications": {"flistUrl": "http://127.0.0.1:9/a.flist", "purpose": "x"},
    "/issuer/certifications/<certification_id>/revoke": {"reason": "bad"},
    "/status/entries/<entry_id>/<action>": {"reason": "lost"},
    "/kcit/registrations": {
        "legalName": "Pages Nordic Data Oy",
        "legalRegistrationNumber": {"vatId": "FR40303265045"},
        "country": "FR",
        "did": "did:key:z6Mkf",
        "contactEmail": "a@b.example",
    },
    "/kcit/admin/companies": {
        "legalName": "Acme",
        "legalRegistrationNumber": {"vatId": "FR40303265045"},
        "country": "FR",
        "representatives": [{"name": "Ann", "email": "ann@acme.example"}],
    },
    "/kcit/admin/companies/<company_id>": {"legalName": "Acme", "version": 1},
    "/kcit/admin/companies/<company_id>/<action>": {"reason": "r", "did": "did:key:z6Mkf"},
    "/kcit/admin/companies/<company_id>/powers": {"powers": ["compute:run"], "reason": "r"},
    "/kcit/admin/accreditations": {
        "did": "did:key:z6Mkf",
        "credentialType": "SoftwareCertificate",
        "active": True,
        "reason": "r",
    },
    "/depute/api/login": {"presentation": {"type": ["VerifiablePresentation"]}},
    "/depute/api/companies/<company_id>/authorisations": {
        "name": "Eve",
        "email": "eve@helix.example",
        "powers": ["compute:run"],
    },
    "/depute/api/companies/<company_id>/authorisations/<authorisation_id>/<action>": {
        "reason": "r",
    },
    "/wallet/api/wallets": {"name": "fuzz", "pin": "2468"},
    "/wallet/api/wallets/<name>/pin": {"pin": "1357"},
    "/wallet/api/wallets/<name>/scan": {"text": "http://127.0.0.1:9/i/x", "wait": 1},
    "/wallet/api/wallets/<name>/interactions/<interaction_id>/accept": {"trust_issuer": True},
    "/wallet/api/wallets/<name>/interactions/<interaction_id>/decline": {"reason": "no"},
    "/wallet/api/wallets/<name>/interactions/<interaction_id>/present": {"credentials": ["a"]},
    "/wallet/api/wallets/<name>/prove": {"challenge": "c", "domain": "d", "credentials": []},
    "/wallet/api/wallets/<name>/import": {"credentials": [{"id": "urn:x"}]},
    "/credentials/verify": {"verifiableCredential": {"type": ["VerifiableCredential"]}},
    "/presentations/verify": {
        "verifiablePresentation": {"type": ["VerifiablePresentation"]},
        "options": {"challenge": "c", "domain": "d"},
    },
    "/challenges": {"domain": "gateway.example"},
    "/auth/token": {"verifiablePresentation": {"type": ["VerifiablePresentation"]}},
    "/connect/token": {"code": "c", "code_verifier": "v", "redirect_uri": "http://x"},
    "/apps/catalogue/api/items": {"title": "t", "description": "d"},
    "/apps/marketplace/api/offers": {"title": "t", "price": 1},
    "/apps/compute/api/jobs": {"flist": "urn:sha256:00", "dataset": "d"},
}
GENERIC = {"name": "x", "reason": "r", "did": "did:key:z6Mkf", "value": 1}

WRONG_TYPES: list[Any] = [[], {}, True, None, 0, -1, 1.5, 2**70, "", [[]], {"a": {}}]


def _deep(n: int) -> bytes:
    return b"[" * n + b"]" * n


def _nested_value(n: int) -> Any:
    value: Any = "x"
    for _ in range(n):
        value = {"a": value}
    return value


def corpus(example: dict[str, Any]) -> Iterator[tuple[str, bytes, dict[str, str]]]:
    """(class, body, extra headers): whole-body cases, then each field replaced in turn."""
    as_json = {"Content-Type": "application/json"}
    yield "deep-100k", _deep(100_000), as_json
    yield "deep-100k-object", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, as_json
    yield "invalid-utf8", b'{"a": "\xff\xfe"}', as_json
    yield "empty", b"", as_json
    yield "not-json", b"{'a': 1", as_json
    yield "nan", b'{"a": NaN}', as_json
    yield "text-plain", json.dumps(example).encode(), {"Content-Type": "text/plain"}
    yield "form", b"a=1&b=2", {"Content-Type": "application/x-www-form-urlencoded"}
    yield "top-level-array", b"[1, 2]", as_json
    yield "top-level-string", b'"x"', as_json
    yield "top-level-null", b"null", as_json
    for field in example:

        def put(value: Any, field: str = field) -> bytes:
            return json.dumps({**example, field: value}).encode()

        yield "deep-900-field", put(_nested_value(900)), as_json
        yield "lone-surrogate", put("a\ud800b"), as_json
        yield "nul", put("a\x00b"), as_json
        yield "long-100k", put("x" * 100_000), as_json
        yield "long-300", put("x" * 300), as_json
        # the longest string the parser lets through: longer than any column
        yield "long-64k", put("x" * MAX_STRING), as_json
        for wrong in WRONG_TYPES:
            yield f"type-{type(wrong).__name__}", put(wrong), as_json


# -- the services ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(settings, db) -> Iterator[dict[str, Any]]:
    bound = {name: bind() for name in SERVICES}  # bound first: each app knows the others' URLs
    config = {
        "CREDGATE_SETTINGS": settings,
        "DB_SESSION_FACTORY": db,
        "SERVICE_URLS": {name: server.url for name, server in bound.items()},
        "AGENT_URL": NO_AGENT,
        "AGENT_API_KEY": "unused",
        "SECRET_KEY": "fuzz",
    }
    running = {}
    try:
        for name, server in bound.items():
            app = app_factory(name)(dict(config))
            running[name] = (app, server.start(app))
        yield running
    finally:
        for server in bound.values():
            server.stop()
        for app, _server in running.values():
            shutdown(app)  # their background threads (depute's provisioner) end before the database


@pytest.fixture(scope="module")
def operator(settings, db) -> str:
    return f"Bearer {ensure_operator_token(settings, db)}"


#: The certifier's API token (a row the fixture makes) for its routes; the operator's elsewhere.
CERTIFIER_TOKEN = f"Bearer {secrets.token_urlsafe(32)}"

#: Path variables that name something the fixtures made, so the body is read past the lookup.
KNOWN: dict[str, str] = {"name": "fuzz"}


def _path(rule) -> str:
    """The rule with each variable filled in (an int where the converter wants one)."""

    def fill(match: re.Match) -> str:
        converter, variable = match.group(1), match.group(2)
        if converter in ("int", "float"):
            return "1"
        return KNOWN.get(variable, "fuzz")

    return re.sub(r"<(?:(\w+):)?(\w+)>", fill, rule.rule)


def routes(servers) -> list[tuple[str, str, str, str]]:
    """(service, method, rule, path) for every rule that takes a body, from the apps' url_maps."""
    found = []
    for name, (app, _server) in servers.items():
        for rule in app.url_map.iter_rules():
            for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
                found.append((name, method, rule.rule, _path(rule)))
    return found


@pytest.fixture(scope="module", autouse=True)
def known(servers, operator, db) -> None:
    """A wallet and a certifier (rows: no agent is needed to reach their routes), a KCIT company."""
    from issuer.models import Certifier
    from wallet.models import WalletUser

    token = CERTIFIER_TOKEN.removeprefix("Bearer ")
    with db.begin() as session:
        session.add(
            Certifier(
                name=f"fuzz-{secrets.token_hex(4)}",
                tenant="fuzz",
                did=f"did:key:z6Mkfuzz{secrets.token_hex(8)}",
                token_hash=hashlib.sha256(token.encode()).hexdigest(),
            )
        )
        if session.scalar(select(WalletUser).where(WalletUser.name == "fuzz")) is None:
            session.add(
                WalletUser(
                    name="fuzz",
                    tenant="wallet:fuzz",
                    wallet_id="fuzz-wallet",
                    did="did:key:z6MkfuzzFuzz",
                )
            )
    base = f"FUZZ00{secrets.randbelow(10**12):012d}"  # an LEI of its own: no clash with others
    company = {
        **EXAMPLES["/kcit/admin/companies"],
        "legalRegistrationNumber": {"lei": base + mod_97_10.calc_check_digits(base)},
    }
    kcit = servers["kcit"][1].url
    created = requests.post(
        f"{kcit}/kcit/admin/companies",
        headers={"Authorization": operator},
        json=company,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    KNOWN["company_id"] = created.json()["id"]


class Client:
    """One keep-alive connection per server; every answer is timed and classed."""

    def __init__(self, servers, operator: str) -> None:
        self.ports = {name: server.port for name, (_app, server) in servers.items()}
        self.operator = operator
        self.connections: dict[str, http.client.HTTPConnection] = {}
        self.classes: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.failures: list[str] = []
        self.requests = 0

    def _connection(self, service: str) -> http.client.HTTPConnection:
        if service not in self.connections:
            self.connections[service] = http.client.HTTPConnection(
                "127.0.0.1", self.ports[service], timeout=30
            )
        return self.connections[service]

    def send(self, service, method, path, case, body, headers, *, chunked=False) -> int:
        token = CERTIFIER_TOKEN if path.startswith("/issuer/certifications") else self.operator
        headers = {"Authorization": token, **headers}
        conn = self._connection(service)
        started = time.monotonic()
        try:
            if chunked:
                conn.request(method, path, body=_chunks(body), headers=headers, encode_chunked=True)
            else:
                conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            payload = response.read()
            status = response.status
            retry_after = response.getheader("Retry-After")
            if response.will_close:
                self._drop(service)
        except (ConnectionError, http.client.HTTPException) as exc:
            self._drop(service)
            status, payload, retry_after = 0, repr(exc).encode(), None
        elapsed = time.monotonic() - started
        self.requests += 1
        self.classes[case] += 1
        self.statuses[status] += 1
        where = f"{method} {path} [{case}]"
        if status == 0 or status >= 500 and not (status == 503 and retry_after):
            self.failures.append(f"{where}: {status} {payload[:300]!r}")
        if elapsed > SLOW:
            self.failures.append(f"{where}: {elapsed:.2f}s")
        return status

    def _drop(self, service: str) -> None:
        conn = self.connections.pop(service, None)
        if conn is not None:
            conn.close()

    def close(self) -> None:
        for service in list(self.connections):
            self._drop(service)


def _chunks(body: bytes, size: int = 1024 * 1024) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture(scope="module")
def client(servers, operator) -> Iterator[Client]:
    client = Client(servers, operator)
    yield client
    client.close()
    print(
        f"\nfuzz: {client.requests} requests, {len(client.classes)} classes, statuses "
        f"{dict(sorted(client.statuses.items()))}"
    )


def _example(rule: str) -> dict[str, Any]:
    return EXAMPLES.get(rule, GENERIC)


def test_corpus_gets_no_5xx_and_no_slow_answer(servers, client):
    for service, method, rule, path in routes(servers):
        for case, body, headers in corpus(_example(rule)):
            client.send(service, method, path, case, body, headers)
    assert not client.failures, "\n".join(client.failures[:40])


def test_oversized_bodies_are_413_chunked_or_not(servers, client):
    """Every route that reads a JSON body (a text/plain body gets 415) refuses 20 MB with a 413."""
    big = b'{"a": "' + b"x" * BIG + b'"}'
    as_json = {"Content-Type": "application/json"}
    readers = []
    for service, method, rule, path in routes(servers):
        plain = json.dumps(_example(rule)).encode()
        probe = client.send(service, method, path, "probe", plain, {"Content-Type": "text/plain"})
        if probe == 415:
            readers.append((service, method, rule, path))
        sized = client.send(service, method, path, "oversized-20mb", big, as_json)
        chunked = client.send(
            service, method, path, "oversized-20mb-chunked", big, as_json, chunked=True
        )
        if (service, method, rule, path) in readers:
            assert (sized, chunked) == (413, 413), f"{method} {path}: {sized}, {chunked}"
    assert len(readers) >= 20, readers  # most JSON endpoints are reached past their auth
    assert not client.failures, "\n".join(client.failures[:40])


def test_an_oversized_upload_to_the_certifier_is_a_413(client):
    """Its own limit (the flist's) is refused by its own handler: a problem, not an error inside
    an error handler."""
    boundary = "fuzzboundary"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="flist"; filename="a"\r\n'
            f"Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + b"x" * BIG
        + (f"\r\n--{boundary}--\r\n").encode()
    )
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    for chunked in (False, True):
        status = client.send(
            "issuer",
            "POST",
            "/issuer/certifications",
            "oversized-upload",
            body,
            headers,
            chunked=chunked,
        )
        assert status == 413
    assert not client.failures, "\n".join(client.failures[:40])


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(st.characters(codec=None, exclude_categories=()), max_size=40),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def test_generated_field_values_get_no_5xx(servers, client):
    targets = [(s, m, r, p) for s, m, r, p in routes(servers) if r in EXAMPLES]

    @hsettings(
        max_examples=12,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def drive(data):
        for service, method, rule, path in targets:
            example = EXAMPLES[rule]
            field = data.draw(st.sampled_from(sorted(example)))
            value = data.draw(JSON_VALUES)
            body = json.dumps({**example, field: value}).encode()
            client.send(
                service, method, path, "generated", body, {"Content-Type": "application/json"}
            )

    drive()
    assert not client.failures, "\n".join(client.failures[:40])
