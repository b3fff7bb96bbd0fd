"""Access tokens: EdDSA (Ed25519) JWTs, five minutes, audience the gateway, bound to a grant.

The signing key is generated at first start into the secrets directory (a JWK, mode 0600) and
never leaves it; its public half is served as a JWK set so that apps behind the gateway can
check tokens themselves. A token names its grant (``grant``), the holder (``sub``) and the
status entries of the credentials (``status``): the gateway re-checks those on every request.

Verifying a JWT costs a signature check; tokens already verified are remembered (by their exact
bytes, until they expire), so a client that reuses its token pays it once.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cachetools import TTLCache
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwcrypto import jwk, jwt
from jwcrypto.common import JWException

from credgate.problems import Problem
from credgate.secrets import SecretConfigError, derive, ensure_private_dir

KEY_FILE = "gateway-token-key.jwk"
KEY_ENV = "CREDGATE_TOKEN_KEY"
ALGORITHM = "EdDSA"
MAX_TOKEN_LENGTH = 8192
#: Clock skew tolerated between gateway workers (jwcrypto's default is a minute).
LEEWAY = 5
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="credgate-gateway"'}


def load_or_create_key(secrets_dir: Path) -> jwk.JWK:
    """The gateway's Ed25519 signing key: from configuration when nodes share it, else created
    on first use in the secrets directory (atomically: two workers starting at once agree on one
    key). A configured key is never mixed with a node's file: a key left in ``var/`` is ignored."""
    configured = configured_key()
    if configured is not None:
        return configured
    ensure_private_dir(secrets_dir)
    path = secrets_dir / KEY_FILE
    try:
        return jwk.JWK.from_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        pass
    return _store_new(path, jwk.JWK.generate(kty="OKP", crv="Ed25519"))


def configured_key() -> jwk.JWK | None:
    """``CREDGATE_TOKEN_KEY`` (a private Ed25519 JWK as JSON), else one derived from
    ``CREDGATE_SECRET_KEY`` (an Ed25519 private key is any 32 bytes), else None. A configured
    value that is not a private Ed25519 key stops the service: it must not run on another key."""
    text = os.environ.get(KEY_ENV)
    if text:
        try:
            key = jwk.JWK.from_json(text)
        except (JWException, ValueError, TypeError) as exc:
            raise SecretConfigError(f"{KEY_ENV} is not a JWK") from exc
        if key.get("kty") != "OKP" or key.get("crv") != "Ed25519" or not key.has_private:
            raise SecretConfigError(f"{KEY_ENV} must be a private Ed25519 (OKP) JWK")
    else:
        seed = derive(KEY_FILE)
        if seed is None:
            return None
        key = jwk.JWK(
            kty="OKP",
            crv="Ed25519",
            d=_b64(seed),
            x=_b64(
                Ed25519PrivateKey.from_private_bytes(seed)
                .public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw)
            ),
        )
    exported = json.loads(key.export_private())
    exported["kid"] = key.thumbprint()
    return jwk.JWK(**exported)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _store_new(path: Path, key: jwk.JWK) -> jwk.JWK:
    exported = json.loads(key.export_private())
    exported["kid"] = key.thumbprint()  # RFC 7638: stable, and names the key in the JWT header
    text = json.dumps(exported)
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    try:
        os.link(tmp, path)  # fails if another process stored its key first: use that one
    except FileExistsError:
        text = path.read_text(encoding="utf-8")
    finally:
        tmp.unlink()
    return jwk.JWK.from_json(text)


@dataclass(frozen=True)
class TokenClaims:
    holder: str
    grant: str
    expires: float
    claims: dict[str, Any]


def _invalid(detail: str, slug: str = "invalid-token") -> Problem:
    return Problem(slug, "Invalid access token", 401, detail, headers=CHALLENGE)


class TokenService:
    def __init__(self, key: jwk.JWK, *, issuer: str, audience: str, ttl: float = 300.0) -> None:
        self.key = key
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl
        self._public = jwk.JWK(**json.loads(key.export_public()))
        self._verified: TTLCache[str, TokenClaims] = TTLCache(maxsize=20_000, ttl=ttl)
        self._lock = threading.Lock()

    @property
    def kid(self) -> str:
        return self.key.get("kid") or self.key.thumbprint()

    def jwks(self) -> dict[str, Any]:
        public = json.loads(self._public.export_public())
        public.update(kid=self.kid, alg=ALGORITHM, use="sig")
        return {"keys": [public]}

    def issue(self, *, holder: str, grant: str, status: list[str], expires_at: float) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": holder,
            "iat": now,
            "nbf": now,
            "exp": int(min(expires_at, now + self.ttl)),
            "jti": secrets.token_urlsafe(12),
            "grant": grant,
            "status": status,
        }
        token = jwt.JWT(header={"alg": ALGORITHM, "typ": "JWT", "kid": self.kid}, claims=claims)
        token.make_signed_token(self.key)
        return token.serialize()

    def read(self, token: str) -> TokenClaims:
        """The claims of a valid token, or a 401 problem saying what is wrong with it."""
        now = time.time()
        with self._lock:
            known = self._verified.get(token)
        if known is not None:
            if known.expires <= now:
                raise _invalid("the access token has expired", "token-expired")
            return known
        claims = self._verify(token)
        result = TokenClaims(claims["sub"], claims["grant"], float(claims["exp"]), claims)
        with self._lock:
            self._verified[token] = result
        return result

    def _verify(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_LENGTH or token.count(".") != 2:
            raise _invalid("the access token is not a compact JWS")
        header = _header(token)
        if str(header.get("alg", "")).lower() == "none":
            raise _invalid("unsecured tokens (alg none) are refused", "alg-none")
        if header.get("alg") != ALGORITHM:
            raise _invalid(f"alg {header.get('alg')!r} is not accepted; use {ALGORITHM}")
        try:
            parsed = jwt.JWT(
                algs=[ALGORITHM],
                check_claims={"iss": self.issuer, "aud": self.audience, "exp": None, "nbf": None},
                expected_type="JWS",
            )
            parsed.leeway = LEEWAY
            parsed.deserialize(token, self._public)
        except jwt.JWTExpired:
            raise _invalid("the access token has expired", "token-expired") from None
        except (JWException, ValueError, TypeError) as exc:
            raise _invalid(f"the access token does not verify: {type(exc).__name__}") from None
        try:
            claims = json.loads(parsed.claims)
        except ValueError:
            raise _invalid("the token's claims are not JSON") from None
        if not isinstance(claims.get("sub"), str) or not isinstance(claims.get("grant"), str):
            raise _invalid("the token names no holder or grant")
        return claims


def _header(token: str) -> dict[str, Any]:
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except ValueError:
        raise _invalid("the token header is not base64url JSON") from None
    if not isinstance(header, dict):
        raise _invalid("the token header is not an object")
    return header
