"""The CLI's way to the running wallet service: its JSON API, with the operator's token.

The service's URL comes from ``--url``/``CREDGATE_WALLET_URL`` or from the running suite's
state file; the token from ``CREDGATE_TOKEN`` or the secrets directory (read, never created:
a token made up here would not be in the database).
"""

from __future__ import annotations

import os
from typing import Any

import requests

from credgate.config import Settings
from credgate.problems import PROBLEM_BASE
from credgate.state import read_state

CONNECT_TIMEOUT = 3.0
# Longer than any wait of the service (scan, accept, present), so the service answers first.
READ_TIMEOUT = 90.0


class WalletAPIError(Exception):
    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.slug = str(problem.get("type", "")).removeprefix(PROBLEM_BASE)
        self.title = str(problem.get("title") or f"HTTP {status}")
        self.detail = problem.get("detail")
        super().__init__(f"{self.title}: {self.detail}" if self.detail else self.title)


class WalletAPI:
    def __init__(self, url: str, token: str, *, session: requests.Session | None = None) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._session = session or requests.Session()

    @classmethod
    def locate(cls, settings: Settings, url: str | None, token: str | None) -> WalletAPI:
        url = url or os.environ.get("CREDGATE_WALLET_URL")
        if not url:
            state = read_state(settings) or {}
            url = state.get("services", {}).get("wallet")
        if not url:
            raise WalletAPIError(
                0,
                {
                    "title": "The wallet service is not running",
                    "detail": "start the suite with `credgate up`, or give --url",
                },
            )
        token = token or os.environ.get("CREDGATE_TOKEN")
        if not token:
            try:
                token = (settings.secrets_dir / "operator-token").read_text().strip()
            except OSError:
                raise WalletAPIError(
                    0,
                    {
                        "title": "No operator token",
                        "detail": "start the suite once (`credgate up`) or set CREDGATE_TOKEN",
                    },
                ) from None
        return cls(url, token)

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        try:
            response = self._session.request(
                method,
                f"{self.url}/wallet/api{path}",
                json=json,
                params=params,
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
            )
        except requests.RequestException as exc:
            raise WalletAPIError(
                0,
                {
                    "title": "The wallet service does not answer",
                    "detail": f"{self.url}: {type(exc).__name__}; is `credgate up` running?",
                },
            ) from None
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {}
            raise WalletAPIError(response.status_code, problem if isinstance(problem, dict) else {})
        return response.json() if response.content else None
