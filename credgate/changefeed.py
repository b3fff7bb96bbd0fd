"""A change log over HTTP: the long-poll answer and the Server-Sent Events stream every change
feed serves (see :mod:`credgate.changelog`).

Long poll: ``{"changes": [<change>, ...], "last": <seq>}``, where ``last`` is what to ask after
next time (past gaps; back to the head when the follower is ahead of this database). The verifier's
followers (:mod:`verifier.feeds`) read it.

Server-Sent Events: each change is an event whose ``id`` is its number, so a reconnecting
``EventSource`` resumes from ``Last-Event-ID``; an id-only event moves that past gaps, a comment
every heartbeat finds clients that went away, and the stream ends after its lifetime (the client
reconnects), so no connection is held forever.

Each service declares the request's parameters, and their errors, in its own API description;
:func:`wait_seconds` reads the long poll's wait for them all.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator
from typing import Any

from flask import Response, jsonify
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from credgate.changelog import ChangeLog
from credgate.openapi import Ref, Schema, component

__all__ = ["long_poll", "event_stream", "wait_seconds"]

RETRY_MS = 1000  # how soon an EventSource reconnects after the stream ends


def wait_seconds(raw: str | None, maximum: float) -> float:
    """A long poll's wait: seconds (none or empty: 0), at most ``maximum``; a ValueError for
    anything but a finite number >= 0 (each service words the error)."""
    if raw is None or raw == "":
        return 0.0
    seconds = float(raw)  # a ValueError for what is not a number
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a number of seconds: {raw!r}")
    return min(seconds, maximum)


def long_poll(
    log: ChangeLog[Any], factory: sessionmaker[Session], after: int, wait: float
) -> Response:
    """The changes after ``after``, waiting up to ``wait`` seconds for one."""
    found, last = log.wait_for_changes(factory, after, wait)
    response = jsonify({"changes": [change.to_json() for change in found], "last": last})
    response.headers["Cache-Control"] = "no-store"
    return response


def long_poll_answer(name: str, change: Schema) -> Ref:
    """The schema of :func:`long_poll`'s answer, named ``name`` in the API description:
    ``change`` is the schema of one change."""
    return component(
        name,
        {
            "type": "object",
            "required": ["changes", "last"],
            "properties": {
                "changes": {"type": "array", "items": change},
                "last": {"type": "integer"},
            },
        },
    )


def event_stream(
    log: ChangeLog[Any],
    factory: sessionmaker[Session],
    after: int | None,
    *,
    heartbeat: float,
    lifetime: float,
) -> Response:
    """The changes after ``after`` (None: from now on) as Server-Sent Events."""
    if after is None:
        with factory() as session:
            after = log.head(session)
    events = _events(log, factory, after, heartbeat, lifetime)
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return Response(events, mimetype="text/event-stream", headers=headers)


def _events(
    log: ChangeLog[Any],
    factory: sessionmaker[Session],
    after: int,
    heartbeat: float,
    lifetime: float,
) -> Iterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    end = time.monotonic() + lifetime
    while (remaining := end - time.monotonic()) > 0:
        try:
            found, last = log.wait_for_changes(factory, after, min(heartbeat, remaining))
        except OperationalError:
            return  # the client reconnects from its last event id
        for change in found:
            yield f"id: {change.seq}\ndata: {json.dumps(change.to_json())}\n\n"
        if not found:
            # An id-only event moves the client's Last-Event-ID past gaps without an event.
            yield f"id: {last}\n\n" if last != after else ": keepalive\n\n"
        after = last
