"""Checking a declared public DID with the verifier's resolver: a did:web document must resolve
(bounded fetch, no redirects; loopback deployments map hosts with ``DID_WEB_OVERRIDE``) and list
the declared key for ``assertionMethod`` — the relationship the company's credentials are signed
under; a did:key must decode to an Ed25519 key."""

from __future__ import annotations

from collections.abc import Mapping

from kcit.validation import single
from verifier.dids import DidResolver, find_method
from verifier.errors import VerificationError
from verifier.fetch import policy_from_config


def default_key(did: str) -> str:
    """A did:key's one key (``did:key:z..#z..``)."""
    return f"{did}#{did.removeprefix('did:key:')}"


def check_did(resolver: DidResolver, did: str, key_id: str | None) -> str:
    """The verified key id of ``did``; raises a field problem naming ``did`` or ``didKey``."""
    try:
        document = resolver.resolve(did)
    except VerificationError as exc:
        raise single("did", "did-not-resolvable", exc.detail) from None
    key_id = key_id or (default_key(did) if did.startswith("did:key:") else None)
    if key_id is None:
        raise single("didKey", "missing-field", "name the key the DID signs with")
    try:
        find_method(document, key_id, "assertionMethod")
    except VerificationError as exc:
        raise single("didKey", "did-key-not-found", exc.detail) from None
    return key_id


def resolver_from_config(config: Mapping) -> DidResolver:
    # Short TTL: a registrant who just fixed its DID document should not wait five minutes.
    return DidResolver(
        web_override=config.get("DID_WEB_OVERRIDE"),
        cache_ttl=5.0,
        policy=policy_from_config(config),
    )
