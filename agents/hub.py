"""The webhook hub: receives every agent's webhooks and hands them to the services.

Agents post to ``<hub>/<agent>/topic/<topic>/`` (ACA-Py's ``--webhook-url``). Services either
subscribe to a topic or wait, with a timeout, for a record to reach a state. A bounded history
lets a waiter see an event that arrived before it started waiting (DIDComm is often faster than
the caller). A ``problem_report`` from the peer, or a record that went to ``abandoned``, ends a
wait with :class:`ExchangeFailed` carrying the reason.

The embedded suite keeps that history in memory. Service nodes (``credgate serve``) give the hub a
``store``: every webhook is also a row of ``agent_webhook_events``, published on
:mod:`credgate.notify` at commit, so a waiter on any node sees an event that the agent posted to
another node (subscribers run on the node that received it). Waiters re-read the rows after the
one they started from, by id; rows are dropped after :data:`RETENTION`.
"""

from __future__ import annotations

import hmac
import itertools
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Blueprint, Flask, abort, request
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from agents.models import StoredWebhook
from credgate.db import transaction, utcnow
from credgate.notify import notifier_for
from credgate.signals import Signal

FAILED_STATES = frozenset({"abandoned", "deleted"})
CHANNEL = "agents.webhooks"
RETENTION = timedelta(hours=1)  # stored webhooks older than this are deleted
PRUNE_EVERY = 500  # stored webhooks between two deletions of old ones
POLL = 0.5  # stored webhooks without a notification listener (SQLite): re-read this often
SAFETY_POLL = 5.0  # ... with one: re-read only as a safety net


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
Failure = Callable[[WebhookEvent], str | None]  # a reason the exchange failed, or None
Subscriber = Callable[[WebhookEvent], None]


class WebhookHub:
    def __init__(
        self,
        api_key: str,
        *,
        history: int = 10_000,
        store: sessionmaker[Session] | None = None,
    ) -> None:
        self.api_key = api_key
        self.store = store
        self._events: deque[WebhookEvent] = deque(maxlen=history)
        self._subscribers: dict[str, list[Subscriber]] = {}
        self._seq = 0
        self._lock = threading.Lock()  # the history, the subscribers and the number
        self._arrived = Signal()  # poked after each in-memory event
        self._stored = itertools.count(1)

    # -- receiving ---------------------------------------------------------------------------

    def publish(
        self, agent: str, topic: str, payload: dict[str, Any], wallet_id: str | None = None
    ) -> WebhookEvent:
        if self.store is not None:
            return self._publish_stored(agent, topic, payload, wallet_id)
        with self._lock:
            self._seq += 1
            event = WebhookEvent(self._seq, agent, topic, wallet_id, payload)
            self._events.append(event)
            subscribers = [*self._subscribers.get(topic, ()), *self._subscribers.get("*", ())]
        self._arrived.poke()
        for callback in subscribers:
            callback(event)
        return event

    def _publish_stored(
        self, agent: str, topic: str, payload: dict[str, Any], wallet_id: str | None
    ) -> WebhookEvent:
        assert self.store is not None
        with transaction(self.store) as session:
            row = StoredWebhook(
                agent=agent[:64],
                topic=topic[:100],
                wallet_id=(wallet_id or None) and wallet_id[:64],
                payload=payload,
                received_at=utcnow(),
            )
            session.add(row)
            session.flush()
            notifier_for(self.store).publish(CHANNEL, session)
            if next(self._stored) % PRUNE_EVERY == 0:
                session.execute(
                    delete(StoredWebhook).where(StoredWebhook.received_at < utcnow() - RETENTION)
                )
        event = WebhookEvent(row.id, agent, topic, wallet_id, payload)
        with self._lock:
            subscribers = [*self._subscribers.get(topic, ()), *self._subscribers.get("*", ())]
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
        with self._lock:
            self._subscribers.setdefault(topic, []).append(callback)

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers[topic].remove(callback)

        return unsubscribe

    def events(self, match: Matcher | None = None) -> list[WebhookEvent]:
        if self.store is not None:
            history = self._events.maxlen or 10_000
            found = self._read_stored(max(0, self.last_seq - history), set())
            return [e for e in found if match is None or match(e)]
        with self._lock:
            events = list(self._events)
        return [e for e in events if match is None or match(e)]

    def wait_for(
        self,
        match: Matcher,
        *,
        timeout: float,
        failure: Callable[[WebhookEvent], str | None] | None = None,
        since: int = 0,
    ) -> WebhookEvent:
        """The first event after ``since`` that matches; ``failure`` returning a reason aborts."""
        if self.store is not None:
            return self._wait_stored(match, timeout, failure, since)
        deadline = time.monotonic() + timeout
        seen = since
        while True:
            generation = self._arrived.generation  # before reading: a later event still wakes us
            with self._lock:
                unseen = self._unseen(seen)
            for event in unseen:
                seen = event.seq
                if _settles(event, match, failure):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WebhookTimeout(f"no matching webhook within {timeout:.1f} s")
            self._arrived.wait(generation, remaining)

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

    def _wait_stored(
        self,
        match: Matcher,
        timeout: float,
        failure: Callable[[WebhookEvent], str | None] | None,
        since: int,
    ) -> WebhookEvent:
        # Ids are handed out at insert, but transactions commit in any order: a smaller id can
        # appear after a larger one. So every read starts after ``since`` and skips the ids it
        # has looked at, rather than moving a high-water mark past a gap.
        assert self.store is not None
        notifier = notifier_for(self.store)
        deadline = time.monotonic() + timeout
        looked: set[int] = set()
        while True:
            generation = notifier.generation(CHANNEL)
            for event in self._read_stored(since, looked):
                looked.add(event.seq)
                if _settles(event, match, failure):
                    return event
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise WebhookTimeout(f"no matching webhook within {timeout:.1f} s")
            poll = SAFETY_POLL if notifier.listening else POLL
            notifier.wait(CHANNEL, generation, min(remaining, poll))

    def _read_stored(self, since: int, looked: set[int]) -> list[WebhookEvent]:
        assert self.store is not None
        query = select(StoredWebhook).where(StoredWebhook.id > since).order_by(StoredWebhook.id)
        if looked:
            query = query.where(StoredWebhook.id.not_in(looked))
        with self.store() as session:
            rows = session.scalars(query).all()
        return [WebhookEvent(r.id, r.agent, r.topic, r.wallet_id, r.payload) for r in rows]

    @property
    def last_seq(self) -> int:
        if self.store is not None:
            with self.store() as session:
                return session.scalar(select(func.max(StoredWebhook.id))) or 0
        with self._lock:
            return self._seq


def problem_report_reason(report: dict[str, Any]) -> str:
    description = report.get("description") or {}
    if isinstance(description, dict):
        return description.get("en") or description.get("code") or "problem report"
    return str(description)


def _settles(event: WebhookEvent, match: Matcher, failure: Failure | None) -> bool:
    """Whether a waiter is done with ``event``: it matches, or ``failure`` names a reason (then
    :class:`ExchangeFailed` is raised)."""
    reason = failure(event) if failure else None
    if reason:
        raise ExchangeFailed(reason, event)
    return bool(match(event))
