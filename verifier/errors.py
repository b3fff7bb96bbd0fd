"""Stable error types of the verifier.

Every reason a credential or presentation fails verification has one slug, reported as the
``type`` of an RFC 9457 problem detail (``https://w3id.org/credgate/problems/<slug>``) in VC-API
results and in problem documents. Clients switch on these; never rename one.
"""

from __future__ import annotations

from typing import Any

from credgate.problem_types import type_uri

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

ALL = tuple(
    value
    for name, value in sorted(globals().items())
    if name.isupper() and isinstance(value, str) and name != "PROBLEM_BASE"
)

TITLES: dict[str, str] = {
    MALFORMED_JSON: "Malformed JSON",
    PAYLOAD_TOO_LARGE: "Payload too large",
    INVALID_REQUEST: "Invalid request",
    INVALID_CREDENTIAL: "Invalid credential",
    INVALID_PRESENTATION: "Invalid presentation",
    UNSUPPORTED_FORMAT: "Unsupported format",
    ALG_NONE: "Unsecured JWT",
    UNKNOWN_CONTEXT: "Unknown JSON-LD context",
    UNDEFINED_TERM: "Undefined JSON-LD term",
    INVALID_JSONLD: "Invalid JSON-LD",
    HOSTILE_GRAPH: "Graph too costly to canonicalize",
    UNSUPPORTED_JSONLD: "Unsupported JSON-LD construct",
    PROOF_MISSING: "Proof missing",
    UNSUPPORTED_PROOF: "Unsupported proof type",
    MALFORMED_PROOF: "Malformed proof",
    BAD_SIGNATURE: "Bad signature",
    PROOF_PURPOSE_MISMATCH: "Proof purpose mismatch",
    VERIFICATION_METHOD_NOT_FOUND: "Verification method not found",
    DID_RESOLUTION_FAILED: "DID resolution failed",
    UNSUPPORTED_DID_METHOD: "Unsupported DID method",
    ISSUER_MISMATCH: "Proof not made by the issuer",
    CHALLENGE_MISSING: "Challenge missing",
    CHALLENGE_MISMATCH: "Wrong challenge",
    CHALLENGE_UNKNOWN: "Unknown challenge",
    CHALLENGE_REUSED: "Challenge already used",
    CHALLENGE_EXPIRED: "Challenge expired",
    DOMAIN_MISMATCH: "Wrong domain",
    HOLDER_MISMATCH: "Holder is not the subject",
    DUPLICATE_CREDENTIAL: "Two credentials share an id",
    EXPIRED: "Credential expired",
    NOT_YET_VALID: "Credential not yet valid",
    REVOKED: "Credential revoked",
    SUSPENDED: "Credential suspended",
    STATUS_UNAVAILABLE: "Credential status unavailable",
    INVALID_STATUS: "Invalid credential status",
    STATUS_MISSING: "Credential has no status entry",
    UNTRUSTED_ISSUER: "Untrusted issuer",
    ISSUER_NOT_KCIT_COMPANY: "Issuer is not a KCIT-identified company",
    COMPANY_INACTIVE: "Issuing company is not active",
    POWER_NOT_GRANTED: "Power not granted to the company",
    DOMAIN_MISSING: "Domain missing",
}


class VerificationError(Exception):
    """One reason verification fails. Raised by the pure checks, collected into results."""

    def __init__(self, slug: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.slug = slug
        self.detail = detail
        self.extra = extra

    @property
    def title(self) -> str:
        return TITLES.get(self.slug, self.slug)

    def to_problem(self) -> dict[str, Any]:
        """The RFC 9457 problem detail that VC-API results carry in ``errors``."""
        body: dict[str, Any] = {"type": type_uri(self.slug), "title": self.title}
        body["detail"] = self.detail
        body.update(self.extra)
        return body

    def __repr__(self) -> str:
        return f"VerificationError({self.slug!r}, {self.detail!r})"


# -- JWT-secured credentials (SD-JWT VC, VC-JWT) and OpenID4VP --------------------------------
UNSUPPORTED_ALGORITHM = "unsupported-algorithm"  # HS* (a shared secret proves nothing) or unknown
INVALID_JWT = "invalid-jwt"  # not a compact JWS, undecodable header or payload, wrong typ
DISCLOSURE_MISMATCH = "disclosure-mismatch"  # a disclosure the issuer did not sign, or repeated
KB_JWT_MISSING = "kb-jwt-missing"  # an SD-JWT presented without key binding
SD_HASH_MISMATCH = "sd-hash-mismatch"  # the KB-JWT binds another SD-JWT or other disclosures
AUDIENCE_MISMATCH = "audience-mismatch"  # a KB-JWT or VP JWT made for another verifier
HOLDER_KEY_MISSING = "holder-key-missing"  # an SD-JWT without cnf.jwk: anyone could present it

_JWT_SLUGS = (UNSUPPORTED_ALGORITHM, INVALID_JWT, DISCLOSURE_MISMATCH, KB_JWT_MISSING,
              SD_HASH_MISMATCH, AUDIENCE_MISMATCH, HOLDER_KEY_MISSING)  # fmt: skip
ALL = ALL + _JWT_SLUGS
TITLES.update({
    UNSUPPORTED_ALGORITHM: "Unsupported signature algorithm",
    INVALID_JWT: "Invalid JWT",
    DISCLOSURE_MISMATCH: "Disclosure not signed by the issuer",
    KB_JWT_MISSING: "Key binding missing",
    SD_HASH_MISMATCH: "Key binding for another presentation",
    AUDIENCE_MISMATCH: "Made for another verifier",
    HOLDER_KEY_MISSING: "Credential not bound to a holder key",
})  # fmt: skip
