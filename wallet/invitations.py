"""From what was scanned to an out-of-band invitation message.

A QR code (or a pasted link) holds one of:

* a short link ``https://host/i/<id>`` that answers the invitation as JSON, or redirects to a
  URL carrying it (``?oob=``); it works once and expires, and says so with a 404/410 problem;
* an invitation URL ``...?oob=<base64url JSON>`` or a deep link ``didcomm://invite?oob=...``;
* the invitation JSON itself.

Links are fetched under the wallet's fetch policy (:mod:`verifier.fetch`: allow-listed hosts
only, one deadline for the whole scan, a size cap) and redirects are not followed blindly: at
most a few hops, each checked like the first. So a hostile code can neither keep the wallet busy
nor make it reach into the network it runs in, and what a link answered is not echoed back.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

from credgate.errors import DomainError
from credgate.problem_types import PROBLEM_BASE, ProblemType
from verifier.fetch import Fetched, Fetcher, FetchError, FetchPolicy

LINK_DEADLINE = 8.0  # seconds for a whole scan, every hop included
MAX_BODY_BYTES = 256 * 1024
MAX_HOPS = 3
MAX_TEXT = 64 * 1024

OOB_TYPES = ("/out-of-band/1.0/invitation", "/out-of-band/1.1/invitation")
OFFER_TYPE = "/issue-credential/2.0/offer-credential"
REQUEST_TYPE = "/present-proof/2.0/request-presentation"


@dataclass(frozen=True)
class Attached:
    """A message attached to a connectionless invitation."""

    kind: str  # "credential-offer" or "proof-request"
    thread_id: str


@dataclass(frozen=True)
class ScannedInvitation:
    message: dict[str, Any]
    source: str  # the link it came from (or "json")

    @property
    def label(self) -> str | None:
        label = self.message.get("label")
        return str(label)[:200] if label else None

    @property
    def handshake(self) -> bool:
        return bool(self.message.get("handshake_protocols"))

    @property
    def msg_id(self) -> str | None:
        return self.message.get("@id")

    def attachments(self) -> list[Attached]:
        found = []
        for attachment in self.message.get("requests~attach") or []:
            message = _attachment_json(attachment)
            msg_type = str(message.get("@type", ""))
            thread = (message.get("~thread") or {}).get("thid") or message.get("@id")
            if msg_type.endswith(OFFER_TYPE):
                found.append(Attached("credential-offer", str(thread)))
            elif msg_type.endswith(REQUEST_TYPE):
                found.append(Attached("proof-request", str(thread)))
            else:
                raise bad_code(
                    f"the invitation carries a message this wallet does not handle "
                    f"({msg_type or 'no type'})",
                    slug="unsupported-invitation",
                )
        return found


def bad_code(detail: str, *, slug: str = "bad-qr-code") -> DomainError:
    titles = {"bad-qr-code": "Not a credgate QR code", "unsupported-invitation": "Unsupported"}
    return DomainError(slug, detail, title=titles.get(slug, "Bad QR code"))


def link_fetcher(policy: FetchPolicy | None = None) -> Fetcher:
    """A fetcher for invitation links under ``policy`` (without one, no link is opened)."""
    return Fetcher(policy, deadline=LINK_DEADLINE, max_bytes=MAX_BODY_BYTES)


def resolve(text: str, *, fetcher: Fetcher | None = None) -> ScannedInvitation:
    """The invitation behind ``text`` (a link, a deep link or JSON); links are opened with
    ``fetcher`` (:func:`link_fetcher`)."""
    text = (text or "").strip()
    if not text:
        raise bad_code("nothing was scanned")
    if len(text) > MAX_TEXT:
        raise bad_code("the scanned text is too long to be an invitation")
    if text.startswith("{"):
        return ScannedInvitation(_check(_parse_json(text)), "json")
    parts = urlsplit(text)
    embedded = _embedded(parts.query)
    if embedded is not None:
        return ScannedInvitation(_check(embedded), text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise bad_code("the QR code holds neither an invitation nor a web link")
    return _follow(text, fetcher or link_fetcher())


def _fetch(fetcher: Fetcher, url: str, deadline: float) -> Fetched:
    try:
        return fetcher.get(
            url,
            accept="application/json",
            statuses=None,
            deadline=deadline - time.monotonic(),
        )
    except FetchError as exc:
        if exc.reason in ("not-allowed", "bad-url"):
            raise DomainError(
                ProblemType.LINK_NOT_ALLOWED,
                "this wallet does not open links to the host in this QR code",
            ) from None
        if exc.reason == "too-large":
            raise bad_code(
                "the link answered with something too large to be an invitation"
            ) from None
        # One message for refused, reset and timed out: a scan is no port or service probe.
        raise DomainError(
            ProblemType.INVITATION_UNREACHABLE,
            "the link in the QR code could not be opened",
        ) from None


def _follow(url: str, fetcher: Fetcher) -> ScannedInvitation:
    deadline = time.monotonic() + fetcher.deadline
    for _hop in range(MAX_HOPS + 1):
        fetched = _fetch(fetcher, url, deadline)
        status, headers, body = fetched.status, fetched.headers, fetched.body
        if status in (301, 302, 303, 307, 308) and headers.get("Location"):
            url = urljoin(url, headers["Location"])
            embedded = _embedded(urlsplit(url).query)
            if embedded is not None:
                return ScannedInvitation(_check(embedded), url)
            if urlsplit(url).scheme not in ("http", "https"):
                raise bad_code("the link redirects somewhere a wallet cannot follow")
            continue
        if status == 200:
            data = _parse_json(body.decode("utf-8", errors="replace"))
            if isinstance(data.get("invitation"), dict) and "@type" not in data:
                data = data["invitation"]  # some services wrap it
            return ScannedInvitation(_check(data), url)
        raise _link_problem(status, body)
    raise bad_code("the link redirects too often")


def _link_problem(status: int, body: bytes) -> DomainError:
    """What the short link's problem document says, in the wallet user's words."""
    slug = ""
    try:
        document = json.loads(body)
        if isinstance(document, dict):
            slug = str(document.get("type", "")).removeprefix(PROBLEM_BASE)
    except ValueError:
        pass
    if slug == "invitation-used" or (status == 410 and "used" in slug):
        return DomainError(
            ProblemType.INVITATION_USED,
            "this QR code was already scanned; ask for a new one",
            title="QR code already used",
        )
    if status == 410 or slug == "invitation-expired":
        return DomainError(
            ProblemType.INVITATION_EXPIRED,
            "this QR code is no longer valid; ask for a new one",
            title="QR code expired",
        )
    if status == 404:
        return DomainError(
            ProblemType.INVITATION_NOT_FOUND,
            "the link in this QR code leads to no invitation (expired, or mistyped)",
            title="QR code not recognised",
        )
    return DomainError(
        ProblemType.INVITATION_UNREACHABLE,
        "the link in the QR code leads to no invitation",
    )


def _embedded(query: str) -> dict[str, Any] | None:
    """An invitation carried in a URL's query (``oob``), or None if there is none."""
    params = parse_qs(query)
    if "c_i" in params or "d_m" in params:
        raise bad_code(
            "this is an old-style (RFC 0160) invitation; this wallet takes out-of-band invitations",
            slug="unsupported-invitation",
        )
    values = params.get("oob")
    if not values:
        return None
    encoded = values[0].strip()
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        raise bad_code("the invitation in the link is not valid base64") from None
    return _parse_json(raw.decode("utf-8", errors="replace"))


