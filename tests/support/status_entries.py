"""The revocation service's status entries over its HTTP API, as the operator does it: the entries
of a credential, and revoking one."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 10


def entries_of(revocation_url: str, credential_id: str, operator: dict[str, str]) -> list[dict]:
    """The status entries the revocation service holds for ``credential_id``."""
    return requests.get(
        f"{revocation_url}/status/entries",
        params={"credential_id": credential_id},
        headers=operator,
        timeout=TIMEOUT,
    ).json()["entries"]


def revoke_entry(
    revocation_url: str, entry_id: Any, operator: dict[str, str], reason: str = "test"
) -> requests.Response:
    """Revoke one status entry; the service's answer, once it said 200."""
    revoked = requests.post(
        f"{revocation_url}/status/entries/{entry_id}/revoke",
        json={"reason": reason},
        headers=operator,
        timeout=TIMEOUT,
    )
    assert revoked.status_code == 200, revoked.text
    return revoked
