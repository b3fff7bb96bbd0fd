"""Onboarding by the operator's onboarding authority: people (self-registration, the wallet names
its DID when it accepts) and organisations (verified, to their public DID, with their roles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credgate.db import utcnow
from issuer import credentials, inputs
from issuer.context import IssuerContext
from issuer.exchanges import Offer, open_exchange
from issuer.models import Exchange

PERSON_FIELDS = ("givenName", "familyName", "name", "country")
ORGANISATION_FIELDS = (
    "did",
    "legalName",
    "kcitRecordId",
    "legalRegistrationNumber",
    "country",
    "levelOfAssurance",
    "roles",
)


def onboard_person(ctx: IssuerContext, attributes: Any, actor: str = "public") -> Exchange:
    """An invitation to an Onboarding credential for whoever's wallet accepts it (self-asserted
    attributes; the holder binds its DID in the credential request)."""
    attributes = inputs.json_object(attributes, PERSON_FIELDS)
    authority = ctx.tenants.authority()
    credential = credentials.person_onboarding(
        authority.did, attributes, utcnow(), ctx.settings.onboarding_validity
    )
    return open_exchange(
        ctx, workflow="person-onboarding", tenant=authority,
        offers=[Offer(credential, late_subject=True)], actor=actor,
    )  # fmt: skip


def onboard_organisation(ctx: IssuerContext, body: Any, actor: str) -> Exchange:
    """Onboarding and Role credentials to an organisation's public DID, in one invitation.

    Called by the operator, and by KCIT once it marks a company identified.
    """
    body = inputs.json_object(body, ORGANISATION_FIELDS)
    subject_did = inputs.did(body, "did")
    roles = inputs.strings(body, "roles")
    claims: dict[str, Any] = {
        "id": subject_did,
        **{k: v for k, v in body.items() if k not in ("did", "roles")},
    }
    authority = ctx.tenants.authority()
    now = utcnow()
    onboarding = credentials.organisation_onboarding(
        authority.did, claims, now, ctx.settings.onboarding_validity
    )
    role = credentials.role(authority.did, subject_did, roles, now, ctx.settings.role_validity)
    return open_exchange(
        ctx, workflow="organisation-onboarding", tenant=authority,
        offers=[Offer(onboarding), Offer(role)], actor=actor,
    )  # fmt: skip


def person_attributes(form: Mapping[str, str]) -> dict[str, str]:
    """The onboarding page's form fields, blanks left out (the schema says what is required)."""
    return {name: form[name].strip() for name in PERSON_FIELDS if form.get(name, "").strip()}
