"""Typed client for the parts of ACA-Py's admin API that credgate uses.

Errors become :class:`AgentError` carrying ACA-Py's own message; an agent that does not answer in
time becomes :class:`AgentUnavailable`. Every call has a bounded timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

Record = dict[str, Any]

CONNECT_TIMEOUT = 3.0
READ_TIMEOUT = 30.0


class AgentError(Exception):
    """ACA-Py answered an admin call with an error status."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path} -> {status}: {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


class AgentUnavailable(AgentError):
    """The agent did not answer (not running, or too slow)."""

    def __init__(self, method: str, path: str, reason: str) -> None:
        super().__init__(method, path, 0, reason)


@dataclass(frozen=True)
class TenantWallet:
    wallet_id: str
    token: str


@dataclass(frozen=True)
class Invitation:
    oob_id: str
    invi_msg_id: str
    url: str
    message: Record


def _error_message(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        # aiohttp renders "400: <reason>"; keep just the reason.
        prefix = f"{response.status_code}: "
        return text.removeprefix(prefix) or response.reason
    if isinstance(body, dict):
        for key in ("message", "reason", "detail", "error"):
            if body.get(key):
                return str(body[key])
    return str(body)


class AdminClient:
    """One agent's admin API, as the base wallet or (with a token) as one tenant."""

    def __init__(
        self,
        url: str,
        api_key: str,
        *,
        token: str | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.token = token
        self._session = session or requests.Session()

    def for_tenant(self, token: str) -> AdminClient:
        """The same agent, acting as the tenant the token belongs to (shares the HTTP pool)."""
        return AdminClient(self.url, self.api_key, token=token, session=self._session)

    # -- transport ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float = READ_TIMEOUT,
    ) -> Any:
        headers = {"X-API-Key": self.api_key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = self._session.request(
                method,
                self.url + path,
                json=json,
                params=params,
                headers=headers,
                timeout=(CONNECT_TIMEOUT, timeout),
            )
        except requests.RequestException as exc:
            raise AgentUnavailable(method, path, f"{type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise AgentError(method, path, response.status_code, _error_message(response))
        if not response.content:
            return None
        return response.json()

    # -- status ------------------------------------------------------------------------------

    def is_ready(self, timeout: float = 1.0) -> bool:
        try:
            body = self.request("GET", "/status/ready", timeout=timeout)
        except AgentError:
            return False
        return bool(body and body.get("ready"))

    # -- multitenancy ------------------------------------------------------------------------

    def create_tenant(self, label: str, *, wallet_name: str | None = None) -> TenantWallet:
        body = self.request(
            "POST",
            "/multitenancy/wallet",
            json={
                "label": label,
                "wallet_name": wallet_name or label,
                "key_management_mode": "managed",
            },
        )
        return TenantWallet(wallet_id=body["wallet_id"], token=body["token"])

    def tenant_token(self, wallet_id: str) -> str:
        return self.request("POST", f"/multitenancy/wallet/{wallet_id}/token", json={})["token"]

    def delete_tenant(self, wallet_id: str) -> None:
        self.request("POST", f"/multitenancy/wallet/{wallet_id}/remove", json={})

    # -- DIDs --------------------------------------------------------------------------------

    def create_did_key(self) -> str:
        body = self.request(
            "POST", "/wallet/did/create", json={"method": "key", "options": {"key_type": "ed25519"}}
        )
        return body["result"]["did"]

    # -- out-of-band and connections ---------------------------------------------------------

    def create_invitation(
        self,
        *,
        label: str | None = None,
        handshake: bool = True,
        attachments: list[Record] | None = None,
        multi_use: bool = False,
    ) -> Invitation:
        payload: Record = {"use_public_did": False}
        if handshake:
            payload["handshake_protocols"] = ["https://didcomm.org/didexchange/1.1"]
        if attachments:
            payload["attachments"] = attachments
        if label:
            payload["my_label"] = label
        body = self.request(
            "POST",
            "/out-of-band/create-invitation",
            json=payload,
            params={"multi_use": str(multi_use).lower()},
        )
        return Invitation(
            oob_id=body["oob_id"],
            invi_msg_id=body["invi_msg_id"],
            url=body["invitation_url"],
            message=body["invitation"],
        )

    def receive_invitation(self, invitation: Record, *, auto_accept: bool = True) -> Record:
        return self.request(
            "POST",
            "/out-of-band/receive-invitation",
            json=invitation,
            params={"auto_accept": str(auto_accept).lower(), "use_existing_connection": "true"},
        )

    def connection(self, connection_id: str) -> Record:
        return self.request("GET", f"/connections/{connection_id}")

    # -- issue-credential 2.0 (ld_proof) -----------------------------------------------------

    def send_ld_proof_offer(
        self,
        connection_id: str,
        credential: Record,
        options: Record,
        *,
        comment: str = "",
        auto_issue: bool = True,
    ) -> Record:
        return self.request(
            "POST",
            "/issue-credential-2.0/send-offer",
            json={
                "connection_id": connection_id,
                "comment": comment,
                "auto_issue": auto_issue,
                "auto_remove": False,
                "filter": {"ld_proof": {"credential": credential, "options": options}},
            },
        )

    def create_ld_proof_offer(
        self, credential: Record, options: Record, *, comment: str = "", auto_issue: bool = True
    ) -> Record:
        """A connection-free offer, to attach to an out-of-band invitation."""
        return self.request(
            "POST",
            "/issue-credential-2.0/create-offer",
            json={
                "comment": comment,
                "auto_issue": auto_issue,
                "auto_remove": False,
                "filter": {"ld_proof": {"credential": credential, "options": options}},
            },
        )

    def issue_credential(self, cred_ex_id: str) -> Record:
        """Sign and send the credential of a record in ``request-received``."""
        return self.request("POST", f"/issue-credential-2.0/records/{cred_ex_id}/issue", json={})

    def delete_credential_exchange(self, cred_ex_id: str) -> None:
        self.request("DELETE", f"/issue-credential-2.0/records/{cred_ex_id}")

    def credential_exchanges(self, *, thread_id: str | None = None) -> list[Record]:
        """Exchange records (``cred_ex_record`` of each result), optionally of one thread."""
        params = {"thread_id": thread_id} if thread_id else None
        results = self.request("GET", "/issue-credential-2.0/records", params=params)["results"]
        return [result["cred_ex_record"] for result in results]

    def credential_exchange(self, cred_ex_id: str) -> Record:
        return self.request("GET", f"/issue-credential-2.0/records/{cred_ex_id}")

    def send_credential_request(self, cred_ex_id: str, *, holder_did: str | None = None) -> Record:
        """Request the offered credential; ``holder_did`` (a did:key) becomes its subject when
        the offer left the subject's id open."""
        body = {"holder_did": holder_did} if holder_did else {}
        path = f"/issue-credential-2.0/records/{cred_ex_id}/send-request"
        return self.request("POST", path, json=body)

    def store_credential(self, cred_ex_id: str, credential_id: str | None = None) -> Record:
        payload = {"credential_id": credential_id} if credential_id else {}
        path = f"/issue-credential-2.0/records/{cred_ex_id}/store"
        return self.request("POST", path, json=payload)

    def credential_problem_report(self, cred_ex_id: str, description: str) -> None:
        self._problem_report("issue-credential-2.0", cred_ex_id, description)

    def w3c_credentials(self, query: Record | None = None) -> list[Record]:
        return self.request("POST", "/credentials/w3c", json=query or {})["results"]

    # -- JSON-LD ----------------------------------------------------------------------------

    def issue_vc(self, credential: Record, options: Record) -> Record:
        """Sign ``credential`` with the (tenant's) key its issuer DID names; no exchange."""
        body = {"credential": credential, "options": options}
        return self.request("POST", "/vc/credentials/issue", json=body)["verifiableCredential"]

    def sign_jwt(
        self, payload: Record, *, did: str, headers: Record | None = None, timeout: float = 10.0
    ) -> str:
        """A compact JWS over ``payload`` by the wallet key of ``did`` (ACA-Py sets ``alg`` and a
        ``kid`` of the form ``did#fragment``; ``headers`` adds others, e.g. ``typ``)."""
        body = {"did": did, "headers": headers or {}, "payload": payload}
        return self.request("POST", "/wallet/jwt/sign", json=body, timeout=timeout)

    def sign_sd_jwt(
        self,
        payload: Record,
        *,
        did: str,
        non_sd: list[str],
        headers: Record | None = None,
        timeout: float = 10.0,
    ) -> str:
        """An SD-JWT (``<jws>~<disclosure>~...~``): every claim path not in ``non_sd`` becomes
        selectively disclosable, recursively (ACA-Py never discloses iss, iat, exp, cnf)."""
        body = {"did": did, "headers": headers or {}, "payload": payload, "non_sd_list": non_sd}
        return self.request("POST", "/wallet/sd-jwt/sign", json=body, timeout=timeout)

    def verify_credential(self, credential: Record) -> Record:
        body = {"verifiableCredential": credential}
        return self.request("POST", "/vc/credentials/verify", json=body)

    # -- issue-credential 2.0 (holder) ------------------------------------------------------

    def holder_offers(self, *, thread_id: str | None = None) -> list[Record]:
        """This wallet's credential exchanges waiting for its decision (``offer-received``)."""
        params = {"role": "holder", "state": "offer-received"}
        if thread_id:
            params["thread_id"] = thread_id
        results = self.request("GET", "/issue-credential-2.0/records", params=params)["results"]
        return [result["cred_ex_record"] for result in results]

    def request_offered_credential(self, cred_ex_id: str, holder_did: str | None) -> Record:
        """Accept an offer; ``holder_did`` becomes the subject of a credential whose subject
        the issuer left open (late binding), and is left out otherwise."""
        path = f"/issue-credential-2.0/records/{cred_ex_id}/send-request"
        return self.request("POST", path, json={"holder_did": holder_did} if holder_did else {})

    def store_w3c_credential(self, credential: Record) -> str:
        """Keep a signed credential in the wallet without an exchange (a wallet import)."""
        body = self.request(
            "POST", "/vc/credentials/store", json={"verifiableCredential": credential}
        )
        return body["credentialId"]

    def delete_w3c_credential(self, record_id: str) -> None:
        self.request("DELETE", f"/credential/w3c/{record_id}")

    # -- present-proof 2.0 (holder) ---------------------------------------------------------

    def presentation_exchange(self, pres_ex_id: str) -> Record:
        return self.request("GET", f"/present-proof-2.0/records/{pres_ex_id}")

    def presentation_requests(self, *, thread_id: str | None = None) -> list[Record]:
        """Proof requests this wallet received and has not answered (``request-received``)."""
        params = {"role": "prover", "state": "request-received"}
        if thread_id:
            params["thread_id"] = thread_id
        return self.request("GET", "/present-proof-2.0/records", params=params)["results"]

    def send_presentation(self, pres_ex_id: str, spec: Record) -> Record:
        """Answer a request: ``spec`` is the format's part, e.g. ``{"dif": {"record_ids": ..}}``."""
        path = f"/present-proof-2.0/records/{pres_ex_id}/send-presentation"
        return self.request("POST", path, json=spec)

    def presentation_problem_report(self, pres_ex_id: str, description: str) -> None:
        """Refuse a request: the verifier's record goes to ``abandoned`` with ``description``."""
        self._problem_report("present-proof-2.0", pres_ex_id, description)

    def _problem_report(self, protocol: str, exchange_id: str, description: str) -> None:
        """End an exchange of ``protocol`` with a problem report telling ``description``."""
        path = f"/{protocol}/records/{exchange_id}/problem-report"
        self.request("POST", path, json={"description": description})

    # -- present-proof 2.0 (verifier) -------------------------------------------------------

    def create_presentation_request(
        self,
        definition: Record,
        *,
        challenge: str,
        domain: str | None = None,
        comment: str = "",
    ) -> Record:
        """A connectionless DIF request (attach it to an out-of-band invitation); ACA-Py wants
        ``challenge`` as a UUID4. We verify presentations ourselves: no auto-verify."""
        options: Record = {"challenge": challenge}
        if domain:
            options["domain"] = domain
        return self.request(
            "POST",
            "/present-proof-2.0/create-request",
            json={
                "comment": comment,
                "presentation_request": {
                    "dif": {"options": options, "presentation_definition": definition}
                },
                "auto_verify": False,
                "auto_remove": False,
            },
        )

    def delete_presentation_exchange(self, pres_ex_id: str) -> None:
        self.request("DELETE", f"/present-proof-2.0/records/{pres_ex_id}")
