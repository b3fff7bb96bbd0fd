"""Trust: who may issue which credential type.

:class:`TrustRegistry` is the interface KCIT will serve over HTTP; :class:`FileTrustRegistry`
reads it from a JSON file until then (reloaded when the file changes). :func:`check_issuer`
applies the rule the credential-type registry names for each credgate type and says which rule
failed.

File format::

    {
      "onboarding_authority": "did:key:...",
      "companies": {"did:web:helix.example": "active", "did:key:...": "suspended"},
      "accreditations": {"did:key:...": ["SoftwareCertificationCredential"]},
      "status_list_signers": {"did:key:<issuer>": ["did:key:<publisher>"]}
    }

A status list counts for a credential when its issuer signed it, or a publisher named for that
very issuer under ``status_list_signers``: a signer trusted for every issuer would let whoever
holds it vouch for anybody's credentials.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from schemas.registry import TrustedIssuerRule, credential_types
from verifier import errors
from verifier.credentials import as_list
from verifier.errors import VerificationError


class CompanyStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"


class TrustRegistry(Protocol):
    def is_onboarding_authority(self, did: str) -> bool: ...

    def company_status(self, did: str) -> CompanyStatus: ...

    def may_issue(self, did: str, credential_type: str) -> bool: ...

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        """DIDs besides ``issuer`` itself whose status lists count for ``issuer``'s
        credentials."""
        ...


class StaticTrustRegistry:
    """A trust registry held in memory (the file registry's content, or a test's)."""

    def __init__(
        self,
        onboarding_authority: str | None = None,
        companies: Mapping[str, str] | None = None,
        accreditations: Mapping[str, Iterable[str]] | None = None,
        status_list_signers: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.onboarding_authority = onboarding_authority
        self.companies = {did: CompanyStatus(state) for did, state in (companies or {}).items()}
        self.accreditations = {did: frozenset(t) for did, t in (accreditations or {}).items()}
        self._status_list_signers = {
            did: frozenset(signers) for did, signers in (status_list_signers or {}).items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StaticTrustRegistry:
        return cls(
            onboarding_authority=data.get("onboarding_authority"),
            companies=data.get("companies") or {},
            accreditations=data.get("accreditations") or {},
            status_list_signers=data.get("status_list_signers") or {},
        )

    def is_onboarding_authority(self, did: str) -> bool:
        return did is not None and did == self.onboarding_authority

    def company_status(self, did: str) -> CompanyStatus:
        return self.companies.get(did, CompanyStatus.UNKNOWN)

    def may_issue(self, did: str, credential_type: str) -> bool:
        return credential_type in self.accreditations.get(did, ())

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return self._status_list_signers.get(issuer, frozenset())


class FileTrustRegistry:
    """:class:`StaticTrustRegistry` loaded from a JSON file, reloaded when its mtime changes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._mtime: float | None = None
        self._registry = StaticTrustRegistry()
        self._reload()

    def _reload(self) -> StaticTrustRegistry:
        try:
            mtime = os.stat(self.path).st_mtime
        except FileNotFoundError:
            return self._registry
        with self._lock:
            if mtime != self._mtime:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self._registry = StaticTrustRegistry.from_dict(data)
                self._mtime = mtime
            return self._registry

    def is_onboarding_authority(self, did: str) -> bool:
        return self._reload().is_onboarding_authority(did)

    def company_status(self, did: str) -> CompanyStatus:
        return self._reload().company_status(did)

    def may_issue(self, did: str, credential_type: str) -> bool:
        return self._reload().may_issue(did, credential_type)

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return self._reload().status_list_signers(issuer)


