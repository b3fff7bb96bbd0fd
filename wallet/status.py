"""Live status of a stored credential: valid, revoked, suspended, expired (or not yet valid,
or unknown when its status list cannot be had).

Validity dates are read from the credential; status entries are checked against the published,
signed status lists through the verifier's :class:`~verifier.status.StatusListCache` (lists are
fetched with bounded timeouts and cached briefly, never a verdict). The holder needs no proof
check here: it verified nothing less when the credential arrived over DIDComm.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier import errors
from verifier.credentials import as_list, parse_datetime
from verifier.dids import DidResolver
from verifier.engine import Verifier
from verifier.errors import VerificationError
from verifier.fetch import FetchPolicy
from verifier.status import StatusListCache, check_entry
from verifier.trust import TrustRegistry

VALID = "valid"
REVOKED = "revoked"
SUSPENDED = "suspended"
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class LiveStatus:
    status: str
    detail: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "detail": self.detail}


class StatusChecker:
    def __init__(
        self,
        trust: TrustRegistry | None = None,
        *,
        url_override: Mapping[str, str] | None = None,
        ttl: float = 1.0,
        policy: FetchPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.trust = trust
        verifier = Verifier(DidResolver())
        self.cache = StatusListCache(
            verifier.verify_status_list,
            short_ttl=ttl,
            url_override=url_override,
            policy=policy,
            clock=clock,
        )

    def check(self, credential: Mapping[str, Any], now: datetime | None = None) -> LiveStatus:
        now = now or datetime.now(UTC)
        try:
            until = credential.get("expirationDate") or credential.get("validUntil")
            if until and parse_datetime(until, "expirationDate") < now:
                return LiveStatus(EXPIRED, f"expired on {until}")
            start = credential.get("validFrom") or credential.get("issuanceDate")
            if start and parse_datetime(start, "validFrom") > now:
                return LiveStatus(NOT_YET_VALID, f"valid from {start}")
        except VerificationError as exc:
            return LiveStatus(UNKNOWN, exc.detail)
        issuer = credential.get("issuer")
        issuer = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        trusted = self.trust.status_list_signers(str(issuer)) if self.trust else frozenset()
        for entry in as_list(credential.get("credentialStatus")):
            if not isinstance(entry, Mapping):
                return LiveStatus(UNKNOWN, "malformed status entry")
            try:
                check_entry(entry, str(issuer), self.cache, trusted)
            except VerificationError as exc:
                if exc.slug == errors.REVOKED:
                    return LiveStatus(REVOKED, "revoked by its issuer")
                if exc.slug == errors.SUSPENDED:
                    return LiveStatus(SUSPENDED, "suspended by its issuer")
                return LiveStatus(UNKNOWN, exc.detail)
        return LiveStatus(VALID)
