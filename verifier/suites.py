"""Proof suites: what bytes a proof signs, and how its signature is encoded.

Four suites, all Ed25519:

* ``Ed25519Signature2018`` — detached JWS (``b64: false``) over sha256(proof config) ||
  sha256(document), both RDFC-1.0 canonical N-Quads; what ACA-Py and didkit sign presentations
  with.
* ``Ed25519Signature2020`` — the same hash data, signature as multibase ``proofValue``.
* ``DataIntegrityProof`` + ``eddsa-rdfc-2022`` — as 2020, with ``cryptosuite`` in the config.
* ``DataIntegrityProof`` + ``eddsa-jcs-2022`` — JCS (RFC 8785) instead of RDF canonicalization.

Each suite is a small pure object: :meth:`Suite.hash_data` computes the intermediate values
(canonical documents and hashes, compared byte for byte with the W3C vectors),
:meth:`Suite.signing_input` the bytes Ed25519 signs, :meth:`Suite.signature` decodes the proof's
signature. :func:`sign` (tests, benchmarks, status-list fixtures) is the mirror image.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

import rfc8785
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from verifier import errors
from verifier.encoding import b64url_decode, b64url_encode, multibase_decode, multibase_encode
from verifier.errors import VerificationError
from verifier.jsonld import canonize
from verifier.rdfc import Budget

#: Fields of a proof that carry the signature, removed from the proof configuration.
SIGNATURE_FIELDS = ("proofValue", "jws", "signatureValue")
JWS_HEADER = {"alg": "EdDSA", "b64": False, "crit": ["b64"]}
_MAX_SAFE_INTEGER = 2**53  # JCS (rfc8785) takes integers strictly below this


@dataclass(frozen=True)
class HashData:
    """The intermediate values of one proof (named as in the vc-di-eddsa test vectors)."""

    canonical_proof_config: str
    canonical_document: str
    proof_hash: bytes
    document_hash: bytes

    @property
    def combined(self) -> bytes:
        return self.proof_hash + self.document_hash


# -- JCS --------------------------------------------------------------------------------------


def _plain_json(value: Any) -> bool:
    """True when Python's sorted, compact ``json.dumps`` equals RFC 8785 for ``value``: no
    floats, integers exactly representable as doubles, keys that sort the same by code point
    as by UTF-16 code unit (none beyond the BMP), no lone surrogates."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii() and any(0xD800 <= ord(c) <= 0xDFFF for c in item):
                return False
        elif isinstance(item, dict):
            for key, child in item.items():
                if not isinstance(key, str) or (
                    not key.isascii()
                    and any(ord(c) > 0xFFFF or 0xD800 <= ord(c) <= 0xDFFF for c in key)
                ):
                    return False
                stack.append(child)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) >= _MAX_SAFE_INTEGER:
                return False
        else:
            return False
    return True


def jcs(value: Any) -> bytes:
    """RFC 8785 canonical JSON. Plain documents take ``json.dumps`` (C, five times faster),
    which is byte-identical for them (tests compare with the ``rfc8785`` library)."""
    if _plain_json(value):
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
            "utf-8"
        )
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise VerificationError(
            errors.MALFORMED_PROOF, f"cannot canonicalize as JCS: {exc}"
        ) from None


# -- suites -----------------------------------------------------------------------------------


def proof_config(proof: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in proof.items() if k not in SIGNATURE_FIELDS}


# -- compact form -----------------------------------------------------------------------------

#: The JSON-LD keywords a signed document may use as keys (language value objects). ``id`` and
#: ``type`` are the contexts' aliases of ``@id`` and ``@type``: the keywords themselves are not.
_KEYWORD_KEYS = frozenset({"@context", "@value", "@language", "@direction"})
#: Terms of our contexts that expand to a property the verifier reads under another name.
_ALIASES = {"expiration": "expires"}


