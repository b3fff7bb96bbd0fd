"""Stable error types of the verifier.

Every reason a credential or presentation fails verification has one slug, reported as the
``type`` of an RFC 9457 problem detail (``https://w3id.org/credgate/problems/<slug>``) in VC-API
results and in problem documents. Clients switch on these; never rename one. Titles and meanings
live in the registry of problem types (:mod:`credgate.problem_types`), like every other slug's.
"""

from __future__ import annotations

from typing import Any

from credgate.errors import DomainError
from credgate.problem_types import problem_type, type_uri

# -- input ------------------------------------------------------------------------------------
MALFORMED_JSON = "malformed-json"
PAYLOAD_TOO_LARGE = "payload-too-large"
INVALID_REQUEST = "invalid-request"  # the VC-API request body has the wrong shape
INVALID_CREDENTIAL = "invalid-credential"  # VCDM structure rules (missing type, bad issuer, ...)
INVALID_PRESENTATION = "invalid-presentation"
UNSUPPORTED_FORMAT = "unsupported-format"  # e.g. an enveloped or JWT credential we do not take
ALG_NONE = "alg-none"  # an unsecured JWT

# -- JSON-LD ----------------------------------------------------------------------------------
UNKNOWN_CONTEXT = "unknown-context"  # a context URL that is not bundled
UNDEFINED_TERM = "undefined-term"  # a property or type the contexts do not define (unsigned!)
INVALID_JSONLD = "invalid-jsonld"
HOSTILE_GRAPH = "hostile-graph"  # canonicalization exceeded its work budget
UNSUPPORTED_JSONLD = "unsupported-jsonld"  # a JSON-LD construct the verifier refuses by design

# -- proofs -----------------------------------------------------------------------------------
PROOF_MISSING = "proof-missing"
UNSUPPORTED_PROOF = "unsupported-proof-type"  # proof type or cryptosuite we do not verify
MALFORMED_PROOF = "malformed-proof"  # missing or undecodable proof fields
BAD_SIGNATURE = "bad-signature"
PROOF_PURPOSE_MISMATCH = "proof-purpose-mismatch"
VERIFICATION_METHOD_NOT_FOUND = "verification-method-not-found"
DID_RESOLUTION_FAILED = "did-resolution-failed"
UNSUPPORTED_DID_METHOD = "unsupported-did-method"
ISSUER_MISMATCH = "issuer-mismatch"  # the proof's key is not controlled by the issuer

# -- presentations ----------------------------------------------------------------------------
CHALLENGE_MISSING = "challenge-missing"
CHALLENGE_MISMATCH = "challenge-mismatch"  # not the challenge the verifier expected
CHALLENGE_UNKNOWN = "challenge-unknown"  # never issued by us
CHALLENGE_REUSED = "challenge-reused"
CHALLENGE_EXPIRED = "challenge-expired"
DOMAIN_MISMATCH = "domain-mismatch"
HOLDER_MISMATCH = "holder-mismatch"  # the presentation is not signed by the credentials' subject
DUPLICATE_CREDENTIAL = "duplicate-credential"  # two credentials of one presentation share an id

# -- validity, status, trust ------------------------------------------------------------------
EXPIRED = "expired"
NOT_YET_VALID = "not-yet-valid"
REVOKED = "revoked"
SUSPENDED = "suspended"
STATUS_UNAVAILABLE = "status-unavailable"  # the status list could not be fetched or verified
INVALID_STATUS = "invalid-status"  # malformed status entry or status-list credential
STATUS_MISSING = "status-missing"  # a credgate credential without a status entry
UNTRUSTED_ISSUER = "untrusted-issuer"
ISSUER_NOT_KCIT_COMPANY = "issuer-not-kcit-company"  # attorney from a DID KCIT does not know
COMPANY_INACTIVE = "company-inactive"  # KCIT knows the company but it is suspended
POWER_NOT_GRANTED = "power-not-granted"  # an attorney power KCIT never gave the company
DOMAIN_MISSING = "domain-missing"  # a direct sign-in or token proof signed for no domain

# -- JWT-secured credentials (SD-JWT VC, VC-JWT) and OpenID4VP --------------------------------
UNSUPPORTED_ALGORITHM = "unsupported-algorithm"  # HS* (a shared secret proves nothing) or unknown
INVALID_JWT = "invalid-jwt"  # not a compact JWS, undecodable header or payload, wrong typ
DISCLOSURE_MISMATCH = "disclosure-mismatch"  # a disclosure the issuer did not sign, or repeated
KB_JWT_MISSING = "kb-jwt-missing"  # an SD-JWT presented without key binding
SD_HASH_MISMATCH = "sd-hash-mismatch"  # the KB-JWT binds another SD-JWT or other disclosures
AUDIENCE_MISMATCH = "audience-mismatch"  # a KB-JWT or VP JWT made for another verifier
HOLDER_KEY_MISSING = "holder-key-missing"  # an SD-JWT without cnf.jwk: anyone could present it

ALL = tuple(
    value for name, value in sorted(globals().items()) if name.isupper() and isinstance(value, str)
)

#: Each slug's title, from the registry.
TITLES: dict[str, str] = {slug: problem_type(slug).title for slug in ALL}


class VerificationError(DomainError):
    """One reason verification fails. Raised by the pure checks, collected into results; one that
    escapes to a route answers as its type's problem document."""

    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(slug, detail, **extra)

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem detail that VC-API results carry in ``errors``."""
        body: dict[str, Any] = {"type": type_uri(self.slug), "title": self.title}
        body["detail"] = self.detail
        body.update(self.extra)
        return body

    def __repr__(self) -> str:
        return f"VerificationError({self.slug!r}, {self.detail!r})"
