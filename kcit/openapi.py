"""The shapes KCIT's JSON API takes and answers, declared once for its routes.

The routes (:mod:`kcit.routes.api`) name these in their :func:`credgate.openapi.operation`
declarations, which validate request bodies against them and build ``/kcit/openapi.json``.
Request schemas state the shape (members, types, what is required); the checks a schema cannot
say as well (VAT and LEI check digits, DID syntax, country codes, reporting every field error
together) stay in :mod:`kcit.validation`, which names each failure's own problem type.
"""

from __future__ import annotations

from credgate.changefeed import long_poll_answer
from credgate.openapi import component, listing, obj
from kcit.validation import DID as DID_SYNTAX
from kcit.validation import SUPPORTED_DID_METHODS

__all__ = [
    "DID",
    "DID_PATH",
    "ACCREDITATION",
    "ACCREDITATIONS",
    "ACCREDITATION_CHANGE",
    "CHANGES",
    "COMPANIES",
    "COMPANY",
    "COMPANY_CHANGE",
    "DID_DECLARATION",
    "DID_ENTRY",
    "HISTORY",
    "POWERS",
    "POWER_CATALOGUE",
    "REGISTRATION",
    "STATUS_CHANGE",
    "TRUST",
    "TRUST_FACTS",
    "MAY_ISSUE",
]

STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}
INTEGER = {"type": "integer"}
OBJECT = {"type": "object"}
#: A DID as :func:`kcit.validation.did_syntax` reads it (its problem: invalid-did, a 422).
DID = {
    "type": "string",
    "pattern": DID_SYNTAX.pattern,
    "maxLength": 500,
    "x-problem": "invalid-did",
    "x-status": 422,
}
#: A DID in a path: only those of the methods KCIT supports are ever found.
DID_PATH = {
    "type": "string",
    "maxLength": 500,
    "pattern": DID_SYNTAX.pattern.replace(
        "did:[a-z0-9]+:", f"did:(?:{'|'.join(SUPPORTED_DID_METHODS)}):"
    ),
}
STRINGS = {"type": "array", "items": STRING}
NULLABLE = {"type": ["string", "null"]}
LEVEL = {"enum": ["self-registration", "verified"]}
COMPANY_STATUS = {"enum": ["active", "suspended", "unknown"]}

NUMBERS = obj(
    optional={
        "vatId": {"type": "string", "description": "VAT number with its country prefix"},
        "lei": {"type": "string", "description": "ISO 17442 LEI (check digits verified)"},
        "euid": {"type": "string", "description": "BRIS EUID"},
        "nationalId": STRING,
    },
    description="at least one; VAT numbers by country and LEI check digits are checked",
    additionalProperties=False,
)
ADDRESS = obj(
    required={"street": STRING, "locality": STRING},
    optional={k: STRING for k in ("type", "postalCode", "region", "country")},
    additionalProperties=False,
)
REPRESENTATIVE = obj(
    required={"name": STRING, "email": STRING},
    optional={"title": STRING},
    additionalProperties=False,
)
_COMPANY_FIELDS = {
    "legalName": {"type": "string", "description": "at most 300 characters"},
    "legalRegistrationNumber": NUMBERS,
    "country": {"type": "string", "description": "ISO 3166-1 alpha-2, e.g. FR"},
    "subdivision": {"type": ["string", "null"], "description": "ISO 3166-2, e.g. DE-BY"},
    "addresses": {"type": ["array", "null"], "description": "at most 5", "items": ADDRESS},
    "representatives": {"type": "array", "description": "1 to 10", "items": REPRESENTATIVE},
    "did": {"type": ["string", "null"], "description": "public DID: did:web or did:key"},
    "didKey": {"type": ["string", "null"], "description": "DID URL of its assertion key"},
}

REGISTRATION = component(
    "Registration",
    {
        "type": "object",
        "additionalProperties": False,
        "required": ["legalName", "legalRegistrationNumber", "country", "representatives"],
        "properties": _COMPANY_FIELDS,
    },
)
COMPANY_CHANGE = component(
    "CompanyChange",
    obj(
        optional={**_COMPANY_FIELDS, "reason": STRING, "version": INTEGER},
        description="the fields to change, a reason, and the version read (optimistic locking)",
    ),
)
STATUS_CHANGE = component(
    "StatusChange",
    obj(
        optional={"levelOfAssurance": LEVEL, "roles": STRINGS, "powers": STRINGS, "reason": STRING},
        description=(
            "approve: level, roles, powers and an optional reason; "
            "suspend, reinstate and remove: a reason (required)"
        ),
    ),
)
POWERS = component("Powers", obj(required={"powers": STRINGS, "reason": STRING}))
DID_DECLARATION = component(
    "DidDeclaration", obj(required={"did": DID}, optional={"didKey": NULLABLE})
)
ACCREDITATION_CHANGE = component(
    "AccreditationChange",
    obj(
        required={"did": DID, "credentialType": STRING},
        optional={"active": BOOLEAN, "reason": NULLABLE},
        description="withdrawing (active false) needs a reason",
    ),
)

DID_ENTRY = component(
    "CompanyDid",
    obj(required={"did": STRING, "origin": STRING}, optional={"key": NULLABLE}),
)
COMPANY = component(
    "Company",
    obj(
        required={
            "id": STRING,
            "legalName": STRING,
            "country": STRING,
            "status": {"enum": ["pending", "identified", "suspended", "removed"]},
            "companyStatus": COMPANY_STATUS,
            "dids": {"type": "array", "items": DID_ENTRY},
        },
        optional={
            "legalRegistrationNumber": OBJECT,
            "subdivision": NULLABLE,
            "levelOfAssurance": LEVEL,
            "roles": STRINGS,
            "powers": STRINGS,
            "updatedAt": STRING,
            "followUrl": STRING,
            "version": INTEGER,
            "history": {"type": "array", "items": OBJECT},
        },
    ),
)
COMPANIES = listing("companies", COMPANY)
EVENT = component(
    "CompanyEvent",
    obj(
        required={"id": INTEGER, "action": STRING, "at": STRING},
        optional={
            "company": NULLABLE,
            "did": NULLABLE,
            "actor": NULLABLE,
            "reason": NULLABLE,
            "changes": {},
        },
    ),
)
HISTORY = listing("history", EVENT)
ACCREDITATION = component(
    "Accreditation",
    obj(
        required={"did": STRING, "credentialType": STRING, "active": BOOLEAN},
        optional={"grantedBy": NULLABLE, "grantedAt": STRING, "withdrawnAt": NULLABLE},
    ),
)
ACCREDITATIONS = listing("accreditations", ACCREDITATION)
POWER_CATALOGUE = obj(required={"powers": STRINGS, "default": STRINGS})
TRUST = obj(required={"onboardingAuthority": NULLABLE})
TRUST_FACTS = component(
    "TrustFacts",
    obj(
        required={"did": STRING, "companyStatus": COMPANY_STATUS},
        optional={"company": NULLABLE, "accreditations": STRINGS, "powers": STRINGS},
    ),
)
MAY_ISSUE = obj(
    required={"did": STRING, "type": STRING, "mayIssue": BOOLEAN},
    optional={"reason": NULLABLE},
)
CHANGES = long_poll_answer(
    "Changes",
    obj(optional={"seq": INTEGER, "did": NULLABLE, "status": STRING, "company": NULLABLE}),
)
