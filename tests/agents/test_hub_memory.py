"""The in-memory webhook hub (the embedded suite's): a webhook received on another thread wakes a
waiter at once, and one that arrived before the wait is not missed. No agent needed."""

from __future__ import annotations

import threading
import time

from agents.hub import WebhookHub


def test_a_webhook_from_another_thread_wakes_the_waiter_at_once():
    hub = WebhookHub("k")
    since = hub.last_seq
    threading.Timer(0.2, hub.publish, ("holder", "connections", {"state": "active"})).start()
    began = time.monotonic()
    event = hub.wait_for(lambda e: e.topic == "connections", timeout=10, since=since)
    assert event.payload == {"state": "active"}
    assert time.monotonic() - began < 2.0


def test_a_waiter_skips_what_came_before_since_and_sees_each_later_event_once():
    hub = WebhookHub("k")
    hub.publish("holder", "connections", {"n": 0})
    since = hub.last_seq
    seen: list[int] = []

    def publish_three() -> None:
        for n in (1, 2, 3):
            time.sleep(0.05)
            hub.publish("holder", "connections", {"n": n})

    threading.Thread(target=publish_three, daemon=True).start()
    event = hub.wait_for(
        lambda e: seen.append(e.payload["n"]) or e.payload["n"] == 3, timeout=10, since=since
    )
    assert event.payload == {"n": 3}
    assert seen == [1, 2, 3]
