"""Roles of the companies attorneys act for.

An employee presents an Attorney credential; the company's own RoleCredential is not in that
presentation (its subject is the company, and a presentation counts only if every credential's
subject signed it). So the gateway keeps the companies' role credentials, registered once by the
operator or by KCIT/depute after onboarding, and re-checks each one (status, trust, validity)
every time it is used: a company whose role is revoked stops publishing at once.

A trust registry that knows companies' roles itself (``company_roles(did)``) is asked too.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cachetools import TTLCache
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from credgate.db import transaction, utcnow
from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from gateway.grants import recheck
from gateway.models import CompanyCredential
from verifier.credentials import CredentialFacts, as_list, check_credential
from verifier.engine import Verifier

ROLE_TYPE = "RoleCredential"


class CompanyRegistry:
    def __init__(self, factory: sessionmaker[Session], verifier: Verifier) -> None:
        self.factory = factory
        self.verifier = verifier
        # The stored credentials of a company change only when one is registered; the verdict on
        # them is computed on every call (status and trust change, not the documents).
        self._documents: TTLCache[str, tuple[tuple[Mapping[str, Any], CredentialFacts], ...]] = (
            TTLCache(maxsize=4096, ttl=5.0)
        )
        self._lock = threading.Lock()

    def register(self, credential: Any, *, actor: str) -> dict[str, Any]:
        """Verify a RoleCredential about a company and keep it; returns its summary."""
        if not isinstance(credential, dict):
            raise DomainError(ProblemType.INVALID_REQUEST, "send verifiableCredential")
        result = self.verifier.verify_credential(credential)
        if not result.verified:
            raise DomainError(
                ProblemType.VERIFICATION_FAILED,
                "the credential did not verify",
                errors=result.error_types(),
            )
        facts = result.facts
        if facts is None or ROLE_TYPE not in facts.types or len(facts.subject_ids) != 1:
            raise DomainError(
                ProblemType.NOT_A_ROLE_CREDENTIAL,
                "register a RoleCredential with one subject (the company's DID)",
            )
        company = facts.subject_ids[0]
        credential_id = credential.get("id")
        if not isinstance(credential_id, str) or len(credential_id) > 500:
            raise DomainError(ProblemType.INVALID_CREDENTIAL, "it needs an id")
        try:
            with transaction(self.factory) as session:
                session.add(
                    CompanyCredential(
                        company=company,
                        credential_id=credential_id,
                        credential=credential,
                        registered_by=actor[:200],
                    )
                )
        except IntegrityError:
            pass  # registered before: same id, nothing to add
        with self._lock:
            self._documents.pop(company, None)
        return {"company": company, "credential": credential_id, "roles": roles_in(credential)}

    def _documents_of(self, company: str) -> tuple[tuple[Mapping[str, Any], CredentialFacts], ...]:
        with self._lock:
            found = self._documents.get(company)
        if found is None:
            with self.factory() as session:
                rows = session.scalars(
                    select(CompanyCredential.credential).where(CompanyCredential.company == company)
                ).all()
            found = tuple((c, check_credential(c)) for c in rows)
            with self._lock:
                self._documents[company] = found
        return found

    def roles(
        self, company: str, now: datetime | None = None
    ) -> tuple[frozenset[str], tuple[str, ...]]:
        """The roles the company's credentials grant now, and those credentials' ids."""
        results = recheck(self.verifier, self._documents_of(company), now or utcnow())
        roles: set[str] = set()
        ids: list[str] = []
        for result in results:
            if result.trusted:
                roles.update(roles_in(result.credential))
                ids.append(str(result.credential.get("id")))
        lookup = getattr(self.verifier.trust, "company_roles", None)
        if callable(lookup):
            roles.update(lookup(company))
        return frozenset(roles), tuple(ids)


def roles_in(credential: Mapping[str, Any]) -> list[str]:
    found: list[str] = []
    for subject in as_list(credential.get("credentialSubject")):
        if isinstance(subject, Mapping):
            found.extend(r for r in as_list(subject.get("roles")) if isinstance(r, str))
    return found
