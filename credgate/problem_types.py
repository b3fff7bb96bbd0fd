"""The registry of problem types: every problem document the suite emits has a ``type`` of
``PROBLEM_BASE`` + one of the slugs below, with its title, default HTTP status and meaning.

One table, read by the routes (``Problem``'s defaults), by the one handler that maps domain
errors to problem documents (the status comes from here), by the verifier (its error titles) and
by ``docs/problems.md`` (generated from it: ``python -m credgate.problem_types``). Clients switch
on the slugs: never rename one. Flask-free, so libraries name their problem types without a web
stack. ``tests/suite/test_problem_registry.py`` fails on a slug the code uses but this table lacks.
"""

# One type a line, so the table reads as a table.
# ruff: noqa: E501

from __future__ import annotations

from enum import Enum

__all__ = [
    "PROBLEM_BASE",
    "PROBLEM_MEDIA_TYPE",
    "ProblemType",
    "markdown",
    "problem_type",
    "type_uri",
]

PROBLEM_BASE = "https://w3id.org/credgate/problems/"
PROBLEM_MEDIA_TYPE = "application/problem+json"


def type_uri(slug: str) -> str:
    return PROBLEM_BASE + slug


class ProblemType(Enum):
    """One problem type: its stable ``slug`` (the enum's value), ``title`` (RFC 9457: the same
    for every occurrence), default ``status`` and one-line ``meaning``. A route may answer with
    another status where the protocol it speaks says so; a domain error always gets this one."""

    def __new__(cls, slug: str, title: str, status: int, meaning: str) -> ProblemType:
        member = object.__new__(cls)
        member._value_ = slug
        member.slug = slug
        member.title = title
        member.status = status
        member.meaning = meaning
        return member

    @property
    def uri(self) -> str:
        return type_uri(self.slug)

    # -- HTTP and request bodies (credgate.problems, credgate.bodies) ------------------------------
    BAD_REQUEST = "bad-request", "Bad Request", 400, "the request is malformed (Werkzeug's 400)"
    UNAUTHORIZED = (
        "unauthorized",
        "Authentication required",
        401,
        "the route needs a credential or token the request lacks",
    )
    FORBIDDEN = "forbidden", "Forbidden", 403, "the caller is known but may not do this"
    NOT_FOUND = "not-found", "Not Found", 404, "no such route or resource"
    METHOD_NOT_ALLOWED = (
        "method-not-allowed",
        "Method Not Allowed",
        405,
        "the route does not take this method (see Allow)",
    )
    NOT_ACCEPTABLE = "not-acceptable", "Not Acceptable", 406, "no representation the client accepts"
    CONFLICT = "conflict", "Conflict", 409, "the request conflicts with the resource's state"
    PAYLOAD_TOO_LARGE = (
        "payload-too-large",
        "Payload too large",
        413,
        "the body (or a response the service fetched) is over its size limit",
    )
    UNSUPPORTED_MEDIA_TYPE = (
        "unsupported-media-type",
        "Unsupported media type",
        415,
        "the body is not application/json",
    )
    TOO_MANY_REQUESTS = (
        "too-many-requests",
        "Too Many Requests",
        429,
        "the client sends faster than the service takes",
    )
    HTTP_ERROR = (
        "http-error",
        "HTTP error",
        400,
        "any other HTTP error Werkzeug raises; the status is its own",
    )
    INTERNAL_ERROR = (
        "internal-error",
        "Internal server error",
        500,
        "an unexpected failure; the log has the traceback, the answer nothing",
    )
    SERVER_BUSY = (
        "server-busy",
        "Server busy",
        503,
        "every connection slot is taken; retry after a second",
    )
    STORAGE_UNAVAILABLE = (
        "storage-unavailable",
        "Storage temporarily unavailable",
        503,
        "the database did not answer in time",
    )
    MALFORMED_JSON = "malformed-json", "Malformed JSON", 400, "the body does not parse as JSON"
    JSON_TOO_DEEP = (
        "json-too-deep",
        "JSON nested too deeply",
        400,
        "the body nests arrays and objects deeper than the limit",
    )
    STRING_TOO_LONG = (
        "string-too-long",
        "String too long",
        400,
        "a string in the body is longer than the limit",
    )
    INVALID_STRING = (
        "invalid-string",
        "Invalid string",
        400,
        "a string in the body holds a NUL or a lone surrogate",
    )
    NUMBER_OUT_OF_RANGE = (
        "number-out-of-range",
        "Number out of range",
        400,
        "a number in the body is not finite or does not fit in 64 bits",
    )
    INVALID_REQUEST = (
        "invalid-request",
        "Invalid request",
        400,
        "the body or query has the wrong shape",
    )
    INVALID_BODY = "invalid-body", "Invalid body", 400, "the body lacks what the route needs"
    INVALID_PARAMETER = (
        "invalid-parameter",
        "Invalid parameter",
        400,
        "a query parameter has the wrong form",
    )
    MISSING_PARAMETER = (
        "missing-parameter",
        "Missing parameter",
        400,
        "a required query parameter is missing",
    )
    INVALID_FIELD = (
        "invalid-field",
        "Invalid field",
        400,
        "a field of the body has the wrong type or value",
    )
    MISSING_FIELD = "missing-field", "Missing field", 400, "a required field of the body is missing"
    UNKNOWN_FIELD = (
        "unknown-field",
        "Unknown field",
        400,
        "the body has a field the route does not take",
    )
    NOT_AVAILABLE = (
        "not-available",
        "Not available",
        503,
        "the feature is not configured on this node",
    )

    # -- sessions, tokens, forms (credgate.auth, credgate.pages, gateway) --------------------------
    INVALID_TOKEN = (
        "invalid-token",
        "Invalid access token",
        401,
        "the bearer token is unknown, revoked, malformed or its grant ended",
    )
    TOKEN_EXPIRED = "token-expired", "Invalid access token", 401, "the bearer token has expired"
    CSRF_FAILED = (
        "csrf-failed",
        "Form expired or forged",
        403,
        "a form or request lacks the session's CSRF token",
    )
    ROLE_MISSING = (
        "role-missing",
        "Missing role",
        403,
        "no credential of the caller grants the role the action needs",
    )
    POWER_MISSING = (
        "power-missing",
        "Missing power",
        403,
        "no Attorney credential of the caller grants the power the action needs",
    )
    COMPANY_ROLE_MISSING = (
        "company-role-missing",
        "Your company lacks the role",
        403,
        "the caller's company holds no RoleCredential granting the role",
    )
    NO_VALID_CREDENTIAL = (
        "no-valid-credential",
        "No valid credential",
        403,
        "none of the caller's credentials verifies any more",
    )
    NOT_VERIFIED = (
        "not-verified",
        "Not verified",
        401,
        "the presentation did not verify (no more specific reason)",
    )
    DESCRIPTOR_UNSATISFIED = (
        "descriptor-unsatisfied",
        "No matching credential",
        403,
        "no credential satisfies an input descriptor of the presentation definition",
    )
    UNSUPPORTED_DEFINITION = (
        "unsupported-definition",
        "Unsupported presentation definition",
        403,
        "the presentation definition uses a feature the policy engine refuses",
    )
    SOFTWARE_NOT_CERTIFIED = (
        "software-not-certified",
        "Software not certified",
        400,
        "no verifying certificate covers the software's digest",
    )
    PURPOSE_NOT_CERTIFIED = (
        "purpose-not-certified",
        "Software not certified for this purpose",
        403,
        "the software is certified, but not for the purpose asked",
    )
    STATUS_UNKNOWN = (
        "status-unknown",
        "Credential status unknown",
        401,
        "the sign-in credential has no status entry this service can check",
    )

    # -- signing in through the gateway (gateway, signin) ------------------------------------------
    AGENT_UNAVAILABLE = (
        "agent-unavailable",
        "Agent unavailable",
        503,
        "the ACA-Py agent behind the service did not answer",
    )
    AGENT_ERROR = (
        "agent-error",
        "Issuer agent refused the request",
        502,
        "the issuer's agent answered with an error",
    )
    AGENT_REFUSED = (
        "agent-refused",
        "The wallet agent refused",
        502,
        "the wallet's agent answered with an error",
    )
    GATEWAY_UNAVAILABLE = (
        "gateway-unavailable",
        "Gateway unavailable",
        503,
        "the gateway did not answer the sign-in hand-off",
    )
    SIGNIN_EXPIRED = (
        "signin-expired",
        "Sign-in expired",
        400,
        "the sign-in was not started here or took too long",
    )
    SIGNIN_REFUSED = (
        "signin-refused",
        "Sign-in refused",
        401,
        "the gateway's sign-in answer is malformed or refused",
    )
    SIGNIN_STATE_MISMATCH = (
        "signin-state-mismatch",
        "Sign-in refused",
        400,
        "the gateway's answer belongs to another sign-in",
    )
    INVALID_GRANT = (
        "invalid-grant",
        "Sign-in code refused",
        400,
        "the hand-off code is unknown, used or expired",
    )
    INVALID_HANDOFF_REQUEST = (
        "invalid-handoff-request",
        "Invalid sign-in request",
        400,
        "the service's hand-off request is malformed",
    )
    UNKNOWN_CLIENT = (
        "unknown-client",
        "Unknown service",
        404,
        "no such service signs in through this gateway",
    )
    UNKNOWN_LOGIN = (
        "unknown-login",
        "Unknown login",
        404,
        "no such login, or it offers no DIDComm invitation",
    )
    UNKNOWN_PORTAL = "unknown-portal", "Unknown portal", 404, "no login portal of that name"
    LOGIN_CLOSED = "login-closed", "Login already finished", 409, "the login already ended"
    LOGIN_EXPIRED = (
        "login-expired",
        "Login expired",
        410,
        "the login took too long; reload the login page",
    )
    LOGIN_FAILED = (
        "login-failed",
        "Presentation refused",
        400,
        "the wallet's presentation for the login did not verify",
    )
    LOGIN_NOT_VERIFIED = (
        "login-not-verified",
        "Login not verified",
        409,
        "the login has no verified presentation yet",
    )
    LOGIN_NOT_YOURS = (
        "login-not-yours",
        "Not this browser's login",
        403,
        "the login belongs to another browser",
    )
    LOGIN_USED = "login-used", "Login already used", 409, "the login already opened a session"
    STATE_MISMATCH = (
        "state-mismatch",
        "Unknown state",
        400,
        "an OpenID4VP response's state is not this login's request",
    )
    NOT_A_ROLE_CREDENTIAL = (
        "not-a-role-credential",
        "Not a company role credential",
        400,
        "a registered credential is not a RoleCredential with one subject",
    )
    VERIFICATION_FAILED = (
        "verification-failed",
        "Credential does not verify",
        400,
        "the credential or presentation did not verify; the errors list says why",
    )

    # -- verification (verifier.errors): input ---------------------------------------------------
    INVALID_CREDENTIAL = (
        "invalid-credential",
        "Invalid credential",
        400,
        "the credential breaks a VCDM structure rule (type, issuer, ...)",
    )
    INVALID_PRESENTATION = (
        "invalid-presentation",
        "Invalid presentation",
        400,
        "the presentation breaks a VCDM structure rule",
    )
    UNSUPPORTED_FORMAT = (
        "unsupported-format",
        "Unsupported format",
        400,
        "an enveloped or JWT credential where this route takes none",
    )
    ALG_NONE = "alg-none", "Unsecured JWT", 400, "a JWT or JWS with alg none"
    # -- verification: JSON-LD
    UNKNOWN_CONTEXT = (
        "unknown-context",
        "Unknown JSON-LD context",
        400,
        "a context URL that is not bundled (nothing is fetched)",
    )
    UNDEFINED_TERM = (
        "undefined-term",
        "Undefined JSON-LD term",
        400,
        "a property or type the contexts do not define (it would go unsigned)",
    )
    INVALID_JSONLD = "invalid-jsonld", "Invalid JSON-LD", 400, "the document is not valid JSON-LD"
    HOSTILE_GRAPH = (
        "hostile-graph",
        "Graph too costly to canonicalize",
        400,
        "canonicalization exceeded its work budget, or the document nests too deep",
    )
    UNSUPPORTED_JSONLD = (
        "unsupported-jsonld",
        "Unsupported JSON-LD construct",
        400,
        "a JSON-LD construct refused by design",
    )
    # -- verification: proofs
    PROOF_MISSING = "proof-missing", "Proof missing", 400, "the document is not signed"
    UNSUPPORTED_PROOF = (
        "unsupported-proof-type",
        "Unsupported proof type",
        400,
        "a proof type or cryptosuite this verifier does not check",
    )
    MALFORMED_PROOF = (
        "malformed-proof",
        "Malformed proof",
        400,
        "proof fields are missing or undecodable",
    )
    BAD_SIGNATURE = "bad-signature", "Bad signature", 400, "the signature does not verify"
    PROOF_PURPOSE_MISMATCH = (
        "proof-purpose-mismatch",
        "Proof purpose mismatch",
        400,
        "the key is not authorised for the proof's purpose",
    )
    VERIFICATION_METHOD_NOT_FOUND = (
        "verification-method-not-found",
        "Verification method not found",
        400,
        "the proof's key is not in the DID document",
    )
    DID_RESOLUTION_FAILED = (
        "did-resolution-failed",
        "DID resolution failed",
        400,
        "the DID could not be resolved",
    )
    UNSUPPORTED_DID_METHOD = (
        "unsupported-did-method",
        "Unsupported DID method",
        400,
        "a DID method other than did:web and did:key",
    )
    ISSUER_MISMATCH = (
        "issuer-mismatch",
        "Proof not made by the issuer",
        400,
        "the proof's key is not controlled by the issuer",
    )
    UNSUPPORTED_ALGORITHM = (
        "unsupported-algorithm",
        "Unsupported signature algorithm",
        400,
        "an HS* (shared secret) or unknown JWS algorithm",
    )
    INVALID_JWT = (
        "invalid-jwt",
        "Invalid JWT",
        400,
        "not a compact JWS, an undecodable part, or the wrong typ",
    )
    DISCLOSURE_MISMATCH = (
        "disclosure-mismatch",
        "Disclosure not signed by the issuer",
        400,
        "an SD-JWT disclosure the issuer did not sign, or one repeated",
    )
    KB_JWT_MISSING = (
        "kb-jwt-missing",
        "Key binding missing",
        400,
        "an SD-JWT presented without a key-binding JWT",
    )
    SD_HASH_MISMATCH = (
        "sd-hash-mismatch",
        "Key binding for another presentation",
        400,
        "the KB-JWT binds another SD-JWT or other disclosures",
    )
    AUDIENCE_MISMATCH = (
        "audience-mismatch",
        "Made for another verifier",
        400,
        "a KB-JWT or VP JWT addressed to another verifier",
    )
    HOLDER_KEY_MISSING = (
        "holder-key-missing",
        "Credential not bound to a holder key",
        400,
        "an SD-JWT without cnf.jwk: anyone could present it",
    )
    # -- verification: presentations
    CHALLENGE_MISSING = (
        "challenge-missing",
        "Challenge missing",
        400,
        "the presentation proof has no challenge",
    )
    CHALLENGE_MISMATCH = (
        "challenge-mismatch",
        "Wrong challenge",
        400,
        "not the challenge the verifier expected",
    )
    CHALLENGE_UNKNOWN = (
        "challenge-unknown",
        "Unknown challenge",
        400,
        "a challenge this verifier never issued",
    )
    CHALLENGE_REUSED = (
        "challenge-reused",
        "Challenge already used",
        400,
        "a challenge already spent by another presentation",
    )
    CHALLENGE_EXPIRED = (
        "challenge-expired",
        "Challenge expired",
        400,
        "the challenge's lifetime is over",
    )
    DOMAIN_MISMATCH = (
        "domain-mismatch",
        "Wrong domain",
        400,
        "the proof is signed for another domain",
    )
    DOMAIN_MISSING = (
        "domain-missing",
        "Domain missing",
        400,
        "a sign-in or token proof signed for no domain",
    )
    HOLDER_MISMATCH = (
        "holder-mismatch",
        "Holder is not the subject",
        400,
        "the presentation is not signed by the credentials' subject",
    )
    DUPLICATE_CREDENTIAL = (
        "duplicate-credential",
        "Two credentials share an id",
        400,
        "two credentials of one presentation share an id",
    )
    # -- verification: validity, status, trust
    EXPIRED = (
        "expired",
        "Credential expired",
        400,
        "the credential (or proof, or KB-JWT) is past its validity",
    )
    NOT_YET_VALID = (
        "not-yet-valid",
        "Credential not yet valid",
        400,
        "the credential's validity has not begun",
    )
    REVOKED = "revoked", "Credential revoked", 400, "the status list marks the credential revoked"
    SUSPENDED = (
        "suspended",
        "Credential suspended",
        400,
        "the status list marks the credential suspended",
    )
    STATUS_UNAVAILABLE = (
        "status-unavailable",
        "Credential status unavailable",
        400,
        "the status list could not be fetched or verified",
    )
    INVALID_STATUS = (
        "invalid-status",
        "Invalid credential status",
        400,
        "a malformed status entry or status-list credential",
    )
    STATUS_MISSING = (
        "status-missing",
        "Credential has no status entry",
        400,
        "a credgate credential without a status entry",
    )
    UNTRUSTED_ISSUER = (
        "untrusted-issuer",
        "Untrusted issuer",
        400,
        "no trust rule accepts this issuer for this credential type",
    )
    ISSUER_NOT_KCIT_COMPANY = (
        "issuer-not-kcit-company",
        "Issuer is not a KCIT-identified company",
        400,
        "an attorney credential from a DID KCIT does not know",
    )
    COMPANY_INACTIVE = (
        "company-inactive",
        "Issuing company is not active",
        400,
        "KCIT knows the issuing company but it is suspended or removed",
    )
    POWER_NOT_GRANTED = (
        "power-not-granted",
        "Power not granted to the company",
        400,
        "an attorney power KCIT never gave the company",
    )
    TRUST_UNAVAILABLE = (
        "trust-unavailable",
        "Trust facts unavailable",
        400,
        "KCIT did not answer, or answered malformed trust facts",
    )

    # -- issuer ------------------------------------------------------------------------------------
    UNKNOWN_CREDENTIAL_TYPE = (
        "unknown-credential-type",
        "Unknown credential type",
        400,
        "the request names no (or more than one) credgate credential type",
    )
    SCHEMA_VIOLATION = (
        "schema-violation",
        "Claims do not meet the credential's schema",
        422,
        "the claims fail the credential type's JSON Schema",
    )
    CREDENTIAL_EXISTS = (
        "credential-exists",
        "Credential id already issued",
        409,
        "a credential with this id was issued before (ids are unique)",
    )
    CREDENTIAL_NOT_FOUND = (
        "credential-not-found",
        "Credential not found",
        404,
        "no such credential or issuance record",
    )
    EXCHANGE_NOT_FOUND = (
        "exchange-not-found",
        "Exchange not found",
        404,
        "no such issuance exchange",
    )
    INVITATION_NOT_FOUND = (
        "invitation-not-found",
        "Invitation not found",
        404,
        "the invitation link leads nowhere (expired or mistyped)",
    )
    INVITATION_EXPIRED = (
        "invitation-expired",
        "Invitation expired",
        410,
        "the invitation is no longer valid",
    )
    INVITATION_USED = (
        "invitation-used",
        "Invitation already used",
        410,
        "the invitation (or login QR code) was already opened",
    )
    ISSUANCE_INTERRUPTED = (
        "issuance-interrupted",
        "Issuance interrupted",
        503,
        "the issuance took too long or its offer expired; try again",
    )
    ISSUER_UNAVAILABLE = (
        "issuer-unavailable",
        "Issuer unavailable",
        503,
        "the issuing DID's wallet is gone",
    )
    SIGNING_REFUSED = (
        "signing-refused",
        "The issuer agent could not sign this credential",
        400,
        "the issuer's agent refused to sign the credential",
    )
    SUBJECT_NOT_BOUND = (
        "subject-not-bound",
        "No holder DID",
        422,
        "the request names no holder DID to bind the credential to",
    )
    SUBJECT_WITHOUT_CLAIMS = (
        "subject-without-claims",
        "A subject with nothing but an id cannot be signed",
        400,
        "among several subjects, one has no claim besides its id",
    )
    UNSUPPORTED_CRYPTOSUITE = (
        "unsupported-cryptosuite",
        "Unsupported cryptosuite",
        400,
        "the issuer instance does not sign with the cryptosuite asked for",
    )
    UNSUPPORTED_DIRECTION = (
        "unsupported-direction",
        "Base direction cannot be signed",
        400,
        "a string with @direction, which the agent cannot sign yet",
    )
    UNSUPPORTED_STATUS_TYPE = (
        "unsupported-status-type",
        "Unsupported status type",
        400,
        "a status entry type the credential's data model does not use",
    )
    STATUS_SERVICE_UNKNOWN = (
        "status-service-unknown",
        "Status service unknown",
        503,
        "the issuer does not know the revocation service's URL",
    )
    UNKNOWN_ISSUER = (
        "unknown-issuer",
        "Unknown issuer",
        422,
        "no key for this issuer here, or an issuer the wallet does not know",
    )
    ISSUER_NOT_ALLOWED = (
        "issuer-not-allowed",
        "Issuer not allowed for this type",
        403,
        "the issuer may not issue this credential type",
    )
    CERTIFIER_NOT_ACCREDITED = (
        "certifier-not-accredited",
        "Certifier not accredited",
        403,
        "KCIT does not accredit the certifier for this credential type",
    )
    CERTIFIER_EXISTS = (
        "certifier-exists",
        "Certifier exists",
        409,
        "a certifier of this name exists",
    )
    CERTIFIER_NOT_FOUND = (
        "certifier-not-found",
        "Certifier not found",
        404,
        "no such certifier, or its tenant is gone",
    )
    CERTIFICATION_NOT_FOUND = (
        "certification-not-found",
        "Certification not found",
        404,
        "no such software certification",
    )
    CERTIFICATION_NOT_ISSUED = (
        "certification-not-issued",
        "Certification not issued",
        409,
        "the certification's credential is not (or no longer) issued",
    )
    ACCREDITATION_SOURCE_UNKNOWN = (
        "accreditation-source-unknown",
        "Accreditation source unknown",
        503,
        "the issuer does not know KCIT's URL, where certifiers are accredited",
    )
    ACCREDITATION_UNAVAILABLE = (
        "accreditation-unavailable",
        "Accreditation cannot be checked",
        503,
        "KCIT could not say whether the certifier is accredited",
    )
    ACCREDITED_IN_KCIT = (
        "accredited-in-kcit",
        "Certifiers are accredited in KCIT",
        400,
        "the issuer keeps no accreditation list; accredit in KCIT",
    )
    INVALID_DIGEST = (
        "invalid-digest",
        "Invalid digest",
        400,
        "a software digest is not urn:sha256: and 64 lowercase hex digits",
    )
    SOFTWARE_NOT_FOUND = (
        "software-not-found",
        "No certificate for this software",
        404,
        "no certifier has certified this digest",
    )
    FLIST_EMPTY = "flist-empty", "Empty flist", 422, "the flist has no bytes"
    FLIST_HOST_NOT_ALLOWED = (
        "flist-host-not-allowed",
        "flist host not allowed",
        422,
        "the issuer does not download from the flist URL's host",
    )
    FLIST_TOO_LARGE = (
        "flist-too-large",
        "flist too large",
        422,
        "the flist is larger than the limit",
    )
    FLIST_UNREACHABLE = (
        "flist-unreachable",
        "flist unreachable",
        422,
        "the flist could not be downloaded",
    )
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency-key-reused",
        "Idempotency-Key reused",
        422,
        "an Idempotency-Key already used for a different request",
    )
    IDEMPOTENCY_REQUEST_IN_PROGRESS = (
        "idempotency-request-in-progress",
        "Request in progress",
        409,
        "the first request with this Idempotency-Key has not finished",
    )
    INVALID_IDEMPOTENCY_KEY = (
        "invalid-idempotency-key",
        "Invalid Idempotency-Key",
        400,
        "the Idempotency-Key header is empty, too long or unprintable",
    )
    ROLE_REQUEST_NOT_FOUND = (
        "role-request-not-found",
        "Role request not found",
        404,
        "no such role request",
    )
    ROLE_REQUEST_DECIDED = (
        "role-request-decided",
        "Role request already decided",
        409,
        "the role request was already approved or rejected",
    )

    # -- revocation --------------------------------------------------------------------------------
    UNKNOWN_ENTRY = "unknown-entry", "Unknown status entry", 404, "no such status entry"
    UNKNOWN_STATUS_LIST = "unknown-status-list", "Unknown status list", 404, "no such status list"
    UNKNOWN_STATUS_MODEL = (
        "unknown-status-model",
        "Unknown status list model",
        400,
        "a status list model other than those the service publishes",
    )
    UNKNOWN_STATUS_PURPOSE = (
        "unknown-status-purpose",
        "Unknown status purpose",
        400,
        "a statusPurpose other than revocation or suspension",
    )
    UNKNOWN_ACTION = (
        "unknown-action",
        "Unknown action",
        404,
        "a status action (or transition) that does not exist",
    )
    INVALID_ACTOR = "invalid-actor", "Actor required", 400, "a status change names no actor"
    INVALID_REASON = (
        "invalid-reason",
        "Reason required",
        400,
        "a status change gives no reason, or too long a one",
    )
    INVALID_ISSUER = "invalid-issuer", "Invalid issuer", 400, "the issuer is not a DID"
    INVALID_CREDENTIAL_ID = (
        "invalid-credential-id",
        "Invalid credential id",
        400,
        "the credential id is not a string of 1 to 500 characters",
    )
    INVALID_EXCHANGE_ID = (
        "invalid-exchange-id",
        "Invalid exchange id",
        400,
        "the exchange id is not a string of at most 200 characters",
    )
    INVALID_STATUS_BASE_URL = (
        "invalid-status-base-url",
        "Invalid status base URL",
        400,
        "the status base URL is not an http(s) URL without query or fragment",
    )
    ENTRY_ABANDONED = (
        "entry-abandoned",
        "Status entry abandoned",
        409,
        "the entry's exchange never completed; its bit is set for good",
    )
    ENTRY_ISSUED = (
        "entry-issued",
        "Credential already issued",
        409,
        "the entry belongs to an issued credential: revoke it instead",
    )
    ALREADY_SUSPENDED = (
        "already-suspended",
        "Already suspended",
        409,
        "the entry is suspended already",
    )
    NOT_SUSPENDED = "not-suspended", "Not suspended", 409, "only a suspension is lifted"
    NOT_SUSPENDABLE = (
        "not-suspendable",
        "Not suspendable",
        409,
        "the entry is on a revocation list; only revoke applies",
    )
    REVOCATION_IS_FINAL = (
        "revocation-is-final",
        "Revocation is final",
        409,
        "a revoked credential stays revoked",
    )
    STATUS_LIST_EXHAUSTED = (
        "status-list-exhausted",
        "No free status index",
        503,
        "no free index in the issuer's status lists for now",
    )
    STATUS_LIST_UNAVAILABLE = (
        "status-list-unavailable",
        "Status list unavailable",
        503,
        "the status list is being signed; retry shortly",
    )

    # -- KCIT --------------------------------------------------------------------------------------
    COMPANY_NOT_FOUND = "company-not-found", "Company not found", 404, "no such company"
    COMPANY_REMOVED = "company-removed", "Company removed", 409, "the company's record was removed"
    REGISTRATION_NOT_FOUND = (
        "registration-not-found",
        "Registration not found",
        404,
        "no such self-registration",
    )
    DID_NOT_FOUND = (
        "did-not-found",
        "DID not registered",
        404,
        "KCIT knows no company with this DID",
    )
    DID_TAKEN = (
        "did-taken",
        "DID already registered",
        409,
        "the DID is registered for another company",
    )
    DID_NOT_RESOLVABLE = (
        "did-not-resolvable",
        "DID document not resolvable",
        422,
        "the company's DID document cannot be fetched",
    )
    DID_KEY_NOT_FOUND = (
        "did-key-not-found",
        "Declared key not in the DID document",
        422,
        "the declared key is not in the company's DID document",
    )
    INVALID_DID = (
        "invalid-did",
        "Invalid DID",
        422,
        "a field is not a DID (or DID URL naming a key)",
    )
    INVALID_VAT = (
        "invalid-vat",
        "Invalid VAT number",
        422,
        "the VAT number fails its format or check digits",
    )
    INVALID_LEI = "invalid-lei", "Invalid LEI", 422, "the LEI fails its format or check digits"
    INVALID_EUID = "invalid-euid", "Invalid EUID", 422, "the EUID fails its format"
    INVALID_COUNTRY = (
        "invalid-country",
        "Invalid country",
        422,
        "not an ISO 3166 country or subdivision code",
    )
    UNKNOWN_POWER = "unknown-power", "Unknown power", 400, "an attorney power KCIT does not know"
    INVALID_TRANSITION = (
        "invalid-transition",
        "Invalid transition",
        409,
        "the company's status does not allow the action",
    )
    VERSION_CONFLICT = (
        "version-conflict",
        "Changed meanwhile",
        409,
        "the record changed since it was read; reload and retry",
    )
    ACCREDITATION_NOT_FOUND = (
        "accreditation-not-found",
        "Not accredited",
        404,
        "the DID is not accredited for this credential type",
    )

    # -- depute ------------------------------------------------------------------------------------
    AUTHORISATION_NOT_FOUND = (
        "authorisation-not-found",
        "Authorisation not found",
        404,
        "no such authorisation",
    )
    COMPANY_NOT_IDENTIFIED = (
        "company-not-identified",
        "Company not identified",
        409,
        "KCIT does not mark the company identified; it cannot mandate anyone",
    )
    COMPANY_NOT_PROVISIONED = (
        "company-not-provisioned",
        "Company wallet not ready",
        409,
        "the company's wallet is being set up, or missing on the agent",
    )

    # -- wallet ------------------------------------------------------------------------------------
    INVALID_WALLET_NAME = (
        "invalid-wallet-name",
        "Invalid wallet name",
        400,
        "a wallet name is 1-64 lower-case letters, digits, '.', '_' or '-'",
    )
    INVALID_PIN = (
        "invalid-pin",
        "Invalid PIN",
        400,
        "a PIN is 4 to 64 characters without spaces (or the two PINs differ)",
    )
    WALLET_EXISTS = "wallet-exists", "Wallet exists", 409, "a wallet of this name exists"
    WALLET_NOT_FOUND = "wallet-not-found", "Wallet not found", 404, "no wallet of this name"
    WALLET_LOCKED = (
        "wallet-locked",
        "Too many wrong PINs",
        429,
        "too many wrong PINs; try again later",
    )
    BAD_QR_CODE = (
        "bad-qr-code",
        "Unreadable QR code",
        400,
        "nothing scanned, or not a credgate QR code or link",
    )
    UNSUPPORTED_INVITATION = (
        "unsupported-invitation",
        "Unsupported",
        400,
        "the invitation carries a message this wallet does not handle",
    )
    LINK_NOT_ALLOWED = (
        "link-not-allowed",
        "Link not allowed",
        400,
        "the wallet does not open links to this host",
    )
    INVITATION_REFUSED = (
        "invitation-refused",
        "Invitation refused",
        400,
        "the other side's agent refused the invitation the QR code carries",
    )
    INVITATION_UNREACHABLE = (
        "invitation-unreachable",
        "Invitation unreachable",
        502,
        "the QR code's link could not be opened, or leads to no invitation",
    )
    EXCHANGE_TIMEOUT = (
        "exchange-timeout",
        "No answer in time",
        504,
        "the other side did not answer, or sent nothing, in time",
    )
    EXCHANGE_FAILED = (
        "exchange-failed",
        "The exchange failed",
        502,
        "the DIDComm exchange ended in failure",
    )
    INTERACTION_NOT_FOUND = (
        "interaction-not-found",
        "Not found",
        404,
        "no such offer or request in the wallet",
    )
    INTERACTION_CLOSED = (
        "interaction-closed",
        "Already answered",
        409,
        "the offer or request was already answered",
    )
    WRONG_INTERACTION = (
        "wrong-interaction",
        "Not that kind of interaction",
        409,
        "an offer where a proof request is expected, or the reverse",
    )
    OFFER_NOT_FOR_YOU = (
        "offer-not-for-you",
        "Credential about someone else",
        409,
        "the offered credential is about another DID than the wallet's",
    )
    NOTHING_TO_PRESENT = (
        "nothing-to-present",
        "Nothing to present",
        422,
        "no credential in the wallet fits the request",
    )
    SUBJECT_MISMATCH = (
        "subject-mismatch",
        "Credentials about different subjects",
        422,
        "the chosen credentials are not about the wallet's holder DID",
    )
    SELECTION_REQUIRED = (
        "selection-required",
        "Choose the credentials to share",
        409,
        "several credentials match; the holder must choose",
    )
    INVALID_SELECTION = (
        "invalid-selection",
        "Credential not usable here",
        400,
        "a chosen credential satisfies nothing the request asks for",
    )
    MIXED_PROOF_TYPES = (
        "mixed-proof-types",
        "Credentials cannot be presented together",
        400,
        "the chosen credentials are signed with different proof types",
    )
    MIXED_SUBJECTS = (
        "mixed-subjects",
        "Credentials of different holders",
        400,
        "the chosen credentials name different subject DIDs",
    )
    UNSUPPORTED_REQUEST = (
        "unsupported-request",
        "Unsupported proof request",
        400,
        "the proof request's definition lists no input descriptors",
    )
    INVALID_IMPORT = (
        "invalid-import",
        "Not a wallet export",
        400,
        "the import is not a wallet export, or holds too many credentials",
    )
    OID4VCI_FAILED = (
        "oid4vci-failed",
        "Credential issuance failed",
        502,
        "an OpenID4VCI issuer refused a step or answered what a wallet cannot use (400: the offer itself is bad)",
    )
    TX_CODE_REQUIRED = (
        "tx-code-required",
        "PIN required",
        400,
        "the OpenID4VCI offer asks for the PIN shown beside its QR code",
    )
    INVALID_OPENID4VP_REQUEST = (
        "invalid-openid4vp-request",
        "Cannot answer this login request",
        400,
        "the OpenID4VP request is malformed or not signed as required",
    )
    REQUEST_EXPIRED = (
        "request-expired",
        "Cannot answer this login request",
        400,
        "the OpenID4VP request has expired",
    )
    REQUEST_UNAVAILABLE = (
        "request-unavailable",
        "Cannot answer this login request",
        400,
        "the OpenID4VP request object could not be fetched",
    )
    NO_MATCHING_CREDENTIAL = (
        "no-matching-credential",
        "Cannot answer this login request",
        400,
        "no credential in the wallet answers the OpenID4VP request",
    )

    # -- apps (catalogue, marketplace, compute) ----------------------------------------------------
    UNKNOWN_ITEM = "unknown-item", "Unknown item", 404, "no such catalogue item"
    CERTIFICATE_INVALID = (
        "certificate-invalid",
        "Certificate does not verify",
        400,
        "a software certificate sent with an item does not verify",
    )
    UNKNOWN_OFFER = "unknown-offer", "Unknown offer", 404, "no such active marketplace offer"
    OWN_OFFER = "own-offer", "Your own offer", 409, "a seller cannot buy its own offer"
    POLICY_UNSATISFIED = (
        "policy-unsatisfied",
        "The offer's policy excludes you",
        403,
        "the buyer does not meet the offer's policy",
    )
    UNKNOWN_JOB = "unknown-job", "Unknown job", 404, "no such compute job of the caller"
    UNKNOWN_FLIST = "unknown-flist", "Unknown flist", 404, "no flist with this digest was uploaded"
    FLIST_TAMPERED = (
        "flist-tampered",
        "Flist bytes changed",
        409,
        "the stored flist no longer hashes to its digest",
    )
    MD5_MISMATCH = (
        "md5-mismatch",
        "Flist md5 differs from its certificate",
        409,
        "the flist's md5 is not the one its certificate names",
    )
    SANDBOX_UNAVAILABLE = (
        "sandbox-unavailable",
        "Compute sandbox unavailable",
        503,
        "this machine cannot sandbox jobs, so compute runs none",
    )


def problem_type(slug: str) -> ProblemType:
    """The registered type of ``slug``; ``ValueError`` for a slug nobody registered."""
    return ProblemType(slug)


def markdown() -> str:
    """``docs/problems.md``: every problem type, in the registry's order."""
    lines = [
        "# Problem types",
        "",
        "Every error a credgate service returns is an RFC 9457 `application/problem+json` document",
        f"whose `type` is `{PROBLEM_BASE}<slug>`. Clients switch on the slug; titles are for",
        "people. The status is the one a domain error gets; a route may answer another where its",
        "protocol says so (a verification failure at sign-in is a 401, for instance).",
        "",
        "Generated from `credgate/problem_types.py` by `python -m credgate.problem_types >",
        "docs/problems.md`; a test fails when this page is out of date.",
        "",
        "| slug | status | title | meaning |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{t.slug}` | {t.status} | {t.title} | {t.meaning} |" for t in ProblemType]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(markdown(), end="")
