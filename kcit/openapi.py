"""The shapes KCIT's JSON API takes and answers, declared once for its routes.

The routes (:mod:`kcit.routes.api`) name these in their :func:`credgate.openapi.operation`
declarations, which validate request bodies against them and build ``/kcit/openapi.json``.
Request schemas state the shape (members, types, what is required); the checks a schema cannot
say as well (VAT and LEI check digits, DID syntax, country codes, reporting every field error
together) stay in :mod:`kcit.validation`, which names each failure's own problem type.
"""

from __future__ import annotations

from credgate.changefeed import long_poll_answer
from credgate.openapi import component, listing
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

NUMBERS = {
    "type": "object",
    "description": "at least one; VAT numbers by country and LEI check digits are checked",
    "additionalProperties": False,
    "properties": {
        "vatId": {"type": "string", "description": "VAT number with its country prefix"},
        "lei": {"type": "string", "description": "ISO 17442 LEI (check digits verified)"},
        "euid": {"type": "string", "description": "BRIS EUID"},
        "nationalId": STRING,
    },
}
ADDRESS = {
    "type": "object",
    "additionalProperties": False,
    "required": ["street", "locality"],
    "properties": {
        k: STRING for k in ("type", "street", "locality", "postalCode", "region", "country")
    },
}
REPRESENTATIVE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "email"],
    "properties": {k: STRING for k in ("name", "email", "title")},
}
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
    {
        "type": "object",
        "description": "the fields to change, a reason, and the version read (optimistic locking)",
        "properties": {
            **_COMPANY_FIELDS,
            "reason": STRING,
            "version": {"type": "integer"},
        },
    },
)
STATUS_CHANGE = component(
    "StatusChange",
    {
        "type": "object",
        "description": (
            "approve: level, roles, powers and an optional reason; "
            "suspend, reinstate and remove: a reason (required)"
        ),
        "properties": {
            "levelOfAssurance": LEVEL,
            "roles": STRINGS,
            "powers": STRINGS,
            "reason": STRING,
        },
    },
)
POWERS = component(
    "Powers",
    {
        "type": "object",
        "required": ["powers", "reason"],
        "properties": {"powers": STRINGS, "reason": STRING},
    },
)
DID_DECLARATION = component(
    "DidDeclaration",
    {
        "type": "object",
        "required": ["did"],
        "properties": {"did": DID, "didKey": NULLABLE},
    },
)
ACCREDITATION_CHANGE = component(
    "AccreditationChange",
    {
        "type": "object",
        "required": ["did", "credentialType"],
        "description": "withdrawing (active false) needs a reason",
        "properties": {
            "did": DID,
            "credentialType": STRING,
            "active": {"type": "boolean"},
            "reason": NULLABLE,
        },
    },
)

DID_ENTRY = component(
    "CompanyDid",
    {
        "type": "object",
        "required": ["did", "origin"],
        "properties": {"did": STRING, "origin": STRING, "key": NULLABLE},
    },
)
COMPANY = component(
    "Company",
    {
        "type": "object",
        "required": ["id", "legalName", "country", "status", "companyStatus", "dids"],
        "properties": {
            "id": STRING,
            "legalName": STRING,
            "legalRegistrationNumber": {"type": "object"},
            "country": STRING,
            "subdivision": NULLABLE,
            "status": {"enum": ["pending", "identified", "suspended", "removed"]},
            "companyStatus": COMPANY_STATUS,
            "levelOfAssurance": LEVEL,
            "dids": {"type": "array", "items": DID_ENTRY},
            "roles": STRINGS,
            "powers": STRINGS,
            "updatedAt": STRING,
            "followUrl": STRING,
            "version": {"type": "integer"},
            "history": {"type": "array", "items": {"type": "object"}},
        },
    },
)
COMPANIES = listing("companies", COMPANY)
EVENT = component(
    "CompanyEvent",
    {
        "type": "object",
        "required": ["id", "action", "at"],
        "properties": {
            "id": {"type": "integer"},
            "company": NULLABLE,
            "did": NULLABLE,
            "action": STRING,
            "actor": NULLABLE,
            "reason": NULLABLE,
            "changes": {},
            "at": STRING,
        },
    },
)
HISTORY = listing("history", EVENT)
ACCREDITATION = component(
    "Accreditation",
    {
        "type": "object",
        "required": ["did", "credentialType", "active"],
        "properties": {
            "did": STRING,
            "credentialType": STRING,
            "active": {"type": "boolean"},
            "grantedBy": NULLABLE,
            "grantedAt": STRING,
            "withdrawnAt": NULLABLE,
        },
    },
)
ACCREDITATIONS = listing("accreditations", ACCREDITATION)
POWER_CATALOGUE = {
    "type": "object",
    "required": ["powers", "default"],
    "properties": {"powers": STRINGS, "default": STRINGS},
}
TRUST = {
    "type": "object",
    "required": ["onboardingAuthority"],
    "properties": {"onboardingAuthority": NULLABLE},
}
TRUST_FACTS = component(
    "TrustFacts",
    {
        "type": "object",
        "required": ["did", "companyStatus"],
        "properties": {
            "did": STRING,
            "companyStatus": COMPANY_STATUS,
            "company": NULLABLE,
            "accreditations": STRINGS,
            "powers": STRINGS,
        },
    },
)
MAY_ISSUE = {
    "type": "object",
    "required": ["did", "type", "mayIssue"],
    "properties": {
        "did": STRING,
        "type": STRING,
        "mayIssue": {"type": "boolean"},
        "reason": NULLABLE,
    },
}
CHANGES = long_poll_answer(
    "Changes",
    {
        "type": "object",
        "properties": {
            "seq": {"type": "integer"},
            "did": NULLABLE,
            "status": STRING,
            "company": NULLABLE,
        },
    },
)
