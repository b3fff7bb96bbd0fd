"""The OpenAPI 3.1 description of KCIT's JSON API (served at ``/kcit/openapi.json``).

Kept next to the routes by hand; a test checks that every route of the API blueprint is here.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from credgate import __version__


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


PROBLEM = {"content": {"application/problem+json": {"schema": _ref("Problem")}}}
ADMIN = [{"operatorToken": []}]


def _op(summary: str, response: dict[str, Any] | None = None, *, body: str | None = None,
        admin: bool = False, status: str = "200", params: list | None = None,
        errors: tuple[str, ...] = ("400", "404")) -> dict[str, Any]:  # fmt: skip
    operation: dict[str, Any] = {
        "summary": summary,
        "responses": {status: {"description": "OK", **_json(response or {"type": "object"})}},
    }
    for code in errors:
        operation["responses"][code] = {"description": "problem", **PROBLEM}
    if admin:
        operation["security"] = ADMIN
        operation["responses"]["401"] = {"description": "no or bad token", **PROBLEM}
    if body:
        operation["requestBody"] = {"required": True, **_json(_ref(body))}
    if params:
        operation["parameters"] = params
    return operation


def _path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _query(name: str, description: str, schema: dict | None = None, required=False) -> dict:
    return {"name": name, "in": "query", "required": required, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


@cache
def openapi_document() -> dict[str, Any]:
    company = _path_param("company_id")
    did = _path_param("did")
    paths = {
        "/kcit/registrations": {
            "post": _op(
                "Self-register a company (level of assurance self-registration)",
                _ref("Company"),
                body="Registration",
                status="201",
                errors=("400", "409", "415", "422"),
            ),
        },
        "/kcit/registrations/{token}": {
            "get": _op(
                "Follow a registration (the token from followUrl is the capability)",
                _ref("Company"),
                params=[_path_param("token")],
            ),
        },
        "/kcit/dids/{did}": {
            "get": _op(
                "Look up the company whose public DID this is", _ref("Company"), params=[did]
            ),
        },
        "/kcit/trust": {
            "get": _op(
                "The onboarding authority",
                {
                    "type": "object",
                    "properties": {
                        "onboardingAuthority": {"type": ["string", "null"]},
                    },
                },
                errors=(),
            ),  # fmt: skip
        },
        "/kcit/trust/dids/{did}": {
            "get": _op(
                "Trust facts of a DID: company status, accreditations, delegable powers",
                _ref("TrustFacts"),
                params=[did],
                errors=("400",),
            ),
        },
        "/kcit/trust/may-issue": {
            "get": _op(
                "May DID X issue credential type T?",
                {
                    "type": "object",
                    "properties": {
                        "did": {"type": "string"},
                        "type": {"type": "string"},
                        "mayIssue": {"type": "boolean"},
                        "reason": {"type": "string"},
                    },
                },
                params=[
                    _query("did", "the issuer DID", required=True),
                    _query("type", "a credgate credential type", required=True),
                ],
                errors=("400",),
            ),  # fmt: skip
        },
        "/kcit/changes": {
            "get": _op(
                "Change feed (long poll): DIDs whose trust facts changed",
                _ref("Changes"),
                params=[
                    _query("after", "last seq seen", {"type": "integer"}),
                    _query("wait", "seconds to wait for a change (max 25)", {"type": "number"}),
                ],
                errors=("400",),
            ),  # fmt: skip
        },
        "/kcit/admin/companies": {
            "get": _op(
                "List and filter companies",
                admin=True,
                params=[
                    _query("status", "pending, identified, suspended or removed"),
                    _query("q", "name, number, id or DID contains"),
                    _query("limit", "at most 500", {"type": "integer"}),
                ],
            ),
            "post": _op(
                "Record a company (checked like a self-registration)",
                _ref("Company"),
                body="Registration",
                admin=True,
                status="201",
                errors=("400", "409", "415", "422"),
            ),  # fmt: skip
        },
        "/kcit/admin/companies/{company_id}": {
            "get": _op("A company with its history", _ref("Company"), admin=True, params=[company]),
            "patch": _op(
                "Change a company's fields (reason, version for optimistic locking)",
                _ref("Company"),
                body="Registration",
                admin=True,
                params=[company],
                errors=("400", "404", "409", "422"),
            ),
        },
        "/kcit/admin/companies/{company_id}/approve": {
            "post": _op(
                "Approve: identified, with level of assurance, roles and powers",
                _ref("Company"),
                body="Approval",
                admin=True,
                params=[company],
                errors=("400", "404", "409"),
            ),
        },
        **{
            f"/kcit/admin/companies/{{company_id}}/{action}": {
                "post": _op(
                    f"{action.capitalize()} the company (reason required)",
                    _ref("Company"),
                    body="Reason",
                    admin=True,
                    params=[company],
                    errors=("400", "404", "409"),
                )  # fmt: skip
            }
            for action in ("suspend", "reinstate", "remove")
        },
        "/kcit/admin/companies/{company_id}/dids": {
            "post": _op(
                "Add a public DID (did:web must resolve and list the key)",
                body="DidDeclaration",
                admin=True,
                status="201",
                params=[company],
                errors=("400", "404", "409", "422"),
            ),
        },
        "/kcit/admin/companies/{company_id}/powers": {
            "put": _op(
                "Set the powers the company may delegate",
                _ref("Company"),
                body="Powers",
                admin=True,
                params=[company],
            ),
        },
        "/kcit/admin/companies/{company_id}/history": {
            "get": _op("The company's change history", admin=True, params=[company]),
        },
        "/kcit/admin/accreditations": {
            "get": _op("Active accreditations (?all for withdrawn ones too)", admin=True),
            "post": _op("Grant or withdraw an accreditation", body="Accreditation", admin=True),
        },
        "/kcit/admin/powers": {"get": _op("The power catalogue", admin=True)},
    }
    numbers = {
        "type": "object",
        "minProperties": 1,
        "properties": {
            "vatId": {"type": "string", "description": "VAT number with its country prefix"},
            "lei": {"type": "string", "description": "ISO 17442 LEI (check digits verified)"},
            "euid": {"type": "string", "description": "BRIS EUID"},
            "nationalId": {"type": "string"},
        },
    }
    schemas = {
        "Problem": {
            "type": "object",
            "description": "RFC 9457; field names the offending input (dotted path)",
            "properties": {
                "type": {"type": "string"},
                "title": {"type": "string"},
                "status": {"type": "integer"},
                "detail": {"type": "string"},
                "field": {"type": "string"},
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "type": {"type": "string"},
                            "detail": {"type": "string"},
                        },
                    },
                },
            },
        },  # fmt: skip
        "Registration": {
            "type": "object",
            "required": ["legalName", "legalRegistrationNumber", "country", "representatives"],
            "properties": {
                "legalName": {"type": "string", "maxLength": 300},
                "legalRegistrationNumber": numbers,
                "country": {"type": "string", "pattern": "^[A-Z]{2}$"},
                "subdivision": {"type": "string", "description": "ISO 3166-2, e.g. DE-BY"},
                "addresses": {
                    "type": "array",
                    "maxItems": 5,
                    "items": {
                        "type": "object",
                        "required": ["street", "locality"],
                        "properties": {
                            k: {"type": "string"}
                            for k in (
                                "type",
                                "street",
                                "locality",
                                "postalCode",
                                "region",
                                "country",
                            )
                        },
                    },
                },
                "representatives": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["name", "email"],
                        "properties": {k: {"type": "string"} for k in ("name", "email", "title")},
                    },
                },
                "did": {"type": "string", "description": "public DID: did:web or did:key"},
                "didKey": {"type": "string", "description": "DID URL of its assertion key"},
            },
        },  # fmt: skip
        "Approval": {
            "type": "object",
            "properties": {
                "levelOfAssurance": {"enum": ["self-registration", "verified"]},
                "roles": {"type": "array", "items": {"type": "string"}},
                "powers": {"type": "array", "items": {"type": "string"}},
                "reason": {"type": "string"},
            },
        },
        "Reason": {
            "type": "object",
            "required": ["reason"],
            "properties": {"reason": {"type": "string"}},
        },  # fmt: skip
        "Powers": {
            "type": "object",
            "required": ["powers", "reason"],
            "properties": {
                "powers": {"type": "array", "items": {"type": "string"}},
                "reason": {"type": "string"},
            },
        },  # fmt: skip
        "DidDeclaration": {
            "type": "object",
            "required": ["did"],
            "properties": {"did": {"type": "string"}, "didKey": {"type": "string"}},
        },  # fmt: skip
        "Accreditation": {
            "type": "object",
            "required": ["did", "credentialType"],
            "properties": {
                "did": {"type": "string"},
                "credentialType": {"type": "string"},
                "active": {"type": "boolean"},
                "reason": {"type": "string"},
            },
        },  # fmt: skip
        "Company": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "legalName": {"type": "string"},
                "legalRegistrationNumber": numbers,
                "country": {"type": "string"},
                "status": {"enum": ["pending", "identified", "suspended", "removed"]},
                "companyStatus": {"enum": ["active", "suspended", "unknown"]},
                "levelOfAssurance": {"enum": ["self-registration", "verified"]},
                "dids": {"type": "array", "items": {"type": "object"}},
                "roles": {"type": "array", "items": {"type": "string"}},
                "powers": {"type": "array", "items": {"type": "string"}},
                "followUrl": {"type": "string"},
            },
        },  # fmt: skip
        "TrustFacts": {
            "type": "object",
            "properties": {
                "did": {"type": "string"},
                "companyStatus": {"enum": ["active", "suspended", "unknown"]},
                "company": {"type": ["string", "null"]},
                "accreditations": {"type": "array", "items": {"type": "string"}},
                "powers": {"type": "array", "items": {"type": "string"}},
            },
        },
        "Changes": {
            "type": "object",
            "properties": {
                "changes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "seq": {"type": "integer"},
                            "did": {"type": ["string", "null"]},
                            "status": {"type": "string"},
                            "company": {"type": ["string", "null"]},
                        },
                    },
                },
                "last": {"type": "integer"},
            },
        },  # fmt: skip
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "KCIT — company identification registry", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"operatorToken": {"type": "http", "scheme": "bearer"}},
        },
    }
