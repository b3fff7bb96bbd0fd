"""Fetching is a policy: a URL in a credential, a DID, a QR code or an flist request is attacker
input, and must not turn credgate into a probe of the network it runs in.

Every test here runs a real hostile HTTP server on 127.0.0.1 that records each connection it
accepts, and attacks one entry point: the verifier's status lists (library and the VC-API
``POST /credentials/verify``), did:web resolution, the wallet's link scan and the issuer's flist
download. Hosts not on the allow-list are refused before any connection; an allow-listed host
that trickles, closes mid-body, sends too much or redirects is cut off with a problem, never a
500 and never a hang; and no error says what the remote host answered.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

from credgate.errors import DomainError
from credgate.problems import problem_of
from gateway import create_app
from issuer.flist import fetch_flist
from tests.support.problems import PROBLEMS
from verifier import errors
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.errors import VerificationError
from verifier.fetch import FetchPolicy, is_public_address
from verifier.status import StatusListCache
from verifier.testing import Party, credgate_credential
from verifier.trust import StaticTrustRegistry
from wallet import invitations

AUTHORITY = Party.generate()
HOLDER = Party.generate()
SECRET = "SECRET-7f3a"  # what the hostile host says; it must never come back to the caller
TRICKLE_FOR = 12.0  # the hostile server stops trickling after this, so old code fails, bounded
STATUS_DEADLINE = 5.0  # verifier.status.FETCH_DEADLINE
MARGIN = 1.5


class Hostile:
    """A loopback HTTP server that misbehaves by path and records every connection it accepts
    (``connections``, counted before any HTTP is read) and every request (``paths``)."""

    def __init__(self) -> None:
        self.connections = 0
        self.paths: list[str] = []
        self.location = ""  # where /redirect points
        self._lock = threading.Lock()
        hostile = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with hostile._lock:
                    hostile.connections += 1
                return True

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                hostile.paths.append(self.path)
                route = urlsplit(self.path).path.strip("/").split("/")[0]
                with suppress(OSError):  # the client hung up on us, as it should
                    getattr(self, "answer_" + route.replace("-", "_"), self.answer_secret)()

            def answer_trickle(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                self._drip(b" ")

            def answer_slow_headers(self) -> None:
                self.wfile.write(b"HTTP/1.0 200 OK\r\n")
                # Slower than body bytes: http.client stops at 100 headers, not at a deadline.
                self._drip(b"X-Pad: a\r\n", every=0.2)

            def _drip(self, piece: bytes, every: float = 0.05) -> None:
                stop = time.monotonic() + TRICKLE_FOR
                while time.monotonic() < stop:
                    self.wfile.write(piece)
                    self.wfile.flush()
                    time.sleep(every)

            def answer_big(self) -> None:  # 3 MiB, no Content-Length: counted as it comes
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                for _ in range(48):
                    self.wfile.write(b" " * 65536)

            def answer_cut(self) -> None:  # promises 5000 bytes, sends 100, closes
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "5000")
                self.end_headers()
                self.wfile.write(b"{" + b" " * 99)
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)

            def answer_redirect(self) -> None:
                self.send_response(302)
                self.send_header("Location", hostile.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def answer_secret(self) -> None:  # an internal service's answer, with its secrets
                body = json.dumps({"type": SECRET, "title": SECRET, "detail": SECRET}).encode()
                self.send_response(418, f"{SECRET} internal admin")
                self.send_header("Content-Type", "application/json")
                self.send_header("Server", f"{SECRET}-httpd/1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = Server(("127.0.0.1", 0), Handler)
        # A short poll: shutdown() waits for it (0.5 s by default) in each test's teardown.
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.stop()


@pytest.fixture
def bystander():
    """A second server (an internal service) that a redirect points at."""
    server = Hostile()
    yield server
    server.stop()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status_entry(url: str) -> dict[str, Any]:
    return {
        "id": f"{url}#7",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": url,
    }


def status_cache(*allowed: str) -> StatusListCache:
    verifier = Verifier(DidResolver())
    return StatusListCache(verifier.verify_status_list, short_ttl=0.0, policy=FetchPolicy(allowed))


def status_failure(cache: StatusListCache, url: str) -> VerificationError:
    with pytest.raises(VerificationError) as failure:
        cache.get(url)
    return failure.value


def assert_no_echo(text: str) -> None:
    assert SECRET not in text and "418" not in text and "internal admin" not in text


# -- the policy itself ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.8.9.10",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
    ],
)
def test_internal_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_internet_addresses_are_public(address):
    assert is_public_address(address)


# -- refused before any connection ----------------------------------------------------------------


def _internal_urls(hostile: Hostile) -> list[str]:
    port = hostile.port
    return [
        f"{hostile.url}/status/1",  # loopback, not allow-listed
        f"http://localhost:{port}/status/1",  # a name that resolves to loopback
        f"http://[::ffff:127.0.0.1]:{port}/status/1",  # IPv4-mapped IPv6
        f"http://2130706433:{port}/status/1",  # 127.0.0.1 as one integer
        f"http://127.1:{port}/status/1",  # short form
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",  # cloud metadata
        "http://10.0.0.1/status/1",  # private
        "http://[fe80::1]/status/1",  # link-local
    ]


def test_status_lists_on_internal_hosts_are_refused_without_a_connection(hostile):
    cache = status_cache()  # the suite's services only: none here
    for url in _internal_urls(hostile):
        began = time.monotonic()
        failure = status_failure(cache, url)
        assert failure.slug == errors.STATUS_UNAVAILABLE, url
        assert "not allowed" in failure.detail, (url, failure.detail)
        assert time.monotonic() - began < 0.5, url  # no connection attempt, no timeout
    assert hostile.connections == 0


def test_public_hosts_mode_still_refuses_every_internal_address(hostile):
    """With public hosts allowed, the addresses a name resolves to are checked when the socket
    is opened: ``localhost`` and the metadata address stay out."""
    verifier = Verifier(DidResolver())
    cache = StatusListCache(verifier.verify_status_list, policy=FetchPolicy(public=True))
    for url in _internal_urls(hostile):
        failure = status_failure(cache, url)
        assert "not allowed" in failure.detail, (url, failure.detail)
    assert hostile.connections == 0


def test_did_web_on_internal_hosts_is_refused_without_a_connection(hostile):
    resolver = DidResolver()
    for did in (
        f"did:web:127.0.0.1%3A{hostile.port}",
        f"did:web:localhost%3A{hostile.port}:users:alice",
        "did:web:169.254.169.254",
    ):
        with pytest.raises(VerificationError) as failure:
            resolver.resolve(did)
        assert failure.value.slug == errors.DID_RESOLUTION_FAILED
        assert "not allowed" in failure.value.detail
    assert hostile.connections == 0


def test_wallet_links_to_internal_hosts_are_refused_without_a_connection(hostile):
    for url in (f"{hostile.url}/i/abc", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(DomainError) as failure:
            invitations.resolve(url)  # a wallet with no hosts configured opens none
        assert problem_of(failure.value).status == 400 and failure.value.slug == "link-not-allowed"
    assert hostile.connections == 0


def test_flist_urls_on_internal_hosts_are_refused_without_a_connection(hostile):
    for url in (f"{hostile.url}/a.flist", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(DomainError) as failure:
            fetch_flist(url, max_bytes=1000, timeout=5)
        answer = problem_of(failure.value)
        assert (answer.status, answer.slug) == (422, "flist-host-not-allowed")
    assert hostile.connections == 0


# -- allow-listed hosts that misbehave ------------------------------------------------------------


@pytest.mark.slow  # waits out the real total deadline
def test_a_trickling_status_list_is_cut_at_the_total_deadline(hostile):
    cache = status_cache(hostile.url)
    began = time.monotonic()
    failure = status_failure(cache, f"{hostile.url}/trickle")
    elapsed = time.monotonic() - began
    assert failure.slug == errors.STATUS_UNAVAILABLE
    assert elapsed < STATUS_DEADLINE + MARGIN, elapsed


@pytest.mark.slow
def test_a_trickling_did_web_host_is_cut_at_the_total_deadline(hostile):
    resolver = DidResolver(web_override={"slow.example": f"{hostile.url}/slow-headers"})
    began = time.monotonic()
    with pytest.raises(VerificationError) as failure:
        resolver.resolve("did:web:slow.example")
    assert failure.value.slug == errors.DID_RESOLUTION_FAILED
    assert time.monotonic() - began < STATUS_DEADLINE + MARGIN


@pytest.mark.slow
def test_a_trickling_flist_and_wallet_link_are_cut_at_the_deadline(hostile):
    policy = FetchPolicy([hostile.url])
    began = time.monotonic()
    with pytest.raises(DomainError) as failure:
        fetch_flist(f"{hostile.url}/trickle", max_bytes=10**6, timeout=1.0, policy=policy)
    assert failure.value.slug == "flist-unreachable"
    assert time.monotonic() - began < 1.0 + MARGIN
    fetcher = invitations.link_fetcher(policy)
    began = time.monotonic()
    with pytest.raises(DomainError) as failure:
        invitations.resolve(f"{hostile.url}/slow-headers", fetcher=fetcher)
    assert failure.value.slug == "invitation-unreachable"
    assert time.monotonic() - began < invitations.LINK_DEADLINE + MARGIN


def test_an_oversized_answer_is_cut_at_the_size_cap(hostile):
    failure = status_failure(status_cache(hostile.url), f"{hostile.url}/big")
    assert failure.slug == errors.STATUS_UNAVAILABLE
    assert failure.detail == "the status list could not be fetched (too large)"
    resolver = DidResolver(web_override={"big.example": f"{hostile.url}/big"})
    with pytest.raises(VerificationError) as did_failure:
        resolver.resolve("did:web:big.example")
    assert did_failure.value.detail.endswith("could not be fetched (too large)")
    with pytest.raises(DomainError) as flist_failure:
        fetch_flist(
            f"{hostile.url}/big", max_bytes=4096, timeout=5, policy=FetchPolicy([hostile.url])
        )
    assert flist_failure.value.slug == "flist-too-large"


def test_a_redirect_is_not_followed(hostile, bystander):
    hostile.location = f"{bystander.url}/status/1"
    # Both hosts allow-listed: the redirect rule, not the allow-list, stops the second fetch.
    failure = status_failure(status_cache(hostile.url, bystander.url), f"{hostile.url}/redirect")
    assert failure.slug == errors.STATUS_UNAVAILABLE
    assert failure.detail == "the status list could not be fetched (redirect not followed)"
    assert bystander.connections == 0


def test_wallet_and_flist_redirects_are_checked_like_the_first_hop(hostile, bystander):
    hostile.location = f"{bystander.url}/internal"
    policy = FetchPolicy([hostile.url])  # the bystander is not allow-listed
    with pytest.raises(DomainError) as failure:
        invitations.resolve(f"{hostile.url}/redirect", fetcher=invitations.link_fetcher(policy))
    assert failure.value.slug == "link-not-allowed"
    with pytest.raises(DomainError) as failure:
        fetch_flist(f"{hostile.url}/redirect", max_bytes=1000, timeout=5, policy=policy)
    assert failure.value.slug == "flist-host-not-allowed"
    assert bystander.connections == 0
    hostile.location = "http://169.254.169.254/latest/meta-data/"
    with pytest.raises(DomainError) as failure:
        invitations.resolve(f"{hostile.url}/redirect", fetcher=invitations.link_fetcher(policy))
    assert failure.value.slug == "link-not-allowed"


def test_errors_say_nothing_of_what_the_remote_answered(hostile):
    cache = status_cache(hostile.url)
    failure = status_failure(cache, f"{hostile.url}/secret")
    assert failure.detail == "the status list could not be fetched (HTTP error)"
    resolver = DidResolver(web_override={"leaky.example": f"{hostile.url}/secret"})
    with pytest.raises(VerificationError) as did_failure:
        resolver.resolve("did:web:leaky.example")
    assert_no_echo(did_failure.value.detail)
    policy = FetchPolicy([hostile.url])
    with pytest.raises(DomainError) as link_failure:
        invitations.resolve(f"{hostile.url}/secret", fetcher=invitations.link_fetcher(policy))
    assert_no_echo(json.dumps(problem_of(link_failure.value).to_dict()))
    with pytest.raises(DomainError) as flist_failure:
        fetch_flist(f"{hostile.url}/secret", max_bytes=1000, timeout=5, policy=policy)
    assert_no_echo(json.dumps(problem_of(flist_failure.value).to_dict()))


@pytest.mark.slow  # a read that times out waits out the real timeout
def test_refused_reset_and_timed_out_read_the_same(hostile):
    """No port or service oracle: a closed port, a connection closed mid-body and a host too
    slow to answer give one and the same error."""
    closed = f"http://127.0.0.1:{closed_port()}"
    cache = status_cache(hostile.url, closed)
    details = {
        status_failure(cache, f"{closed}/status/1").detail,
        status_failure(cache, f"{hostile.url}/cut").detail,
        status_failure(cache, f"{hostile.url}/slow-headers").detail,
    }
    assert details == {"the status list could not be fetched (unreachable or too slow)"}


def test_status_fetch_locks_stay_bounded():
    cache = status_cache()
    for i in range(10_000):  # distinct URLs, as anyone may put in credentials
        with pytest.raises(VerificationError):
            cache.get(f"http://127.0.0.1:9/status/{i}")
    assert len(cache._url_locks) <= 256
    assert len(cache._lists) <= cache.max_lists


# -- through the VC-API -------------------------------------------------------------------------


@pytest.fixture
def vc_api(settings, db, hostile):
    app = create_app(
        {
            "CREDGATE_SETTINGS": settings,
            "DB_SESSION_FACTORY": db,
            "SERVICE_URLS": {},
            "FETCH_ALLOW": [hostile.url],  # misbehaving, but allowed: it must still be survived
            "VERIFIER_TRUST": StaticTrustRegistry(onboarding_authority=AUTHORITY.did),
        }
    )
    return app.test_client()


def _verify(client, credential: dict[str, Any]):
    return client.post(
        "/credentials/verify",
        data=json.dumps({"verifiableCredential": credential}),
        content_type="application/json",
    )


@pytest.mark.db
def test_a_connection_closed_mid_body_is_a_problem_document_not_a_500(vc_api, hostile):
    credential = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status_entry(f"{hostile.url}/cut")
    )
    response = _verify(vc_api, credential)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.json
    assert body["verified"] is False
    assert PROBLEMS + errors.STATUS_UNAVAILABLE in [e["type"] for e in body["errors"]]
    assert hostile.paths == ["/cut"]


@pytest.mark.db
def test_anonymous_verify_requests_reach_no_internal_host(vc_api, hostile, bystander):
    """The VC-API is anonymous: its status lists and did:web issuers are fetched only from
    allow-listed hosts, and its answer says nothing of what a host answered."""
    metadata = status_entry("http://169.254.169.254/latest/meta-data/")
    internal = status_entry(f"{bystander.url}/status/1")
    for entry in (metadata, internal):
        credential = credgate_credential("RoleCredential", AUTHORITY, HOLDER.did, status=entry)
        began = time.monotonic()
        response = _verify(vc_api, credential)
        assert response.status_code == 400 and time.monotonic() - began < 1.0
        assert PROBLEMS + errors.STATUS_UNAVAILABLE in [e["type"] for e in response.json["errors"]]
    assert bystander.connections == 0
    leaky = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status_entry(f"{hostile.url}/secret")
    )
    response = _verify(vc_api, leaky)
    assert response.status_code == 400
    assert_no_echo(response.get_data(as_text=True))


def test_nothing_is_fetched_for_a_credential_whose_proof_failed(hostile):
    verifier = Verifier(DidResolver())
    verifier.status = StatusListCache(
        verifier.verify_status_list, policy=FetchPolicy([hostile.url])
    )
    credential = credgate_credential(
        "RoleCredential", AUTHORITY, HOLDER.did, status=status_entry(f"{hostile.url}/status/1")
    )
    credential["credentialSubject"]["roles"] = ["Governance"]  # altered after signing
    result = verifier.verify_credential(credential)
    assert not result.verified and errors.BAD_SIGNATURE in result.error_types()
    assert hostile.connections == 0
