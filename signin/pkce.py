"""PKCE (RFC 7636) for the gateway's sign-in hand-off: the service keeps a verifier, the gateway
gets its S256 challenge. Shared by both sides (signin.handoff, gateway.handoff)."""

from __future__ import annotations

import base64
import hashlib
import re

# §4.1: 43–128 characters of the unreserved set; an S256 challenge is exactly 43 of base64url.
VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")


def s256(verifier: str) -> str:
    """The S256 code challenge of ``verifier`` (§4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")