def check_compact(document: Any, where: str = "document") -> None:
    """Refuse a document that is not in the compact form the verifier reads.

    An RDF-canonicalized proof signs the graph, while the verifier reads JSON keys. Written as
    its IRI (``https://www.w3.org/2018/credentials#expirationDate``), a compact IRI
    (``cred:...``), a keyword (``@id`` for ``id``) or a term of an inline context, a property
    gives the very same triples, so the signature holds while the key the verifier reads is
    gone: an expired credential would revive, a subject or a domain would vanish. So only URL
    contexts (the bundled ones), and keys that are terms: no ``:``, no keyword but the value
    object's."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
            continue
        if not isinstance(item, Mapping):
            continue
        for key, value in item.items():
            if key == "@context":
                if not all(
                    isinstance(c, str) for c in (value if isinstance(value, list) else [value])
                ):
                    raise VerificationError(
                        errors.UNSUPPORTED_JSONLD, f"the {where} has an inline @context"
                    )
                continue
            if (
                not isinstance(key, str)
                or ":" in key
                or (key.startswith("@") and key not in _KEYWORD_KEYS)
            ):
                raise VerificationError(
                    errors.UNSUPPORTED_JSONLD,
                    f"the {where} names a property by {key!r}, not by a term of its contexts",
                )
            stack.append(value)


def check_compact_proof(config: Mapping[str, Any]) -> None:
    check_compact(config, "proof")
    for alias, name in _ALIASES.items():
        if alias in config:
            raise VerificationError(
                errors.UNSUPPORTED_JSONLD, f"the proof says {alias!r}; the term read is {name!r}"
            )


class Suite:
    proof_type: str = ""
    cryptosuite: str | None = None

    def hash_data(
        self, document: Mapping[str, Any], proof: Mapping[str, Any], budget: Budget | None = None
    ) -> HashData:
        """``document`` without its proof; ``proof`` with or without its signature field.
        ``budget`` bounds the canonicalization work (one budget for a whole request)."""
        check_compact(document)
        check_compact_proof(proof_config(proof))
        config = {**proof_config(proof), "@context": document.get("@context")}
        canonical_config = canonize(config, budget)
        canonical_document = canonize(document, budget)
        return HashData(
            canonical_config,
            canonical_document,
            sha256(canonical_config.encode("utf-8")).digest(),
            sha256(canonical_document.encode("utf-8")).digest(),
        )

    def signing_input(self, proof: Mapping[str, Any], data: HashData) -> bytes:
        return data.combined

    def signature(self, proof: Mapping[str, Any]) -> bytes:
        return _ed25519_signature(multibase_decode, proof.get("proofValue"), "proofValue")

    def attach(self, proof: dict[str, Any], data: HashData, key: SigningKey) -> dict[str, Any]:
        signature = key.sign(self.signing_input(proof, data)).signature
        return {**proof, "proofValue": multibase_encode(signature)}


class Ed25519Signature2020(Suite):
    proof_type = "Ed25519Signature2020"


class EddsaRdfc2022(Suite):
    proof_type = "DataIntegrityProof"
    cryptosuite = "eddsa-rdfc-2022"


class EddsaJcs2022(Suite):
    proof_type = "DataIntegrityProof"
    cryptosuite = "eddsa-jcs-2022"

    def hash_data(
        self, document: Mapping[str, Any], proof: Mapping[str, Any], budget: Budget | None = None
    ) -> HashData:
        config = proof_config(proof)
        if "@context" in config:
            # vc-di-eddsa §3.3.2: the document's contexts must begin with the proof's, and the
            # document is hashed with the proof's.
            proof_ctx = _as_list(config["@context"])
            document_ctx = _as_list(document.get("@context"))
            if document_ctx[: len(proof_ctx)] != proof_ctx:
                raise VerificationError(
                    errors.MALFORMED_PROOF, "the proof's @context is not a prefix of the document's"
                )
            document = {**document, "@context": config["@context"]}
        canonical_config = jcs(config).decode("utf-8")
        canonical_document = jcs(document).decode("utf-8")
        return HashData(
            canonical_config,
            canonical_document,
            sha256(canonical_config.encode("utf-8")).digest(),
            sha256(canonical_document.encode("utf-8")).digest(),
        )


class Ed25519Signature2018(Suite):
    proof_type = "Ed25519Signature2018"

    def _header(self, proof: Mapping[str, Any]) -> str:
        jws = proof.get("jws")
        if not isinstance(jws, str) or jws.count(".") != 2:
            raise VerificationError(errors.MALFORMED_PROOF, "jws is not a detached JWS")
        header_b64, payload, _signature = jws.split(".")
        if payload:
            raise VerificationError(errors.MALFORMED_PROOF, "jws must have a detached payload")
        try:
            header = json.loads(b64url_decode(header_b64))
        except ValueError:
            raise VerificationError(errors.MALFORMED_PROOF, "jws header is not JSON") from None
        if not isinstance(header, dict):
            raise VerificationError(errors.MALFORMED_PROOF, "jws header is not an object")
        if header.get("alg") in (None, "none"):
            raise VerificationError(errors.ALG_NONE, "jws header has alg none")
        if header != JWS_HEADER:
            raise VerificationError(
                errors.MALFORMED_PROOF,
                'jws header must be {"alg":"EdDSA","b64":false,"crit":["b64"]}',
            )
        return header_b64

    def signing_input(self, proof: Mapping[str, Any], data: HashData) -> bytes:
        return (self._header(proof) + ".").encode("ascii") + data.combined

    def signature(self, proof: Mapping[str, Any]) -> bytes:
        self._header(proof)  # checks that the jws has three parts
        return _ed25519_signature(b64url_decode, proof["jws"].split(".")[2], "jws signature")

    def attach(self, proof: dict[str, Any], data: HashData, key: SigningKey) -> dict[str, Any]:
        header_b64 = b64url_encode(json.dumps(JWS_HEADER).encode("utf-8"))
        signing_input = (header_b64 + ".").encode("ascii") + data.combined
        signature = key.sign(signing_input).signature
        return {**proof, "jws": f"{header_b64}..{b64url_encode(signature)}"}


SUITES: tuple[Suite, ...] = (
    Ed25519Signature2018(),
    Ed25519Signature2020(),
    EddsaRdfc2022(),
    EddsaJcs2022(),
)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def suite_for(proof: Mapping[str, Any]) -> Suite:
    proof_type = proof.get("type")
    cryptosuite = proof.get("cryptosuite")
    for suite in SUITES:
        if suite.proof_type == proof_type and (
            suite.cryptosuite is None or suite.cryptosuite == cryptosuite
        ):
            return suite
    name = f"{proof_type}/{cryptosuite}" if cryptosuite else str(proof_type)
    raise VerificationError(errors.UNSUPPORTED_PROOF, f"proof type {name} is not supported")


def _ed25519_signature(decode: Callable[[Any], bytes], value: Any, what: str) -> bytes:
    """``value`` decoded: an Ed25519 signature is 64 bytes; anything else is a malformed proof,
    named by ``what`` (the member it came from)."""
    try:
        signature = decode(value)
    except ValueError as exc:
        raise VerificationError(errors.MALFORMED_PROOF, f"{what}: {exc}") from None
    if len(signature) != 64:
        raise VerificationError(errors.MALFORMED_PROOF, f"{what} is not 64 bytes")
    return signature


def check_signature(public_key: bytes, message: bytes, signature: bytes) -> bool:
    try:
        VerifyKey(public_key).verify(message, signature)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


# -- signing (tests, benchmarks, fixtures) ----------------------------------------------------


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(
    document: Mapping[str, Any],
    key: SigningKey,
    verification_method: str,
    *,
    proof_type: str = "Ed25519Signature2020",
    cryptosuite: str | None = None,
    proof_purpose: str = "assertionMethod",
    created: str | None = None,
    **options: Any,
) -> dict[str, Any]:
    """A copy of ``document`` with one proof added (``options``: challenge, domain, ...)."""
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    proof: dict[str, Any] = {"type": proof_type}
    if cryptosuite:
        proof["cryptosuite"] = cryptosuite
    proof.update(
        created=created or _now(),
        verificationMethod=verification_method,
        proofPurpose=proof_purpose,
        **options,
    )
    if cryptosuite == "eddsa-jcs-2022" and "@context" in unsecured:
        proof["@context"] = unsecured["@context"]
    suite = suite_for(proof)
    return {**unsecured, "proof": suite.attach(proof, suite.hash_data(unsecured, proof), key)}
