"""Which of our tenants may sign which credential type, checked before signing.

The verifier enforces the same rules; refusing here keeps us from issuing what no verifier
accepts. Certifiers must be accredited in KCIT (asked before each signing). An Attorney
credential may come from any of our tenants except the onboarding authority and the certifiers:
depute creates a tenant per company, and whether that company is identified and active is for
the verifier to ask KCIT when the credential is used.
"""

from __future__ import annotations

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from issuer.certifiers import is_accredited, is_certifier_did
from issuer.context import IssuerContext
from schemas.registry import TrustedIssuerRule, credential_type


def authorize_issuer(ctx: IssuerContext, type_name: str | None, issuer_did: str) -> None:
    if type_name is None:
        return
    rule = credential_type(type_name).trusted_issuer_rule
    authority = ctx.tenants.authority().did
    if rule is TrustedIssuerRule.ONBOARDING_AUTHORITY and issuer_did != authority:
        raise _not_allowed(type_name, issuer_did, "only the onboarding authority issues it")
    if rule is TrustedIssuerRule.ACCREDITED_CERTIFIER and not is_accredited(
        ctx, issuer_did, type_name
    ):
        raise DomainError(
            ProblemType.CERTIFIER_NOT_ACCREDITED,
            f"{issuer_did} is not accredited to issue {type_name}",
        )
    if rule is TrustedIssuerRule.KCIT_COMPANY and (
        issuer_did == authority or is_certifier_did(ctx, issuer_did)
    ):
        raise _not_allowed(type_name, issuer_did, "it is issued by a company's own DID")


def _not_allowed(type_name: str, issuer_did: str, why: str) -> DomainError:
    return DomainError(
        ProblemType.ISSUER_NOT_ALLOWED,
        f"{issuer_did} may not issue {type_name}: {why}",
    )


def unknown_issuer(issuer_did: str | None) -> DomainError:
    return DomainError(
        ProblemType.UNKNOWN_ISSUER,
        f"the issuer service holds no key for {issuer_did!r}",
    )
