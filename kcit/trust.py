"""KCIT's trust registry read in-process, for services beside KCIT on the same database: what
depute's and KCIT's own sign-ins verify an admin's credential against. Always current: no cache."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from kcit import registry
from verifier.trust import CompanyStatus


class KcitDatabaseTrust:
    """``authority()`` names the onboarding authority's DID (asked each time: it may be created
    after this registry)."""

    def __init__(self, factory: sessionmaker[Session], authority: Callable[[], str | None]) -> None:
        self.factory = factory
        self.authority = authority

    def _facts(self, did: str) -> registry.TrustFacts:
        with self.factory() as session:
            return registry.trust_facts(session, did)

    def is_onboarding_authority(self, did: str) -> bool:
        return did is not None and did == self.authority()

    def company_status(self, did: str) -> CompanyStatus:
        return CompanyStatus(self._facts(did).status)

    def may_issue(self, did: str, credential_type: str) -> bool:
        return credential_type in self._facts(did).accreditations

    def status_list_signers(self, issuer: str) -> frozenset[str]:
        return frozenset()

    def company_powers(self, did: str) -> frozenset[str]:
        return frozenset(self._facts(did).powers)