class CombinedTrustRegistry:
    """Several registries as one: the suite's gateway asks KCIT and the operator's own trust
    file. An authority, certifier or status-list signer trusted by any of them is trusted; a
    company's status comes from the registries that know it, and one that marks it inactive
    wins; its delegable powers come from the registries that track powers (see
    :meth:`company_powers`)."""

    def __init__(self, *registries: TrustRegistry) -> None:
        self.registries = registries

    def is_onboarding_authority(self, did: str) -> bool:
        return any(r.is_onboarding_authority(did) for r in self.registries)

    def company_status(self, did: str) -> CompanyStatus:
        known = [
            s
            for s in (r.company_status(did) for r in self.registries)
            if s is not CompanyStatus.UNKNOWN
        ]
        if not known:
            return CompanyStatus.UNKNOWN
        return next((s for s in known if s is not CompanyStatus.ACTIVE), CompanyStatus.ACTIVE)

    def may_issue(self, did: str, credential_type: str) -> bool:
        return any(r.may_issue(did, credential_type) for r in self.registries)

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return frozenset().union(*(r.status_list_signers(issuer) for r in self.registries))

    def company_powers(self, did: str) -> frozenset[str] | None:
        """What the registries that track powers (KCIT) and know the company gave it; only a
        company that none of those knows, but a registry without powers (a trust file) does, is
        left unrestricted (None)."""
        tracking = [r for r in self.registries if hasattr(r, "company_powers")]
        knowing = [r for r in tracking if r.company_status(did) is not CompanyStatus.UNKNOWN]
        if knowing:
            return frozenset().union(*(r.company_powers(did) for r in knowing))
        others = (r for r in self.registries if r not in tracking)
        if any(r.company_status(did) is not CompanyStatus.UNKNOWN for r in others):
            return None
        return frozenset()


def credgate_types(credential: Mapping[str, Any]) -> list[str]:
    known = credential_types()
    return [t for t in as_list(credential.get("type")) if isinstance(t, str) and t in known]


def _check_powers(
    credential: Mapping[str, Any], issuer: str, registry: TrustRegistry, rule: TrustedIssuerRule
) -> None:
    """A company can delegate only the powers KCIT gave it. Registries that know powers (KCIT's)
    have ``company_powers(did)`` -> ``{"app:action", ...}``; others are not asked."""
    company_powers = getattr(registry, "company_powers", None)
    if company_powers is None:
        return
    granted = company_powers(issuer)
    if granted is None:  # a registry that knows the company but not its powers
        return
    subject = credential.get("credentialSubject")
    powers = subject.get("powers") if isinstance(subject, Mapping) else None
    for power in as_list(powers):
        app = power.get("app") if isinstance(power, Mapping) else None
        for action in as_list(power.get("actions") if isinstance(power, Mapping) else None):
            if f"{app}:{action}" not in granted:
                raise VerificationError(
                    errors.POWER_NOT_GRANTED,
                    f"KCIT never gave {issuer} the power {app}:{action} to delegate",
                    rule=rule.value,
                    power=f"{app}:{action}",
                )


def check_issuer(credential: Mapping[str, Any], issuer: str, registry: TrustRegistry) -> list[str]:
    """Apply the trust rule of each credgate type the credential has; return the rules applied
    (empty for credentials that are not credgate's). Raises with the failed rule."""
    applied = []
    for name in credgate_types(credential):
        rule = credential_types()[name].trusted_issuer_rule
        if rule is TrustedIssuerRule.ONBOARDING_AUTHORITY:
            if not registry.is_onboarding_authority(issuer):
                raise VerificationError(
                    errors.UNTRUSTED_ISSUER,
                    f"{name} counts only from the onboarding authority, not {issuer}",
                    rule=rule.value,
                )
        elif rule is TrustedIssuerRule.KCIT_COMPANY:
            state = registry.company_status(issuer)
            if state is CompanyStatus.UNKNOWN:
                raise VerificationError(
                    errors.ISSUER_NOT_KCIT_COMPANY,
                    f"{issuer} is not the public DID of a KCIT-identified company",
                    rule=rule.value,
                )
            if state is not CompanyStatus.ACTIVE:
                raise VerificationError(
                    errors.COMPANY_INACTIVE, f"KCIT marks {issuer} {state.value}", rule=rule.value
                )
            mandator = credential.get("credentialSubject", {})
            mandator = mandator.get("mandator") if isinstance(mandator, Mapping) else None
            mandator_id = mandator.get("id") if isinstance(mandator, Mapping) else None
            if mandator_id != issuer:
                raise VerificationError(
                    errors.UNTRUSTED_ISSUER,
                    "an attorney credential must be issued by its mandator company",
                    rule=rule.value,
                )
            _check_powers(credential, issuer, registry, rule)
        elif rule is TrustedIssuerRule.ACCREDITED_CERTIFIER and not registry.may_issue(
            issuer, name
        ):
            raise VerificationError(
                errors.UNTRUSTED_ISSUER,
                f"{issuer} is not accredited to issue {name}",
                rule=rule.value,
            )
        applied.append(rule.value)
    return applied
