"""The holder agent acting as one wallet user (their tenant), and bounded waits on its records.

ACA-Py keeps only the newest token of a tenant valid; tokens are shared per process
(:func:`agents.tenants.tenant_token`), and a token the agent refuses is replaced once. Agent
failures become problem documents, so callers never see a raw admin-API error.

Waits use the webhook hub when the service has one (the suite's, in-process), and poll the
agent's record otherwise (a wallet service run on its own); both end at a deadline.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from agents.client import AdminClient, AgentError, AgentUnavailable
from agents.hub import ExchangeFailed, WebhookHub, WebhookTimeout
from agents.tenants import tenant_token
from credgate.errors import DomainError
from credgate.problem_types import ProblemType

T = TypeVar("T")

POLL_INTERVAL = 0.1
FAILED_STATES = frozenset({"abandoned", "deleted"})


def agent_failure(exc: AgentError) -> DomainError:
    """What the wallet says when the holder agent fails: away (try again shortly) or refused."""
    if isinstance(exc, AgentUnavailable):
        detail = "the holder agent does not answer; try again in a moment"
        return DomainError(
            ProblemType.AGENT_UNAVAILABLE, detail, title="Wallet agent unavailable", retry_after=2
        )
    return DomainError(ProblemType.AGENT_REFUSED, exc.message[:500])


class Holder:
    def __init__(self, agent: AdminClient, wallet_id: str, hub: WebhookHub | None) -> None:
        self.agent = agent
        self.wallet_id = wallet_id
        self.hub = hub

    # -- calls as the tenant ----------------------------------------------------------------

    def call(self, operation: Callable[[AdminClient], T]) -> T:
        """Run ``operation`` with this tenant's client; agent errors become problems."""
        try:
            token = tenant_token(self.agent, self.wallet_id)
            try:
                return operation(self.agent.for_tenant(token))
            except AgentError as exc:
                if exc.status != 401:
                    raise
            # Another process took a newer token for this tenant: take a fresh one, once.
            token = tenant_token(self.agent, self.wallet_id, stale=token)
            return operation(self.agent.for_tenant(token))
        except AgentError as exc:
            raise agent_failure(exc) from exc

    # -- waiting ----------------------------------------------------------------------------

    def mark(self) -> int:
        """A point in the webhook stream: later waits see only what happens after it."""
        return self.hub.last_seq if self.hub is not None else 0

    def wait_for_record(
        self,
        topic: str,
        id_field: str,
        record_id: str,
        states: set[str],
        *,
        timeout: float,
        thread_id: str | None = None,
        since: int = 0,
    ) -> None:
        """Until the record reaches one of ``states``; a problem if it fails or time runs out."""
        deadline = time.monotonic() + timeout
        fetch = self._fetcher(topic, record_id)
        try:
            if self.hub is not None:
                try:
                    self.hub.wait_for_state(
                        topic,
                        id_field,
                        record_id,
                        states,
                        timeout=timeout,
                        thread_id=thread_id,
                        since=since,
                    )
                    return
                except WebhookTimeout:
                    pass  # the webhook may have come before `since`: ask the agent itself
            while True:
                state, error = fetch()
                if state in states:
                    return
                if state in FAILED_STATES:
                    raise _failed(error or f"the exchange was {state}")
                if time.monotonic() >= deadline:
                    raise _timeout(timeout)
                time.sleep(POLL_INTERVAL)
        except ExchangeFailed as exc:
            raise _failed(exc.reason) from None

    def wait_for_new(
        self,
        find: Callable[[], list[T]],
        match: Callable[[Any], bool],
        *,
        timeout: float,
        since: int,
    ) -> list[T]:
        """Records ``find`` returns, once it returns any: woken by matching webhooks, or polls."""
        deadline = time.monotonic() + timeout
        seen = since
        while True:
            found = find()
            if found:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            if self.hub is None:
                time.sleep(min(POLL_INTERVAL, remaining))
                continue
            try:
                event = self.hub.wait_for(
                    lambda e: e.wallet_id == self.wallet_id and match(e),
                    timeout=min(remaining, 1.0),
                    since=seen,
                )
                seen = event.seq
            except WebhookTimeout:
                pass

    def _fetcher(self, topic: str, record_id: str) -> Callable[[], tuple[str | None, str | None]]:
        if topic == "issue_credential_v2_0":
            path = f"/issue-credential-2.0/records/{record_id}"
            key = "cred_ex_record"
        elif topic == "present_proof_v2_0":
            path, key = f"/present-proof-2.0/records/{record_id}", None
        else:
            path, key = f"/connections/{record_id}", None

        def fetch() -> tuple[str | None, str | None]:
            record = self.call(lambda client: client.request("GET", path))
            if key:
                record = record.get(key) or {}
            return record.get("state"), record.get("error_msg")

        return fetch


def _failed(reason: str) -> DomainError:
    return DomainError(
        ProblemType.EXCHANGE_FAILED,
        f"the other side ended the exchange: {reason}"[:1000],
    )


def _timeout(timeout: float) -> DomainError:
    return DomainError(
        ProblemType.EXCHANGE_TIMEOUT,
        f"the other side did not answer within {timeout:.0f} s",
    )
