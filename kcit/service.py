"""KCIT's use cases as the API and the pages call them: checked input in, registry changes out.

Request bodies are checked here (:mod:`kcit.validation`, then the DID's own check, which may cost
a fetch), so that :mod:`kcit.registry` only ever sees valid values.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from kcit import registry, validation
from kcit.context import KcitContext
from kcit.dids import check_did
from kcit.models import DID_DECLARED, Company
from schemas.registry import credential_types

APPROVE_FIELDS = ("levelOfAssurance", "roles", "powers", "reason")


def self_register(ctx: KcitContext, body: Any, actor: str = "public") -> tuple[Company, str]:
    checked = validation.registration(body)
    assert isinstance(checked, validation.Registration)
    key_id = None
    if checked.did is not None:
        key_id = check_did(ctx.resolver, checked.did, checked.did_key)
    return registry.register(ctx.factory, checked, key_id=key_id, actor=actor)


def update(ctx: KcitContext, company_id: str, body: Any, actor: str) -> Company:
    if not isinstance(body, Mapping):
        raise validation.single("", "invalid-field", "the body must be a JSON object", 400)
    fields = {k: v for k, v in body.items() if k not in ("reason", "version")}
    if "did" in fields or "didKey" in fields:
        detail = "add DIDs with POST .../dids; they are never replaced"
        raise validation.single("did", "invalid-field", detail, 400)
    changes = validation.registration(fields, partial=True)
    assert isinstance(changes, dict)
    version = body.get("version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise validation.single("version", "invalid-field", "must be the record's version", 400)
    reason = registry.check_reason(body.get("reason"), required=False)
    return registry.update_company(
        ctx.factory, company_id, changes, actor=actor, reason=reason, expected_version=version
    )


def approve(ctx: KcitContext, company_id: str, body: Any, actor: str) -> Company:
    body = _object(body, APPROVE_FIELDS)
    level = validation.level(body.get("levelOfAssurance", "verified"))
    roles = validation.roles(body.get("roles"))
    powers = body.get("powers")
    powers = list(ctx.default_powers) if powers is None else validation.powers(powers, ctx.powers)
    reason = registry.check_reason(body.get("reason"), required=False)
    return registry.transition(
        ctx.factory,
        company_id,
        "approve",
        actor=actor,
        reason=reason,
        level=level,
        roles=roles,
        powers=powers,
    )


def change_status(ctx: KcitContext, company_id: str, action: str, body: Any, actor: str):
    if action == "approve":
        return approve(ctx, company_id, body, actor)
    body = _object(body, ("reason",))
    reason = registry.check_reason(body.get("reason"), required=True)
    return registry.transition(ctx.factory, company_id, action, actor=actor, reason=reason)


def set_powers(ctx: KcitContext, company_id: str, body: Any, actor: str) -> Company:
    body = _object(body, ("powers", "reason"))
    powers = validation.powers(body.get("powers"), ctx.powers)
    reason = registry.check_reason(body.get("reason"), required=True)
    return registry.update_company(
        ctx.factory, company_id, {"powers": powers}, actor=actor, reason=reason
    )


def add_did(ctx: KcitContext, company_id: str, body: Any, actor: str):
    body = _object(body, ("did", "didKey"))
    did = validation.did_syntax(body.get("did"))
    key_id = check_did(ctx.resolver, did, body.get("didKey") or None)
    return registry.attach_did(
        ctx.factory, company_id, did, origin=DID_DECLARED, actor=actor, key_id=key_id
    )


def accredit(ctx: KcitContext, body: Any, actor: str):
    body = _object(body, ("did", "credentialType", "active", "reason"))
    did = validation.did_syntax(body.get("did"))
    type_name = body.get("credentialType")
    if not isinstance(type_name, str) or type_name not in credential_types():
        raise validation.single(
            "credentialType",
            "unknown-credential-type",
            f"must be one of {', '.join(credential_types())}",
            400,
        )
    active = body.get("active", True)
    if not isinstance(active, bool):
        raise validation.single("active", "invalid-field", "must be true or false", 400)
    reason = registry.check_reason(body.get("reason"), required=not active)
    return registry.accredit(ctx.factory, did, type_name, active=active, actor=actor, reason=reason)


def may_issue(ctx: KcitContext, did: str, type_name: str) -> tuple[bool, str]:
    """Whether ``did`` may issue ``type_name`` by the type's trust rule, and why (not)."""
    from schemas.registry import TrustedIssuerRule

    known = credential_types()
    if type_name not in known:
        raise validation.single(
            "type", "unknown-credential-type", f"must be one of {', '.join(known)}", 400
        )
    rule = known[type_name].trusted_issuer_rule
    with ctx.factory() as session:
        facts = registry.trust_facts(session, did)
    if type_name in facts.accreditations:
        return True, "accredited"
    if rule is TrustedIssuerRule.ONBOARDING_AUTHORITY:
        ok = did == ctx.onboarding_authority()
        return ok, "the onboarding authority" if ok else "only the onboarding authority issues it"
    if rule is TrustedIssuerRule.KCIT_COMPANY:
        if facts.status == registry.ACTIVE:
            return True, "an identified company's public DID"
        if facts.status == registry.UNKNOWN:
            return False, "not the public DID of a KCIT-identified company"
        return False, "the company is not active"
    return False, f"not accredited for {type_name}"


def _object(body: Any, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, Mapping):
        raise validation.single("", "invalid-field", "the body must be a JSON object", 400)
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        raise validation.single(unknown[0], "unknown-field", "is not a field of this request", 400)
    return body


def not_found_did(did: str) -> DomainError:
    return DomainError(ProblemType.DID_NOT_FOUND, f"KCIT knows no company with {did}")
