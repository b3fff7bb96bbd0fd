"""Runs the lifecycle: webhooks from the hub go to worker threads, and a sweeper ticks.

The hub calls subscribers on the thread that received the webhook, so the callback only queues
the event; workers do the database and agent work. Events of one DIDComm thread always go to the
same worker, so they are handled in the order the agent sent them. Everything the lifecycle
needs is in the database: a restarted service, or one without a hub, catches up in the sweeper.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import zlib
from collections.abc import Callable

from agents.hub import WebhookEvent, WebhookHub
from issuer import lifecycle
from issuer.context import IssuerContext

log = logging.getLogger(__name__)

TOPICS = ("issue_credential_v2_0", "problem_report", "connections")
AGENT = "issuer"
RETRY_DELAYS = (0.05, 0.1, 0.2, 0.4, 0.8)  # a request may beat the commit of its thread id
CONNECTED = frozenset({"active", "completed"})


class Watcher:
    def __init__(self, ctx: IssuerContext, hub: WebhookHub | None) -> None:
        self.ctx = ctx
        self.hub = hub
        self._queues = [queue.Queue() for _ in range(ctx.settings.workers)]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._unsubscribe: list[Callable[[], None]] = []

    def start(self) -> Watcher:
        for i, q in enumerate(self._queues):
            self._spawn(f"issuer-worker-{i}", lambda q=q: self._work(q))
        self._spawn("issuer-sweeper", self._sweep_forever)
        if self.hub is not None:
            self._unsubscribe = [self.hub.subscribe(t, self._receive) for t in TOPICS]
        return self

    def stop(self, timeout: float = 5.0) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        self._stop.set()
        for q in self._queues:
            q.put(None)
        for thread in self._threads:
            thread.join(timeout)

    def _spawn(self, name: str, target) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- webhooks ------------------------------------------------------------------------------

    def _receive(self, event: WebhookEvent) -> None:
        if event.agent != AGENT or self._stop.is_set():
            return
        key = _ordering_key(event)
        self._queues[zlib.crc32(key.encode()) % len(self._queues)].put((event, 0))

    def _work(self, q: queue.Queue) -> None:
        while True:
            item = q.get()
            if item is None:
                return
            event, attempt = item
            try:
                outcome = handle(self.ctx, event)
            except Exception:  # a worker must survive anything one event does
                log.exception(
                    "issuer: webhook %s/%s failed", event.topic, event.payload.get("state")
                )
                continue
            if outcome == lifecycle.RETRY and attempt < len(RETRY_DELAYS):
                self._later(q, event, attempt)

    def _later(self, q: queue.Queue, event: WebhookEvent, attempt: int) -> None:
        timer = threading.Timer(RETRY_DELAYS[attempt], q.put, args=((event, attempt + 1),))
        timer.daemon = True
        timer.start()

    # -- sweeper -------------------------------------------------------------------------------

    def _sweep_forever(self) -> None:
        interval = self.ctx.settings.sweep_interval
        while not self._stop.wait(interval):
            began = time.monotonic()
            try:
                lifecycle.sweep(self.ctx)
            except Exception:  # e.g. the database is briefly away: try again next tick
                log.exception("issuer: sweep failed")
            log.debug("issuer: sweep took %.3f s", time.monotonic() - began)


def _ordering_key(event: WebhookEvent) -> str:
    payload = event.payload
    thread = payload.get("~thread") or {}
    return str(payload.get("thread_id") or thread.get("thid") or payload.get("connection_id"))


def handle(ctx: IssuerContext, event: WebhookEvent):
    """Dispatch one issuer-agent webhook to the lifecycle."""
    payload = event.payload
    if event.topic == "issue_credential_v2_0":
        return lifecycle.on_credential_event(ctx, event.wallet_id, payload)
    if event.topic == "problem_report":
        return lifecycle.on_problem_report(ctx, event.wallet_id, payload)
    if event.topic == "connections" and payload.get("state") in CONNECTED:
        return lifecycle.on_connection(ctx, event.wallet_id, payload)
    return None
