"""KCIT's operator API as the tests drive it: the review actions on a registered company."""

from __future__ import annotations

from typing import Any

import requests

TIMEOUT = 10


def company_action(
    kcit_url: str, company_id: Any, action: str, operator: dict[str, str], **body: Any
) -> dict[str, Any]:
    """The operator's ``POST /kcit/admin/companies/<id>/<action>`` (approve, suspend,
    reinstate, ...) with ``body``; the company as KCIT answers, once it said 200."""
    response = requests.post(
        f"{kcit_url}/kcit/admin/companies/{company_id}/{action}",
        json=body,
        headers=operator,
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return response.json()
