"""The verification library: credentials and presentations, end to end.

:class:`Verifier` ties the pure parts together — data-model rules (:mod:`verifier.credentials`),
proof suites (:mod:`verifier.suites`), DID resolution (:mod:`verifier.dids`), status
(:mod:`verifier.status`), trust (:mod:`verifier.trust`) and challenges
(:mod:`verifier.challenges`) — and reports every failure with its stable error type.

A credential's *proofs* are checked once and remembered by a hash of the credential's JSON
(proofs included), for ``proof_cache_ttl`` seconds: a presentation of credentials already seen
costs one canonicalization (the presentation's own proof, always verified) instead of three.
Validity, status and trust are evaluated on every verification; the cache never holds them.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import sha256
from typing import Any

from verifier import errors, lru
from verifier.challenges import ChallengeStore
from verifier.credentials import (
    CredentialFacts,
    as_list,
    check_credential,
    check_presentation,
    check_validity_period,
    id_of,
    parse_datetime,
)
from verifier.dids import DidResolver, VerificationMethod
from verifier.errors import VerificationError
from verifier.rdfc import Budget
from verifier.status import StatusListCache, check_entry
from verifier.suites import check_signature, suite_for
from verifier.trust import TrustRegistry, check_issuer, credgate_types


@dataclass(kw_only=True)
class VerificationResult:
    """What VC-API's verify answers for a credential or a presentation: whether it verified, the
    checks run, and why not (errors) or what to watch (warnings)."""

    verified: bool = False
    checks: list[str] = field(default_factory=list)
    errors: list[VerificationError] = field(default_factory=list)
    warnings: list[VerificationError] = field(default_factory=list)

    def to_vc_api(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "checks": list(self.checks),
            "warnings": [w.to_problem() for w in self.warnings],
            "errors": [e.to_problem() for e in self.errors],
        }


@dataclass
class CredentialResult(VerificationResult):
    credential: Any
    facts: CredentialFacts | None = None
    proof_cached: bool = False
    #: Verified, and its issuer meets the trust rule of its credgate type: the only kind of
    #: credential that grants anything.
    trusted: bool = False

    @property
    def issuer(self) -> str | None:
        return self.facts.issuer if self.facts else None

    def error_types(self) -> list[str]:
        return [e.slug for e in self.errors]


@dataclass
class PresentationResult(VerificationResult):
    presentation: Any
    holder: str | None = None  # the DID that signed the presentation
    credentials: list[CredentialResult] = field(default_factory=list)

    def error_types(self) -> list[str]:
        """Every error type, the presentation's and its credentials'."""
        return [e.slug for e in self.errors] + [
            slug for c in self.credentials for slug in c.error_types()
        ]

    def to_vc_api(self) -> dict[str, Any]:
        body = super().to_vc_api()
        body["credentialResults"] = [c.to_vc_api() for c in self.credentials]
        # Aggregate so a client that reads only the top level still sees why.
        for index, credential in enumerate(self.credentials):
            for error in credential.errors:
                body["errors"].append({**error.to_problem(), "credentialIndex": index})
        return body


class ProofCache:
    """Credential hash -> verification methods of its verified proofs (bounded LRU, TTL)."""

    def __init__(self, max_entries: int = 4096, ttl: float = 300.0) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self._entries: OrderedDict[bytes, tuple[float, tuple[VerificationMethod, ...]]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    @staticmethod
    def key(credential: Mapping[str, Any]) -> bytes:
        # sort_keys JSON is injective over JSON values, which is all a cache key needs (and
        # ten times cheaper than RFC 8785).
        text = json.dumps(credential, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return sha256(text.encode("utf-8", "surrogatepass")).digest()

    def get(self, key: bytes) -> tuple[VerificationMethod, ...] | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry[0] > self.ttl:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1]

    def put(self, key: bytes, methods: tuple[VerificationMethod, ...]) -> None:
        with self._lock:
            lru.keep(self._entries, key, (time.monotonic(), methods), self.max_entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _now() -> datetime:
    return datetime.now(UTC)


#: More proofs than this on one document is refused before any canonicalization.
MAX_PROOFS = 8


def proofs_by_id(proofs: list[Any]) -> dict[str, Mapping[str, Any]]:
    """The proofs of a set that have an id; two with one id make ``previousProof`` ambiguous."""
    found: dict[str, Mapping[str, Any]] = {}
    for proof in proofs:
        if isinstance(proof, Mapping) and isinstance(proof.get("id"), str):
            if proof["id"] in found:
                raise VerificationError(
                    errors.MALFORMED_PROOF, f"two proofs share the id {proof['id']!r}"
                )
            found[proof["id"]] = proof
    return found


def chained_input(
    unsecured: Mapping[str, Any], proof: Any, by_id: Mapping[str, Mapping[str, Any]]
) -> Mapping[str, Any]:
    """What ``proof`` signed: the unsecured document, plus the proofs its ``previousProof``
    names (Data Integrity 1.0, "Verify Proof Sets and Chains")."""
    if not isinstance(proof, Mapping) or "previousProof" not in proof:
        return unsecured
    previous = proof["previousProof"]
    names = previous if isinstance(previous, list) else [previous]
    if not names or not all(isinstance(name, str) and name for name in names):
        raise VerificationError(
            errors.MALFORMED_PROOF, "previousProof must be a proof id or a list of proof ids"
        )
    if proof.get("id") in names:
        raise VerificationError(errors.MALFORMED_PROOF, "a proof cannot chain to itself")
    missing = [name for name in names if name not in by_id]
    if missing:
        raise VerificationError(
            errors.MALFORMED_PROOF, f"previousProof {missing[0]!r} is not a proof of the document"
        )
    return {**unsecured, "proof": [by_id[name] for name in names]}


#: Credential types whose subject is a thing, not a holder: anyone may carry them.
UNBOUND_TYPES = frozenset({"SoftwareCertificationCredential"})


def holder_binding(signer: str, facts: CredentialFacts) -> VerificationError | None:
    """Why ``signer`` may not present this credential, or None: every subject that is a DID must
    be the signer, and a credential must name a DID subject (a bearer credential, or one about
    a URN, proves nothing about who presents it) unless its type is about a thing (a software
    certificate, whose subject is a digest)."""
    dids = [s for s in facts.subject_ids if s.startswith("did:")]
    if not dids and not UNBOUND_TYPES & set(facts.types):
        return VerificationError(
            errors.HOLDER_MISMATCH,
            "the credential names no DID subject, so no holder can present it",
        )
    if any(did != signer for did in dids):
        strangers = ", ".join(sorted(d for d in dids if d != signer))
        return VerificationError(
            errors.HOLDER_MISMATCH,
            f"the presentation is signed by {signer}, but the credential's subject is {strangers}",
        )
    return None


class Verifier:
    """Verifies credentials and presentations. Every collaborator is optional: without a status
    cache, status entries are reported unchecked (an error, unless ``require_status`` is off);
    without a trust registry, trust is not evaluated; without a challenge store, a presentation's
    challenge is only compared with the expected one."""

    def __init__(
        self,
        resolver: DidResolver | None = None,
        *,
        status: StatusListCache | None = None,
        trust: TrustRegistry | None = None,
        challenges: ChallengeStore | None = None,
        proof_cache: ProofCache | None = None,
        budget: Callable[[], Budget] = Budget,
        require_status: bool = True,
    ) -> None:
        self.resolver = resolver or DidResolver()
        self.status = status
        self.trust = trust
        self.challenges = challenges
        self.proof_cache = proof_cache
        self.new_budget = budget
        self.require_status = require_status

    # -- proofs -------------------------------------------------------------------------------

    def verify_proofs(
        self,
        document: Mapping[str, Any],
        purpose: str,
        budget: Budget | None = None,
        *,
        now: datetime | None = None,
    ) -> tuple[VerificationMethod, ...]:
        """Verify every proof of ``document`` (a proof set must verify as a whole) for
        ``purpose`` (and unexpired at ``now``, by default the clock's); return their verification
        methods.

        A proof that names ``previousProof`` (Data Integrity proof chains) signed the document
        together with the proofs it names: it is verified over the document whose ``proof`` is
        those proofs, each of which must be in the set."""
        proofs = as_list(document.get("proof"))
        if not proofs:
            raise VerificationError(errors.PROOF_MISSING, "the document has no proof")
        if len(proofs) > MAX_PROOFS:
            raise VerificationError(errors.MALFORMED_PROOF, f"more than {MAX_PROOFS} proofs")
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        budget = budget or self.new_budget()
        by_id = proofs_by_id(proofs)
        return tuple(
            self.verify_proof(
                chained_input(unsecured, proof, by_id), proof, purpose, budget, now=now
            )
            for proof in proofs
        )

    def verify_proof(
        self,
        unsecured: Mapping[str, Any],
        proof: Any,
        purpose: str,
        budget: Budget | None = None,
        *,
        now: datetime | None = None,
    ) -> VerificationMethod:
        """One proof over ``unsecured`` (the document without ``proof``), unexpired at ``now``."""
        if not isinstance(proof, Mapping):
            raise VerificationError(errors.MALFORMED_PROOF, "a proof must be an object")
        suite = suite_for(proof)
        if proof.get("proofPurpose") != purpose:
            raise VerificationError(
                errors.PROOF_PURPOSE_MISMATCH,
                f"proofPurpose is {proof.get('proofPurpose')!r}, expected {purpose!r}",
            )
        method_id = id_of(proof.get("verificationMethod"))
        if method_id is None:
            raise VerificationError(errors.MALFORMED_PROOF, "the proof has no verificationMethod")
        if "created" in proof:
            parse_datetime(proof["created"], "proof.created")
        now = now or _now()
        if "expires" in proof and parse_datetime(proof["expires"], "proof.expires") < now:
            raise VerificationError(errors.EXPIRED, "the proof has expired")
        signature = suite.signature(proof)  # cheap format checks before canonicalization
        method = self.resolver.verification_method(method_id, purpose)
        data = suite.hash_data(unsecured, proof, budget)
        if not check_signature(method.public_key, suite.signing_input(proof, data), signature):
            raise VerificationError(
                errors.BAD_SIGNATURE, f"the {proof.get('type')} signature does not verify"
            )
        return method

    # -- credentials --------------------------------------------------------------------------

    def verify_credential(
        self,
        credential: Any,
        *,
        now: datetime | None = None,
        check_status: bool = True,
        check_trust: bool = True,
        budget: Budget | None = None,
    ) -> CredentialResult:
        result = CredentialResult(credential)
        now = now or _now()
        try:
            result.facts = facts = check_credential(credential)
        except VerificationError as exc:
            result.errors.append(exc)
            return result
        result.checks.append("structure")

        if self._credential_proofs(credential, facts, result, budget, now):
            result.checks += ["proof", "issuer"]
            self.assess(result, now, check_status=check_status, check_trust=check_trust)
        else:
            # Nothing is fetched, and nothing more is reported, for a credential whose proof
            # already failed: its status list URL and issuer are whatever an attacker wrote.
            result.verified = False
        return result

    def assess(
        self,
        result: CredentialResult,
        now: datetime,
        *,
        check_status: bool = True,
        check_trust: bool = True,
    ) -> CredentialResult:
        """The checks that change over time, on a credential whose proofs held: validity
        period, status entries, issuer trust. Sets ``verified`` and ``trusted``."""
        facts = result.facts
        assert facts is not None
        try:
            check_validity_period(facts, now)
            result.checks.append("validity")
        except VerificationError as exc:
            result.errors.append(exc)

        rules: list[str] = []
        untrusted = False
        if check_trust and self.trust is not None:
            try:
                rules = check_issuer(result.credential, facts.issuer, self.trust)
                result.checks.append("trust")
                if not rules:
                    result.warnings.append(
                        VerificationError(
                            errors.UNTRUSTED_ISSUER,
                            "no trust rule applies to this credential type; it grants nothing",
                        )
                    )
            except VerificationError as exc:
                result.errors.append(exc)
                untrusted = True

        # No status list is fetched for a credential from an issuer its type does not trust.
        if check_status and not untrusted:
            self._credential_status(result.credential, facts, result)

        result.verified = not result.errors
        # Only a credential whose type has a trust rule, and whose issuer meets it, counts.
        result.trusted = result.verified and bool(rules)
        return result

    def _credential_proofs(
        self,
        credential: Mapping[str, Any],
        facts: CredentialFacts,
        result: CredentialResult,
        budget: Budget | None,
        now: datetime,
    ) -> bool:
        key = ProofCache.key(credential) if self.proof_cache is not None else None
        methods = self.proof_cache.get(key) if key is not None else None
        if methods is not None:
            result.proof_cached = True
        else:
            try:
                methods = self.verify_proofs(credential, "assertionMethod", budget, now=now)
            except VerificationError as exc:
                result.errors.append(exc)
                return False
        # Issuer binding: a proof counts only if its key is one the issuer's own DID document
        # lists as the issuer's (never by a ``controller`` field some other document claims).
        strangers = [m.id for m in methods if m.did != facts.issuer]
        if strangers:
            result.errors.append(
                VerificationError(
                    errors.ISSUER_MISMATCH,
                    f"proof key {strangers[0]} is not a key of the issuer {facts.issuer}",
                )
            )
            return False
        expiring = any(
            isinstance(p, Mapping) and "expires" in p for p in as_list(credential.get("proof"))
        )
        if key is not None and not result.proof_cached and not expiring:
            # A proof with an expiry is checked every time: a cached one would outlive it.
            self.proof_cache.put(key, methods)  # type: ignore[union-attr]
        return True

    def _credential_status(
        self, credential: Mapping[str, Any], facts: CredentialFacts, result: CredentialResult
    ) -> None:
        if not facts.status_entries:
            # Every credgate credential is issued with a status entry; one without could never
            # be seen revoked.
            if self.require_status and credgate_types(credential):
                result.errors.append(
                    VerificationError(
                        errors.STATUS_MISSING, "the credential has no credentialStatus entry"
                    )
                )
            return
        if self.status is None:
            problem = VerificationError(
                errors.STATUS_UNAVAILABLE, "this verifier has no status service configured"
            )
            (result.errors if self.require_status else result.warnings).append(problem)
            return
        signers = self.trust.status_list_signers(facts.issuer) if self.trust else frozenset()
        failed = False
        for entry in facts.status_entries:
            try:
                check_entry(entry, facts.issuer, self.status, signers)
            except VerificationError as exc:
                result.errors.append(exc)
                failed = True
        if not failed:
            result.checks.append("status")

    def verify_status_list(self, credential: Mapping[str, Any]) -> None:
        """What :class:`StatusListCache` runs on every list it fetches: proof, issuer binding,
        validity; not the list's own status, not trust (the list must come from the credential's
        issuer or a trusted list publisher, which :func:`check_entry` enforces)."""
        result = self.verify_credential(credential, check_status=False, check_trust=False)
        if result.errors:
            raise result.errors[0]

    # -- presentations ------------------------------------------------------------------------

    def verify_presentation(
        self,
        presentation: Any,
        *,
        challenge: str | None = None,
        domain: str | None = None,
        now: datetime | None = None,
        check_status: bool = True,
        check_trust: bool = True,
        require_holder_binding: bool = True,
    ) -> PresentationResult:
        """Verify the presentation's proof (purpose ``authentication``, with our challenge and
        domain), holder binding, and every credential it carries.

        ``require_holder_binding=False`` (the generic VC-API endpoint only, when the caller's
        options do not ask for it): a credential whose subject is not the signer is reported as
        a warning and the ``holder`` check is left out, instead of failing the presentation.

        ``challenge``/``domain``: what the verifier expects. With a challenge store, the proof's
        challenge must also be one we issued, unspent and unexpired (it is spent here). A proof
        without ``domain`` is accepted (Aries wallets omit it) since the challenge is bound to
        its domain when issued."""
        result = PresentationResult(presentation)
        now = now or _now()
        budget = self.new_budget()
        try:
            facts = check_presentation(presentation)
        except VerificationError as exc:
            result.errors.append(exc)
            return result
        result.checks.append("structure")

        signer = self._presentation_proof(
            presentation, facts.holder, challenge, domain, result, budget, now
        )
        result.holder = signer
        if signer is None or result.errors:
            # Refused as it stands: nothing a presentation whose own proof, holder or challenge
            # failed carries is resolved or fetched. Its credentials' DIDs and status lists are
            # whatever the sender wrote, and one anonymous request must not become dozens of
            # fetches.
            return result

        ids = [c.get("id") for c in facts.credentials if isinstance(c, Mapping)]
        repeated = sorted({i for i in ids if isinstance(i, str) and ids.count(i) > 1})
        if repeated:
            # A decision names the credential it rests on; two with one id would let a
            # consumer pick the wrong one.
            result.errors.append(
                VerificationError(
                    errors.DUPLICATE_CREDENTIAL,
                    f"the presentation carries more than one credential with id {repeated[0]}",
                )
            )

        for credential in facts.credentials:
            if result.errors:
                break  # refused already (a duplicate id, another's credential): fetch no more
            credential_result = self.verify_credential(
                credential,
                now=now,
                check_status=check_status,
                check_trust=check_trust,
                budget=budget,
            )
            result.credentials.append(credential_result)
            if signer is not None and credential_result.facts is not None:
                problem = holder_binding(signer, credential_result.facts)
                if problem is not None:
                    (result.errors if require_holder_binding else result.warnings).append(problem)
        unbound = any(e.slug == errors.HOLDER_MISMATCH for e in result.errors + result.warnings)
        if signer is not None and not unbound:
            result.checks.append("holder")
        result.verified = not result.errors and all(c.verified for c in result.credentials)
        return result

    def _presentation_proof(
        self,
        presentation: Mapping[str, Any],
        holder: str | None,
        challenge: str | None,
        domain: str | None,
        result: PresentationResult,
        budget: Budget,
        now: datetime,
    ) -> str | None:
        proofs = as_list(presentation.get("proof"))
        if not proofs:
            result.errors.append(
                VerificationError(errors.PROOF_MISSING, "the presentation is unsigned")
            )
            return None
        if len(proofs) != 1 or not isinstance(proofs[0], Mapping):
            result.errors.append(
                VerificationError(errors.MALFORMED_PROOF, "a presentation needs exactly one proof")
            )
            return None
        proof = proofs[0]
        presented_challenge = proof.get("challenge")
        presented_domain = proof.get("domain")
        # Challenge and domain first: they are cheap, and a replay should not cost a signature.
        if not isinstance(presented_challenge, str) or not presented_challenge:
            result.errors.append(
                VerificationError(
                    errors.CHALLENGE_MISSING, "the presentation proof has no challenge"
                )
            )
            return None
        if challenge is not None and presented_challenge != challenge:
            result.errors.append(
                VerificationError(errors.CHALLENGE_MISMATCH, "the proof's challenge is not ours")
            )
            return None
        if presented_domain is not None and domain is not None and presented_domain != domain:
            result.errors.append(
                VerificationError(
                    errors.DOMAIN_MISMATCH,
                    f"the presentation is for {presented_domain!r}, expected {domain!r}",
                )
            )
            return None
        required = self.challenges is not None and self.challenges.require_domain
        if presented_domain is None and domain is not None and not required:
            result.warnings.append(
                VerificationError(
                    errors.DOMAIN_MISMATCH,
                    "the proof has no domain; the challenge's domain binding stands in for it",
                )
            )
        unsecured = {k: v for k, v in presentation.items() if k != "proof"}
        try:
            method = self.verify_proof(unsecured, proof, "authentication", budget, now=now)
        except VerificationError as exc:
            result.errors.append(exc)
            return None
        result.checks.append("proof")
        signer = method.did
        if holder is not None and holder != signer:
            result.errors.append(
                VerificationError(
                    errors.HOLDER_MISMATCH,
                    f"the presentation names holder {holder} but is signed by {signer}",
                )
            )
            return None
        if self.challenges is not None:
            try:
                self.challenges.consume(
                    presented_challenge,
                    # What the holder signed for (None if nothing): a store that requires a
                    # domain refuses its absence, others let the challenge's binding stand in.
                    presented_domain if isinstance(presented_domain, str) else None,
                    now=now,
                )
            except VerificationError as exc:
                result.errors.append(exc)
                return signer
        result.checks += ["challenge", "domain"]
        return signer