def _parse_json(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError:
        raise bad_code("the QR code does not lead to an invitation (not JSON)") from None
    if not isinstance(data, dict):
        raise bad_code("the QR code does not lead to an invitation (not a JSON object)")
    return data


def _check(message: dict[str, Any]) -> dict[str, Any]:
    msg_type = str(message.get("@type", ""))
    if not msg_type.endswith(OOB_TYPES):
        raise bad_code(f"not an out-of-band invitation ({msg_type or 'no @type'})")
    if not message.get("services"):
        raise bad_code("the invitation names no service to answer to")
    attachments = message.get("requests~attach") or []
    if not isinstance(attachments, list):
        raise bad_code("the invitation's attachments are malformed")
    if not attachments and not message.get("handshake_protocols"):
        raise bad_code("the invitation asks for nothing (no connection, no attached request)")
    return message


def _attachment_json(attachment: Any) -> dict[str, Any]:
    data = attachment.get("data") if isinstance(attachment, dict) else None
    if not isinstance(data, dict):
        raise bad_code("an attachment of the invitation is malformed")
    if isinstance(data.get("json"), dict):
        return data["json"]
    if isinstance(data.get("base64"), str):
        try:
            encoded = data["base64"]
            decoded = json.loads(base64.b64decode(encoded + "=" * (-len(encoded) % 4)))
        except (binascii.Error, ValueError):
            raise bad_code("an attachment of the invitation is not valid base64 JSON") from None
        if isinstance(decoded, dict):
            return decoded
    raise bad_code("an attachment of the invitation carries no JSON message")
