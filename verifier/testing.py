"""Fixtures for tests and benchmarks: did:key holders of real Ed25519 keys, credentials and
presentations signed with them, a loopback HTTP server base for test servers, and one that
publishes status-list credentials (like the revocation service does) and a change feed of its own.

Real keys, real signatures, a real HTTP server on 127.0.0.1: nothing here imitates credgate.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs, urlparse

from jwcrypto import jwk
from nacl.signing import SigningKey

from credgate.signals import Signal
from schemas.registry import example_credential
from verifier import jose
from verifier.dids import DidResolver, did_key_from_public_key
from verifier.engine import ProofCache, Verifier
from verifier.fetch import FetchPolicy
from verifier.status import StatusListCache, encode_bitstring
from verifier.suites import sign
from verifier.trust import TrustRegistry

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
STATUS_2021_CONTEXT = "https://w3id.org/vc/status-list/2021/v1"
V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"


@dataclass(frozen=True)
class Party:
    """Someone with a did:key: an issuer, a holder."""

    key: SigningKey

    @classmethod
    def generate(cls) -> Party:
        return cls(SigningKey.generate())

    @classmethod
    def from_seed(cls, seed: bytes) -> Party:
        return cls(SigningKey(seed))

    @property
    def did(self) -> str:
        return did_key_from_public_key(bytes(self.key.verify_key))

    @property
    def method(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    def sign(self, document: dict[str, Any], **options: Any) -> dict[str, Any]:
        return sign(document, self.key, self.method, **options)

    def present(
        self,
        credentials: list[dict[str, Any]],
        *,
        challenge: str | None,
        domain: str | None = None,
        proof_type: str = "Ed25519Signature2018",
        holder: bool = True,
    ) -> dict[str, Any]:
        presentation: dict[str, Any] = {
            "@context": ["https://www.w3.org/2018/credentials/v1"],
            "type": ["VerifiablePresentation"],
            "verifiableCredential": credentials,
        }
        if proof_type == "Ed25519Signature2020":
            presentation["@context"].append(ED25519_2020_CONTEXT)
        if holder:
            presentation["holder"] = self.did
        options: dict[str, Any] = {"proof_type": proof_type, "proof_purpose": "authentication"}
        if challenge is not None:
            options["challenge"] = challenge
        if domain is not None:
            options["domain"] = domain
        return self.sign(presentation, **options)


def private_jwk(party: Party) -> jwk.JWK:
    """``party``'s Ed25519 key as a private JWK, to sign JWTs (JOSE) with."""
    return jwk.JWK(
        kty="OKP",
        crv="Ed25519",
        x=jose.b64url(bytes(party.key.verify_key)),
        d=jose.b64url(bytes(party.key)),
    )


def credgate_credential(
    name: str,
    issuer: Party,
    subject: str,
    *,
    status: list[dict[str, Any]] | dict[str, Any] | None = None,
    valid_from: str = "2025-01-01T00:00:00Z",
    valid_until: str | None = "2099-01-01T00:00:00Z",
    proof_type: str = "Ed25519Signature2020",
    version: int = 1,
) -> dict[str, Any]:
    """A signed credgate credential (the schemas' example, re-addressed): VCDM 1.1, or with
    ``version=2`` VCDM 2.0 signed with eddsa-rdfc-2022."""
    credential = example_credential(name)
    credential["id"] = f"urn:uuid:{uuid.uuid4()}"
    credential["issuer"] = issuer.did
    credential["issuanceDate"] = valid_from
    if "validFrom" in credential:
        credential["validFrom"] = valid_from
    # Each family keeps the validity fields its example (and schema) uses.
    end_field = "validUntil" if "validUntil" in credential else "expirationDate"
    if valid_until is None:
        credential.pop(end_field, None)
    else:
        credential[end_field] = valid_until
    credential["credentialSubject"]["id"] = subject
    if name == "AttorneyCredential":
        credential["credentialSubject"]["mandator"]["id"] = issuer.did
    if status is None:
        credential.pop("credentialStatus", None)
    else:
        credential["credentialStatus"] = status
    if version == 2:
        credential["@context"] = [V2_CONTEXT, *credential["@context"][1:]]
        credential["validFrom"] = credential.pop("issuanceDate")
        if "expirationDate" in credential:
            credential["validUntil"] = credential.pop("expirationDate")
        return issuer.sign(
            credential, proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
        )
    if proof_type == "Ed25519Signature2020":
        credential["@context"].insert(1, ED25519_2020_CONTEXT)
    return issuer.sign(credential, proof_type=proof_type)


