"""The suite's VC-API as a client calls it: ``POST /credentials/issue`` (on the default instance or
by ``?cryptosuite=``) and ``POST /credentials/verify``, and the credentials the tests have it
issue: our families' examples, unsigned; and for conformance, VCDM 2.0 with the W3C examples'
vocabulary, VCDM 1.1 with the base context's terms only."""

from __future__ import annotations

from typing import Any

import requests

from schemas.registry import example_credential

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"
DI_V2 = "https://w3id.org/security/data-integrity/v2"


def issue(
    issuer_url: str,
    operator: dict[str, str],
    credential: dict[str, Any],
    options: dict[str, Any] | None = None,
    *,
    cryptosuite: str | None = None,
) -> requests.Response:
    """The issuer's answer to ``credential`` (with ``options`` if given), on the instance of
    ``cryptosuite`` or the default one."""
    body: dict[str, Any] = {"credential": credential}
    if options is not None:
        body["options"] = options
    query = f"?cryptosuite={cryptosuite}" if cryptosuite else ""
    return requests.post(
        f"{issuer_url}/credentials/issue{query}", json=body, headers=operator, timeout=60
    )


def issued(response: requests.Response) -> dict[str, Any]:
    """The signed credential of an issue that answered 201."""
    assert response.status_code == 201, response.text
    return response.json()["verifiableCredential"]


def assert_verifies(verifier_url: str, credential: dict[str, Any]) -> None:
    """Our verifier's VC-API verifies ``credential``."""
    response = requests.post(
        f"{verifier_url}/credentials/verify", json={"verifiableCredential": credential}, timeout=30
    )
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True


def example_v2(issuer: str | dict[str, Any], subject_did: str, /, **members: Any) -> dict[str, Any]:
    """A VCDM 2.0 alumni credential (the W3C examples' vocabulary); ``members`` (``issuer``
    among them) replace its own."""
    return {
        "@context": [V2, EXAMPLES],
        "type": ["VerifiableCredential", "ExampleAlumniCredential"],
        "issuer": issuer,
        "credentialSubject": {"id": subject_did, "alumniOf": "The School of Examples"},
        **members,
    }


def example_v11(issuer_did: str, subject_did: str, /, **members: Any) -> dict[str, Any]:
    """A VCDM 1.1 credential with nothing but the base context's terms; ``members`` replace its
    own."""
    return {
        "@context": [V1],
        "type": ["VerifiableCredential"],
        "issuer": issuer_did,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "credentialSubject": {"id": subject_did},
        **members,
    }


def unsigned_example(
    family: str, issuer_did: str, subject_did: str | None = None
) -> dict[str, Any]:
    """Our example ``family`` credential (schemas/) from ``issuer_did``, to ``subject_did`` if
    given, for an issuer to sign: its id and status entry are the issuer's to add."""
    credential = example_credential(family)
    for key in ("id", "credentialStatus"):
        del credential[key]
    credential["issuer"] = issuer_did
    if subject_did is not None:
        credential["credentialSubject"]["id"] = subject_did
    return credential
