"""What the database keeps of a bearer secret: its SHA-256, so a leaked table grants nothing.

Operator API tokens, certifiers' tokens, KCIT's follow links, depute's admin sessions and the
gateway's session cookies and one-time codes are all random secrets of high entropy, so a plain
(unkeyed, unsalted) SHA-256 is enough and lets a row be found by the hash of what is presented.
Every stored hash is made here, so they are byte-identical whichever service wrote them: the hex
digest of the UTF-8 bytes, 64 lower-case characters. No Flask, no database: the library layer may
import it too.
"""

from __future__ import annotations

import hashlib

__all__ = ["hash_token"]


def hash_token(token: str) -> str:
    """The hex SHA-256 of ``token``'s UTF-8 bytes."""
    return hashlib.sha256(token.encode()).hexdigest()