@dataclass
class PublishedList:
    list_id: str
    issuer: Party
    purpose: str
    bits: bytearray = field(default_factory=lambda: bytearray(16 * 1024))
    version: int = 1


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers a whole body in one call."""

    def log_message(self, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes = b"", content_type: str | None = None) -> None:
        self.send_response(status)
        if content_type is not None:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class LoopbackServer:
    """A threaded HTTP server on a free port of 127.0.0.1 for ``handler``: ``start`` serves."""

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        # A short poll: stop() waits for it (0.5 s by default) in every fixture's teardown.
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class StatusListServer(LoopbackServer):
    """A loopback HTTP server publishing signed StatusList2021 (VCDM 1.1) or
    BitstringStatusList (VCDM 2.0) credentials at ``/status/<list_id>``, and the change feed
    contract at ``/status/changes?after=&wait=``."""

    def __init__(self) -> None:
        self.lists: dict[str, PublishedList] = {}
        self.changes: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.fail = False  # answer 503 to everything
        self.stopping = False
        self._changed = Signal()  # poked by set() (the test's thread) and stop()
        server = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                server.requests.append(self.path)
                status, body = server.answer(self.path)
                self.reply(status, json.dumps(body).encode(), "application/json")

        super().__init__(Handler)

    def stop(self) -> None:
        self.stopping = True  # long polls answer now
        self._changed.poke()
        super().stop()

    def list_url(self, list_id: str) -> str:
        return f"{self.url}/status/{list_id}"

    def add_list(self, list_id: str, issuer: Party, purpose: str = "revocation") -> str:
        self.lists[list_id] = PublishedList(list_id, issuer, purpose)
        return self.list_url(list_id)

    def entry(
        self, list_id: str, index: int, entry_type: str = "StatusList2021Entry"
    ) -> dict[str, Any]:
        url = self.list_url(list_id)
        return {
            "id": f"{url}#{index}",
            "type": entry_type,
            "statusPurpose": self.lists[list_id].purpose,
            "statusListIndex": str(index),
            "statusListCredential": url,
        }

    def set(self, list_id: str, index: int, value: bool = True) -> None:
        published = self.lists[list_id]
        mask = 1 << (7 - index % 8)
        if value:
            published.bits[index // 8] |= mask
        else:
            published.bits[index // 8] &= ~mask
        published.version += 1
        seq = len(self.changes) + 1
        self.changes.append({"seq": seq, "list_id": list_id, "url": self.list_url(list_id)})
        self._changed.poke()

    def credential(self, list_id: str, *, v2: bool = False) -> dict[str, Any]:
        published = self.lists[list_id]
        url = self.list_url(list_id)
        if v2:
            document = {
                "@context": ["https://www.w3.org/ns/credentials/v2"],
                "id": url,
                "type": ["VerifiableCredential", "BitstringStatusListCredential"],
                "issuer": published.issuer.did,
                "validFrom": "2025-01-01T00:00:00Z",
                "credentialSubject": {
                    "id": f"{url}#list",
                    "type": "BitstringStatusList",
                    "statusPurpose": published.purpose,
                    "encodedList": encode_bitstring(bytes(published.bits), "BitstringStatusList"),
                },
            }
            return published.issuer.sign(
                document, proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
            )
        document = {
            "@context": [
                "https://www.w3.org/2018/credentials/v1",
                STATUS_2021_CONTEXT,
                ED25519_2020_CONTEXT,
            ],
            "id": url,
            "type": ["VerifiableCredential", "StatusList2021Credential"],
            "issuer": published.issuer.did,
            "issuanceDate": "2025-01-01T00:00:00Z",
            "credentialSubject": {
                "id": f"{url}#list",
                "type": "StatusList2021",
                "statusPurpose": published.purpose,
                "encodedList": encode_bitstring(bytes(published.bits)),
            },
        }
        return published.issuer.sign(document)

    def answer(self, path: str) -> tuple[int, Any]:
        if self.fail:
            return 503, {"title": "unavailable"}
        parsed = urlparse(path)
        if parsed.path == "/status/changes":
            query = parse_qs(parsed.query)
            after = int(query.get("after", ["0"])[0])
            wait = min(float(query.get("wait", ["0"])[0]), 5.0)
            self._changed.wait_until(lambda: len(self.changes) > after or self.stopping, wait)
            changes = list(self.changes)  # one snapshot: set() may append meanwhile
            return 200, {"changes": copy.deepcopy(changes[after:]), "last": len(changes)}
        parts = parsed.path.strip("/").split("/")
        if len(parts) == 2 and parts[0] == "status" and parts[1] in self.lists:
            return 200, self.credential(parts[1], v2=parts[1].startswith("v2-"))
        return 404, {"title": "not found"}


def serving_lists(*lists: tuple[str, Party, str]) -> Iterator[StatusListServer]:
    """A started StatusListServer publishing ``(list_id, issuer, purpose)`` lists, stopped when
    resumed: for a fixture, ``yield from serving_lists(("roles", authority, "revocation"))``."""
    server = StatusListServer().start()
    for list_id, issuer, purpose in lists:
        server.add_list(list_id, issuer, purpose)
    yield server
    server.stop()


def loopback_verifier(
    trust: TrustRegistry, resolver: DidResolver | None = None, **options: Any
) -> Verifier:
    """A verifier with a proof cache of its own that fetches status lists from 127.0.0.1 only."""
    v = Verifier(resolver or DidResolver(), trust=trust, proof_cache=ProofCache(), **options)
    v.status = StatusListCache(v.verify_status_list, policy=FetchPolicy(["127.0.0.1"]))
    return v
