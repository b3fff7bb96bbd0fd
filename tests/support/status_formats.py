"""Status lists in every format the verifier takes, published from a loopback server (shared by
tests/verifier/test_status_lists.py and tests/security/test_status_list_jwt.py).

Formats: ``ld`` (Data Integrity proof, JSON-LD), ``vc+jwt`` (VC-JOSE-COSE: the JWT payload is the
credential), ``vc-jwt`` (a VC-JWT with a ``vc`` claim, as walt.id and EBSI publish lists) and
``enveloped`` (an ``EnvelopedVerifiableCredential`` with a ``data:application/vc+jwt,`` id).
"""

from __future__ import annotations

import json
import time
from typing import Any

from verifier import jose
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.fetch import FetchPolicy
from verifier.status import StatusListCache, encode_bitstring
from verifier.testing import LoopbackServer, Party, QuietHandler, private_jwk

V2 = "https://www.w3.org/ns/credentials/v2"
FORMATS = ("ld", "vc+jwt", "vc-jwt", "enveloped")
JWT_FORMATS = ("vc+jwt", "vc-jwt", "enveloped")
MEDIA = {
    "ld": "application/vc+ld+json",
    "vc+jwt": "application/vc+jwt",
    "vc-jwt": "application/jwt",
    "enveloped": "application/vc+ld+json",
}


class ListServer(LoopbackServer):
    """Serves whatever bodies the test publishes, by path."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[str, bytes]] = {}
        owner = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                found = owner.bodies.get(self.path)
                if found is None:
                    self.reply(404)
                    return
                media, body = found
                self.reply(200, body, media)

        super().__init__(Handler)
        self.start()

    def publish(self, path: str, body: str | bytes | dict, media: str) -> str:
        if isinstance(body, dict):
            body = json.dumps(body)
        self.bodies[path] = (media, body.encode() if isinstance(body, str) else body)
        return self.url + path


def list_document(url: str, issuer: Party, bits: bytes, purpose: str = "revocation", **subject):
    return {
        "@context": [V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": "2025-01-01T00:00:00Z",
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": purpose,
            "encodedList": encode_bitstring(bits, "BitstringStatusList"),
            **subject,
        },
    }


def jwt_list(
    document: dict,
    signer: Party,
    *,
    kid: str | None = None,
    form: str = "vc+jwt",
    header: dict | None = None,
) -> str:
    """``document`` secured as a JWT by ``signer``'s key (``kid`` names it, by default the
    signer's own method)."""
    if form == "vc-jwt":
        vc = {k: v for k, v in document.items() if k not in ("issuer", "validFrom", "id")}
        payload = {
            "iss": document["issuer"],
            "jti": document["id"],
            "nbf": int(time.time()) - 60,
            "vc": vc,
        }
        typ = "JWT"
    else:
        payload, typ = document, "vc+jwt"
    head = {"alg": "EdDSA", "typ": typ, "kid": kid or signer.method, **(header or {})}
    return jose.sign(payload, private_jwk(signer), head)


def publish_list(
    server: ListServer, path: str, document: dict, signer: Party, form: str, **jwt_options
) -> str:
    if form == "ld":
        signed = signer.sign(
            document, proof_type="DataIntegrityProof", cryptosuite="eddsa-rdfc-2022"
        )
        return server.publish(path, signed, MEDIA[form])
    token = jwt_list(
        document, signer, form="vc+jwt" if form == "enveloped" else form, **jwt_options
    )
    if form == "enveloped":
        envelope = {
            "@context": [V2],
            "id": "data:application/vc+jwt," + token,
            "type": "EnvelopedVerifiableCredential",
        }
        return server.publish(path, envelope, MEDIA[form])
    return server.publish(path, token, MEDIA[form])


def entry(url: str, index: int, purpose: str = "revocation", **members) -> dict[str, Any]:
    return {
        "id": f"{url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": purpose,
        "statusListIndex": str(index),
        "statusListCredential": url,
        **members,
    }


def credential(issuer: Party, status: dict) -> dict:
    return issuer.sign(
        {
            "@context": [V2],
            "type": ["VerifiableCredential"],
            "issuer": issuer.did,
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:holder"},
            "credentialStatus": status,
        },
        proof_type="DataIntegrityProof",
        cryptosuite="eddsa-rdfc-2022",
    )


def make_verifier() -> Verifier:
    verifier = Verifier(DidResolver())
    verifier.status = StatusListCache(
        verifier.verify_status_list, policy=FetchPolicy(["127.0.0.1"]), short_ttl=0.0
    )
    return verifier


def bits_with(values: dict[int, int], size: int = 1, length: int = 16384) -> bytes:
    """A bitstring of ``length`` bytes with entry ``index`` (``size`` bits each) = value."""
    data = bytearray(length)
    for index, value in values.items():
        for offset in range(size):
            if value >> (size - 1 - offset) & 1:
                bit = index * size + offset
                data[bit // 8] |= 1 << (7 - bit % 8)
    return bytes(data)
