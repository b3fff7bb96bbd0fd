"""The webhook hub: receives every agent's webhooks and hands them to the services.

Agents post to ``<hub>/<agent>/topic/<topic>/`` (ACA-Py's ``--webhook-url``). Services either
subscribe to a topic or wait, with a timeout, for a record to reach a state. A bounded history
lets a waiter see an event that arrived before it started waiting (DIDComm is often faster than
the caller). A ``problem_report`` from the peer, or a record that went to ``abandoned``, ends a
wait with :class:`ExchangeFailed` carrying the reason.
"""

from __future__ import annotations

import hmac
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Flask, abort, request

FAILED_STATES = frozenset({"abandoned", "deleted"})


@dataclass(frozen=True)
class WebhookEvent:
    seq: int
    agent: str
    topic: str
    wallet_id: str | None
    payload: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)


class WebhookTimeout(TimeoutError):
    """No matching webhook arrived in time."""


class ExchangeFailed(Exception):
    """The exchange ended in failure (problem report, abandoned record)."""

    def __init__(self, reason: str, event: WebhookEvent) -> None:
        super().__init__(reason)
        self.reason = reason
        self.event = event


Matcher = Callable[[WebhookEvent], bool]
Subscriber = Callable[[WebhookEvent], None]


class WebhookHub:
    def __init__(self, api_key: str, *, history: int = 10_000) -> None:
        self.api_key = api_key
        self._events: deque[WebhookEvent] = deque(maxlen=history)
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._seq = 0
        self._changed = threading.Condition()

    # -- receiving ---------------------------------------------------------------------------

    def publish(
        self, agent: str, topic: str, payload: dict[str, Any], wallet_id: str | None = None
    ) -> WebhookEvent:
        with self._changed:
            self._seq += 1
            event = WebhookEvent(self._seq, agent, topic, wallet_id, payload)
            self._events.append(event)
            subscribers = [*self._subscribers.get(topic, ()), *self._subscribers.get("*", ())]
            self._changed.notify_all()
        for callback in subscribers:
            callback(event)
        return event

    def blueprint(self) -> Blueprint:
        bp = Blueprint("webhooks", __name__)

        @bp.post("/<agent>/topic/<topic>/")
        def receive(agent: str, topic: str):
            presented = request.headers.get("x-api-key", "")
            if not hmac.compare_digest(presented, self.api_key):
                abort(401)
            payload = request.get_json(silent=True)
            if not isinstance(payload, dict):
                abort(400)
            self.publish(agent, topic, payload, request.headers.get("x-wallet-id"))
            return "", 204

        return bp

    def create_app(self) -> Flask:
        app = Flask("credgate-webhooks")
        app.register_blueprint(self.blueprint())
        return app

    def webhook_url(self, base_url: str, agent: str) -> str:
        """The ``--webhook-url`` for one agent (ACA-Py sends the part after # as x-api-key)."""
        return f"{base_url.rstrip('/')}/{agent}#{self.api_key}"

    # -- consuming ---------------------------------------------------------------------------

    def subscribe(self, topic: str, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback`` for each new event on ``topic`` ("*" for all); returns unsubscribe."""
        with self._changed:
            self._subscribers.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._changed:
                self._subscribers[topic].remove(callback)

        return unsubscribe

    def events(self, match: Matcher | None = None) -> list[WebhookEvent]:
        with self._changed:
            return [e for e in self._events if match is None or match(e)]

    def wait_for(
        self,
        match: Matcher,
        *,
        timeout: float,
        failure: Callable[[WebhookEvent], str | None] | None = None,
        since: int = 0,
    ) -> WebhookEvent:
        """The first event after ``since`` that matches; ``failure`` returning a reason aborts."""
        deadline = time.monotonic() + timeout
        seen = since
        with self._changed:
            while True:
                for event in self._unseen(seen):
                    seen = event.seq
                    reason = failure(event) if failure else None
                    if reason:
                        raise ExchangeFailed(reason, event)
                    if match(event):
                        return event
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WebhookTimeout(f"no matching webhook within {timeout:.1f} s")
                self._changed.wait(remaining)

    def wait_for_state(
        self,
        topic: str,
        id_field: str,
        record_id: str,
        state: str | set[str],
        *,
        timeout: float,
        thread_id: str | None = None,
        since: int = 0,
    ) -> WebhookEvent:
        """Wait until record ``record_id`` on ``topic`` reaches ``state``.

        Fails at once if the record is abandoned or deleted, or if a problem report arrives on the
        record's DIDComm thread (``thread_id``, matched against ``thid`` and ``pthid``).
        """
        wanted = {state} if isinstance(state, str) else set(state)

        def same_record(event: WebhookEvent) -> bool:
            return event.topic == topic and event.payload.get(id_field) == record_id

        def match(event: WebhookEvent) -> bool:
            return same_record(event) and event.payload.get("state") in wanted

        def failure(event: WebhookEvent) -> str | None:
            if same_record(event) and event.payload.get("state") in FAILED_STATES - wanted:
                return event.payload.get("error_msg") or f"record {event.payload.get('state')}"
            if thread_id and event.topic == "problem_report":
                thread = event.payload.get("~thread", {})
                if thread_id in (thread.get("thid"), thread.get("pthid")):
                    return problem_report_reason(event.payload)
            return None

        return self.wait_for(match, timeout=timeout, failure=failure, since=since)

    def _unseen(self, seen: int) -> list[WebhookEvent]:
        """Events after number ``seen``, oldest first. Walks back from the newest, so a waiter
        woken by one event reads one event, not the whole history."""
        unseen = []
        for event in reversed(self._events):
            if event.seq <= seen:
                break
            unseen.append(event)
        unseen.reverse()
        return unseen

    @property
    def last_seq(self) -> int:
        with self._changed:
            return self._seq


def problem_report_reason(report: dict[str, Any]) -> str:
    description = report.get("description") or {}
    if isinstance(description, dict):
        return description.get("en") or description.get("code") or "problem report"
    return str(description)
