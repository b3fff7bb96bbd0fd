"""What the certified-software tests share, all through the suite's HTTP APIs: certifiers
registered at the issuer and accredited in KCIT, flists certified by them, and a participant
whose Onboarding and Role credentials the onboarding authority signs (VC-API) and who gets an
access token from the suite's gateway the way a machine client does."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass
from typing import Any

import requests

from tests.support.issuer_wallet import operator_headers
from tests.support.vc_api import unsigned_example
from tests.support.waits import timed
from verifier.testing import Party

TIMEOUT = 30
CERTIFICATION = "SoftwareCertificationCredential"


def created(response: requests.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return response.json()


def urls(suite) -> dict[str, str]:
    return {name: server.url for name, server in suite.servers.items()}


def accredit(suite, operator: dict[str, str], did: str, *, active: bool = True) -> None:
    """KCIT (the one accreditation source) accredits ``did`` as a certifier, or withdraws it."""
    body: dict[str, Any] = {"did": did, "credentialType": CERTIFICATION, "active": active}
    if not active:
        body["reason"] = "accreditation withdrawn in a test"
    response = requests.post(
        f"{urls(suite)['kcit']}/kcit/admin/accreditations",
        json=body,
        headers=operator,
        timeout=TIMEOUT,
    )
    assert response.status_code in (200, 201), response.text


def register_certifier(
    suite, operator: dict[str, str], name: str, *, accredited: bool = True
) -> dict[str, Any]:
    """A certifier at the issuer (its tenant, DID and token), accredited in KCIT unless not."""
    certifier = created(
        requests.post(
            f"{urls(suite)['issuer']}/issuer/certifiers",
            json={"name": name},
            headers=operator,
            timeout=TIMEOUT,
        )
    )
    if accredited:
        accredit(suite, operator, certifier["did"])
    certifier["auth"] = {"Authorization": f"Bearer {certifier['token']}"}
    return certifier


def flist(script: str, manifest: dict | None = None) -> bytes:
    """A flist archive: a manifest (by default, run ``main.py``) and ``main.py``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in (
            ("flist.json", json.dumps(manifest or {"entrypoint": ["python3", "main.py"]})),
            ("main.py", script),
        ):
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def digest_of(data: bytes) -> str:
    return "urn:sha256:" + hashlib.sha256(data).hexdigest()


def certify(
    suite,
    certifier: dict[str, Any],
    data: bytes,
    *,
    purposes=("anonymisation",),
    name: str = "phase4-anonymiser",
) -> requests.Response:
    """The certifier uploads the flist to the issuer and certifies it."""
    body = {
        "name": name,
        "version": "1.0.0",
        "purposes": ",".join(purposes),
        "statement": "Reviewed source and build.",
    }
    return requests.post(
        f"{urls(suite)['issuer']}/issuer/certifications",
        data=body,
        files={"flist": ("app.flist", data, "application/gzip")},
        headers=certifier["auth"],
        timeout=TIMEOUT,
    )


def revoke_certification(
    issuer_url: str, certification_id: str, auth: dict[str, str], reason: str
) -> requests.Response:
    """The certifier revokes one of its certifications; the issuer's answer."""
    return requests.post(
        f"{issuer_url}/issuer/certifications/{certification_id}/revoke",
        json={"reason": reason},
        headers=auth,
        timeout=TIMEOUT,
    )


@dataclass
class Participant:
    """A holder with a did:key and Onboarding and Role credentials from the authority."""

    party: Party
    credentials: list[dict[str, Any]]

    def token(self, gateway_url: str) -> dict[str, str]:
        challenge = requests.post(f"{gateway_url}/auth/challenge", timeout=TIMEOUT)
        assert challenge.status_code == 200, challenge.text
        issued = challenge.json()
        vp = self.party.present(
            self.credentials, challenge=issued["challenge"], domain=issued["domain"]
        )
        response = requests.post(
            f"{gateway_url}/auth/token", json={"verifiablePresentation": vp}, timeout=TIMEOUT
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def participant(suite, settings, db, roles: list[str]) -> Participant:
    """A person onboarded with ``roles`` by the suite's onboarding authority (VC-API)."""
    issuer_url = urls(suite)["issuer"]
    operator = operator_headers(settings, db)
    authority = requests.get(f"{issuer_url}/issuer/did", timeout=TIMEOUT).json()["did"]
    party = Party.generate()
    signed = []
    for name, claims in (("OnboardingCredential", {}), ("RoleCredential", {"roles": roles})):
        credential = unsigned_example(name, authority, party.did)
        credential["credentialSubject"].update(claims)
        body = {"credential": credential}
        signed.append(
            created(
                requests.post(
                    f"{issuer_url}/credentials/issue", json=body, headers=operator, timeout=TIMEOUT
                )
            )["verifiableCredential"]
        )
    return Participant(party, signed)


def run_job(
    gateway_url: str,
    headers: dict[str, str],
    digest: str,
    purpose: str = "anonymisation",
    **extra: Any,
) -> requests.Response:
    body = {"flist": digest, "dataset": "s3://hospital/cohort-7", "purpose": purpose, **extra}
    return requests.post(
        f"{gateway_url}/apps/compute/api/jobs", json=body, headers=headers, timeout=TIMEOUT
    )


def upload(gateway_url: str, headers: dict[str, str], data: bytes) -> str:
    response = requests.post(
        f"{gateway_url}/apps/compute/api/flists",
        data=data,
        headers={**headers, "Content-Type": "application/gzip"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 201, response.text
    return response.json()["digest"]


def finished(gateway_url: str, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    response = requests.get(
        f"{gateway_url}/apps/compute/api/jobs/{job_id}?wait=20", headers=headers, timeout=TIMEOUT
    )
    job = response.json()
    assert job["state"] in ("succeeded", "failed"), job
    return job


def refused_within(seconds: float, attempt) -> tuple[requests.Response, float]:
    """Call ``attempt`` until it answers 403, for at most ``seconds``; that answer and how long
    it took."""
    elapsed, response = timed(
        attempt, seconds, interval=0.05, until=lambda response: response.status_code == 403
    )
    return response, elapsed
