"""Onboarding by the operator's onboarding authority: people (self-registration, to the DID they
give or, without one, the DID their wallet names when it accepts) and organisations (verified,
to their public DID, with their roles)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credgate.db import utcnow
from issuer import credentials, inputs
from issuer.context import IssuerContext
from issuer.exchanges import Offer, open_exchange, proof_type_of
from issuer.models import Exchange

PERSON_FIELDS = ("givenName", "familyName", "name", "country")
OPTIONS = ("did", "proofType")  # of the offer, not claims
ORGANISATION_FIELDS = (
    "did",
    "legalName",
    "kcitRecordId",
    "legalRegistrationNumber",
    "country",
    "levelOfAssurance",
    "roles",
)


def onboard_person(ctx: IssuerContext, body: Any, actor: str = "public") -> Exchange:
    """An invitation to an Onboarding credential (self-asserted attributes).

    With ``did`` the subject is bound up front, as wallets that copy the offer into their request
    (Credo) need; without it, whoever's wallet accepts binds its DID in the credential request
    (ACA-Py's ``holder_did``) and a request naming none is refused. ``proofType`` picks the suite.
    """
    body = inputs.json_object(body, (*PERSON_FIELDS, *OPTIONS))
    subject_did = inputs.did(body, "did", required=False)
    proof_type = proof_type_of(body)
    attributes = {k: v for k, v in body.items() if k not in OPTIONS}
    authority = ctx.tenants.authority()
    credential = credentials.person_onboarding(
        authority.did, attributes, utcnow(), ctx.settings.onboarding_validity
    )
    if subject_did is not None:
        credential = credentials.with_subject(credential, subject_did)
    offer = Offer(credential, late_subject=subject_did is None, proof_type=proof_type)
    return open_exchange(
        ctx, workflow="person-onboarding", tenant=authority, offers=[offer], actor=actor
    )


def onboard_organisation(ctx: IssuerContext, body: Any, actor: str) -> Exchange:
    """Onboarding and Role credentials to an organisation's public DID, in one invitation.

    Called by the operator, and by KCIT once it marks a company identified.
    """
    body = inputs.json_object(body, (*ORGANISATION_FIELDS, "proofType"))
    subject_did = inputs.did(body, "did")
    roles = inputs.strings(body, "roles")
    proof_type = proof_type_of(body)
    claims: dict[str, Any] = {
        "id": subject_did,
        **{k: v for k, v in body.items() if k not in ("did", "roles", "proofType")},
    }
    authority = ctx.tenants.authority()
    now = utcnow()
    onboarding = credentials.organisation_onboarding(
        authority.did, claims, now, ctx.settings.onboarding_validity
    )
    role = credentials.role(authority.did, subject_did, roles, now, ctx.settings.role_validity)
    return open_exchange(
        ctx,
        workflow="organisation-onboarding",
        tenant=authority,
        offers=[Offer(onboarding, proof_type=proof_type), Offer(role, proof_type=proof_type)],
        actor=actor,
    )


def person_attributes(form: Mapping[str, str]) -> dict[str, str]:
    """The onboarding page's form fields and offer options, blanks left out (the schema says what
    is required)."""
    names = (*PERSON_FIELDS, *OPTIONS)
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}
