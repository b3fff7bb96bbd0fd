"""HTTP routes of the revocation service.

Public (verifiers): ``GET /status/<list_id>`` (the signed status-list credential),
``GET /status/changes`` (long-poll) and ``GET /status/changes/stream`` (Server-Sent Events).
Operator API (bearer token): ``GET /status/entries``, ``GET /status/entries/<id>`` and
``POST /status/entries/<id>/revoke|suspend|reinstate``.

Status lists are served with a strong ETag and ``Cache-Control: no-cache``: any cache must
revalidate on every use (a cheap 304 while nothing changed), so no cache can hold back a
revocation, not even for a few seconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flask import Blueprint, Response, current_app, g, jsonify, request

from credgate.auth import OPERATOR
from credgate.changefeed import event_stream, long_poll, long_poll_answer, wait_seconds
from credgate.openapi import component, listing, obj, operation, param
from credgate.problems import Problem, json_body
from credgate.web import db_sessions
from revocation import feed
from revocation.entries import entry_record, search_entries
from revocation.models import MAX_INTEGER as MAX_SEQ
from revocation.publication import published_list
from revocation.status import change_status, require_action
from revocation.token_status import MEDIA_TYPE as TOKEN_MEDIA_TYPE
from revocation.token_status import published_token

MAX_WAIT = 25.0  # seconds a long-poll may wait
LIST_ID = re.compile(r"[0-9a-f]{32}")

revocation = Blueprint("revocation", __name__)

# -- what the API takes and answers (its /openapi.json) --------------------------------------------

STRING = {"type": "string"}
NULLABLE = {"type": ["string", "null"]}
INTEGER = {"type": "integer"}
OBJECT = {"type": "object"}
SEQ = {"type": "integer", "minimum": 0, "maximum": MAX_SEQ, "x-problem": "invalid-parameter"}
LIST_PATH = {"list_id": {"type": "string", "pattern": "^[0-9a-f]{32}$"}}
ENTRY_PATH = {"entry_id": {"type": "string", "pattern": "^[0-9]{1,18}$"}}
CHANGES = long_poll_answer(
    "StatusChanges",
    obj(
        required={"seq": INTEGER, "list_id": STRING, "url": STRING},
        optional={"index": INTEGER, "status": STRING},
    ),
)
ENTRY = component(
    "StatusEntry",
    obj(
        required={
            "id": INTEGER,
            "list_id": STRING,
            "index": INTEGER,
            "purpose": STRING,
            "state": STRING,
            "status": STRING,
            "final": {"type": "boolean"},
        },
        optional={
            "credential_id": NULLABLE,
            "exchange_id": NULLABLE,
            "issuer": NULLABLE,
            "model": STRING,
            "credentialStatus": OBJECT,
            "created_at": STRING,
            "updated_at": STRING,
            "history": {"type": "array", "items": OBJECT},
            "seq": INTEGER,
        },
    ),
)
REASON = obj(
    problem="invalid-body",
    required={
        "reason": {
            "type": "string",
            "minLength": 1,
            "maxLength": 1000,
            "x-problem": "invalid-reason",
        },
    },
)
#: A list is served as the media type of its model (BitstringStatusList or StatusList2021).
LIST_MEDIA = ("application/vc+ld+json", "application/ld+json")


# -- status lists --------------------------------------------------------------------------------


def served_list(summary: str, media: str | tuple[str, ...], schema: dict):
    """The declaration of a route serving a list in one of its forms (the credential, the
    token), as :func:`_published` and :func:`_revalidated` serve it: a 304 while its ETag holds,
    a 404 for no such list, a 503 while it cannot be signed (retry)."""
    return operation(
        summary,
        path=LIST_PATH,
        responses={200: (media, schema), 304: None},
        problems=(404, 503),
    )


@revocation.get("/status/<list_id>")
@served_list(
    "The signed status-list credential (ETag; revalidate on every use)", LIST_MEDIA, OBJECT
)
def status_list(list_id: str):
    published = _published(published_list, list_id)
    response = Response(published.body, mimetype=published.media_type)
    response.last_modified = published.signed_at
    return _revalidated(response, published.etag, published.version)


@revocation.get("/status/<list_id>/token")
@served_list("The list as an IETF Token Status List token (SD-JWT VCs)", TOKEN_MEDIA_TYPE, STRING)
def status_list_token(list_id: str):
    """The same list as an IETF Token Status List token, for SD-JWT VCs."""
    token = _published(published_token, list_id)
    response = Response(token.jwt, mimetype=TOKEN_MEDIA_TYPE)
    return _revalidated(response, token.etag, token.version)


def _published[T](publish: Callable[..., T], list_id: str) -> T:
    """The list as ``publish`` (the credential's or the token's) serves it: signed anew if due."""
    if not LIST_ID.fullmatch(list_id):
        raise Problem("unknown-status-list", "Unknown status list", 404, "no such status list")
    return publish(
        db_sessions(),
        current_app.extensions.get("credgate.agent"),
        list_id,
        ttl=current_app.config["STATUS_LIST_TTL"],
    )


def _revalidated(response: Response, etag: str, version: int) -> Response:
    """A list for anyone to fetch, revalidated on every use (304 while its ETag holds)."""
    response.set_etag(etag)
    response.cache_control.no_cache = True
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Credgate-Status-Version"] = str(version)
    return response.make_conditional(request)


# -- change feed ---------------------------------------------------------------------------------


@revocation.get("/status/changes")
@operation(
    "Change feed (long poll): lists whose bits changed",
    responses={200: CHANGES},
    problems=(400,),
    query={
        "after": param("last seq seen", SEQ),
        "wait": param(
            "seconds to wait for a change (longer waits are cut to 25)",
            {"type": "number", "minimum": 0, "x-problem": "invalid-parameter"},
        ),
    },
)
def changes():
    after = _seq(request.args.get("after"), "after") or 0
    wait = _wait(request.args.get("wait"))
    return long_poll(feed.LOG, db_sessions(), after, wait)


@revocation.get("/status/changes/stream")
@operation(
    "The change feed as Server-Sent Events (from Last-Event-ID or after)",
    responses={200: ("text/event-stream", STRING)},
    problems=(400,),
    query={"after": param("last seq seen", SEQ)},
)
def change_stream():
    """Server-Sent Events from ``Last-Event-ID`` (or ``?after=``), else from now on."""
    start = _seq(request.headers.get("Last-Event-ID"), "Last-Event-ID")
    if start is None:
        start = _seq(request.args.get("after"), "after")
    config = current_app.config
    return event_stream(
        feed.LOG,
        db_sessions(),
        start,
        heartbeat=config["STATUS_STREAM_HEARTBEAT"],
        lifetime=config["STATUS_STREAM_MAX_SECONDS"],
    )


def _seq(raw: str | None, name: str) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_SEQ:
        raise Problem(
            "invalid-parameter",
            "Invalid parameter",
            400,
            f"{name} must be a change sequence number (a non-negative integer)",
            parameter=name,
        )
    return int(raw)


def _wait(raw: str | None) -> float:
    try:
        return wait_seconds(raw, MAX_WAIT)
    except ValueError:
        raise Problem(
            "invalid-parameter",
            "Invalid parameter",
            400,
            f"wait must be a number of seconds from 0 to {MAX_WAIT:g}",
            parameter="wait",
        ) from None


# -- operator API --------------------------------------------------------------------------------


@revocation.get("/status/entries")
@operation(
    "Find status entries by credential id, or by list (and index)",
    problems=(400,),
    auth=OPERATOR,
    responses={200: listing("entries", ENTRY)},
    query={
        "credential_id": param("the credential's id"),
        "list_id": param("a status list"),
        "index": param("an index in that list", SEQ),
    },
)
def find_entries():
    credential_id = request.args.get("credential_id") or None
    list_id = request.args.get("list_id") or None
    index = _seq(request.args.get("index"), "index")
    if credential_id is None and list_id is None:
        raise Problem(
            "missing-parameter",
            "Missing parameter",
            400,
            "give credential_id, or list_id (and optionally index)",
        )
    found = search_entries(db_sessions(), credential_id=credential_id, list_id=list_id, index=index)
    return jsonify({"entries": found})


@revocation.get("/status/entries/<entry_id>")
@operation(
    "A status entry with its history",
    path=ENTRY_PATH,
    responses={200: ENTRY},
    problems=(404,),
    auth=OPERATOR,
)
def get_entry(entry_id: str):
    return jsonify(entry_record(db_sessions(), _entry_id(entry_id)))


def _known_url(entry_id: str, action: str) -> None:
    _entry_id(entry_id)
    require_action(action)


@revocation.post("/status/entries/<entry_id>/<action>")
@operation(
    "Revoke, suspend or reinstate an entry (a reason required)",
    body=REASON,
    path={**ENTRY_PATH, "action": {"enum": ["revoke", "suspend", "reinstate"]}},
    responses={200: ENTRY},
    problems=(404, 409),
    before=_known_url,
    auth=OPERATOR,
)
def change_entry(entry_id: str, action: str):
    ref = _entry_id(entry_id)
    body = json_body()
    if not isinstance(body, dict):
        raise Problem("invalid-body", "Invalid body", 400, 'send {"reason": "..."}')
    changed = change_status(db_sessions(), ref, action, reason=body.get("reason"), actor=g.actor)
    record = entry_record(db_sessions(), changed.entry_id)
    return jsonify(record | {"seq": changed.seq})


def _entry_id(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_SEQ:
        raise Problem("unknown-entry", "Unknown status entry", 404, f"no status entry {raw!r}")
    return int(raw)
