"""Checks of what a company declares: legal name, registration numbers, country, addresses,
representatives and its public DID.

Every failure names its field (a dotted path into the request body) and has a stable type, so a
form can put the message next to the right input and a client can switch on the type. All
failures of one request are reported together (``errors``); the problem's own ``type`` and
``field`` are those of the first. VAT numbers (format by country prefix, and check digits where
the country has them) and LEIs (ISO 17442 check digits, ISO 7064 MOD 97-10) are checked with
python-stdnum rather than by hand.

The did:web check (the DID document resolves and lists the declared key for assertions) is in
:mod:`kcit.dids`; it costs a fetch, so it runs only once everything else is valid.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from stdnum import lei as stdnum_lei
from stdnum import vatin
from stdnum.exceptions import ValidationError as NumberError

from credgate.problems import Problem
from kcit.models import LEVELS
from schemas.registry import ROLES

DID = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+$")
DID_URL = re.compile(r"^(did:[a-z0-9]+:(?:[A-Za-z0-9._%-]*:)*[A-Za-z0-9._%-]+)#[A-Za-z0-9._~%-]+$")
EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
SUBDIVISION = re.compile(r"^([A-Z]{2})-[A-Z0-9]{1,3}$")
# BRIS EUID: country, register id, a dot, the number in that register (as the onboarding schema).
EUID = re.compile(r"^([A-Z]{2})[A-Za-z0-9]+\.[A-Za-z0-9][A-Za-z0-9./-]*$")
NATIONAL_ID = re.compile(r"^\S(.{0,78}\S)?$")
POWER = re.compile(r"^[a-z][a-z0-9_-]{0,63}:[a-z][a-z0-9_:-]{0,63}$")
# VAT prefixes that are not the ISO country code.
VAT_PREFIX_COUNTRY = {"EL": "GR", "XI": "GB"}
SUPPORTED_DID_METHODS = ("key", "web")

REGISTRATION_FIELDS = (
    "legalName",
    "legalRegistrationNumber",
    "country",
    "subdivision",
    "addresses",
    "representatives",
    "did",
    "didKey",
)
NUMBER_FIELDS = ("vatId", "lei", "euid", "nationalId")
ADDRESS_FIELDS = ("type", "street", "locality", "postalCode", "region", "country")
REPRESENTATIVE_FIELDS = ("name", "email", "title")
MAX_ADDRESSES = 5
MAX_REPRESENTATIVES = 10


@dataclass(frozen=True)
class FieldError:
    field: str
    slug: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        return {"field": self.field, "type": self.slug, "detail": self.detail}


@dataclass
class Errors:
    found: list[FieldError] = field(default_factory=list)

    def add(self, name: str, slug: str, detail: str) -> None:
        self.found.append(FieldError(name, slug, detail))

    def raise_if_any(self) -> None:
        if self.found:
            raise field_problem(self.found)


TITLES = {
    "invalid-vat": "Invalid VAT number",
    "invalid-lei": "Invalid LEI",
    "invalid-euid": "Invalid EUID",
    "invalid-did": "Invalid DID",
    "unsupported-did-method": "Unsupported DID method",
    "did-not-resolvable": "DID document not resolvable",
    "did-key-not-found": "Declared key not in the DID document",
    "did-taken": "DID already registered",
    "invalid-country": "Invalid country",
    "invalid-field": "Invalid field",
    "missing-field": "Missing field",
    "unknown-field": "Unknown field",
}


def field_problem(found: list[FieldError], status: int = 422) -> Problem:
    first = found[0]
    return Problem(
        first.slug,
        TITLES.get(first.slug, "Invalid field"),
        status,
        "; ".join(f"{e.field}: {e.detail}" for e in found[:5]),
        field=first.field,
        errors=[e.to_dict() for e in found],
    )


def single(name: str, slug: str, detail: str, status: int = 422) -> Problem:
    return field_problem([FieldError(name, slug, detail)], status)


# -- pieces --------------------------------------------------------------------------------------


def _text(errors: Errors, value: Any, name: str, *, required: bool, max_length: int) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        if required:
            errors.add(name, "missing-field", "is required")
        return None
    if not isinstance(value, str) or not value.strip():
        errors.add(name, "invalid-field", "must be a non-empty string")
        return None
    value = " ".join(value.split())  # no control characters or runs of blanks in the registry
    if len(value) > max_length:
        errors.add(name, "invalid-field", f"must be at most {max_length} characters")
        return None
    return value


def _unknown(errors: Errors, body: Mapping[str, Any], allowed: Iterable[str], prefix: str) -> None:
    for key in sorted(set(body) - set(allowed)):
        errors.add(f"{prefix}{key}", "unknown-field", "is not a field of this object")


def vat_id(value: str, country: str | None = None) -> str:
    """The VAT number, compact; raises :class:`ValueError` with the reason."""
    compact = re.sub(r"[\s.-]", "", value).upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,14}", compact):
        raise ValueError("must be a country prefix and the national VAT number, e.g. FR40303265045")
    try:
        vatin.validate(compact)
    except NumberError as exc:
        raise ValueError(f"{compact[:2]} VAT number is not valid: {exc}") from None
    prefix = compact[:2]
    if country and VAT_PREFIX_COUNTRY.get(prefix, prefix) != country:
        raise ValueError(f"the prefix {prefix} does not match the country {country}")
    return compact


def lei(value: str) -> str:
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[0-9A-Z]{18}[0-9]{2}", compact):
        raise ValueError("must be 18 letters or digits and 2 check digits (ISO 17442)")
    try:
        stdnum_lei.validate(compact)
    except NumberError:
        raise ValueError("the check digits do not match (ISO 17442, MOD 97-10)") from None
    return compact


def did_syntax(value: Any, name: str = "did") -> str:
    """A DID of a method KCIT supports; raises a field problem."""
    if not isinstance(value, str) or not DID.fullmatch(value) or len(value) > 500:
        raise single(name, "invalid-did", "must be a DID: did:<method>:<method-specific id>")
    method = value.split(":")[1]
    if method not in SUPPORTED_DID_METHODS:
        raise single(
            name, "unsupported-did-method", f"did:{method} is not supported; use did:web or did:key"
        )
    return value


def registration_numbers(errors: Errors, value: Any, country: str | None) -> dict[str, str]:
    name = "legalRegistrationNumber"
    if not isinstance(value, Mapping):
        errors.add(
            name,
            "missing-field" if value is None else "invalid-field",
            "give at least one of vatId, lei, euid, nationalId",
        )
        return {}
    _unknown(errors, value, NUMBER_FIELDS, f"{name}.")
    found: dict[str, str] = {}
    for key in NUMBER_FIELDS:
        raw = value.get(key)
        if raw is None or raw == "":
            continue
        path = f"{name}.{key}"
        if not isinstance(raw, str):
            errors.add(path, "invalid-field", "must be a string")
            continue
        try:
            if key == "vatId":
                found[key] = vat_id(raw, country)
            elif key == "lei":
                found[key] = lei(raw)
            elif key == "euid":
                compact = raw.strip()
                match = EUID.fullmatch(compact)
                if not match or len(compact) > 80:
                    raise ValueError("must be country, register id, '.', number (BRIS EUID)")
                if country and match.group(1) != country:
                    raise ValueError(f"the prefix {match.group(1)} does not match {country}")
                found[key] = compact
            else:
                compact = raw.strip()
                if not NATIONAL_ID.fullmatch(compact):
                    raise ValueError("must be 1 to 80 characters without leading blanks")
                found[key] = compact
        except ValueError as exc:
            slug = {"vatId": "invalid-vat", "lei": "invalid-lei", "euid": "invalid-euid"}.get(
                key, "invalid-field"
            )
            errors.add(path, slug, str(exc))
    if not found and not any(e.field.startswith(name) for e in errors.found):
        errors.add(name, "missing-field", "give at least one of vatId, lei, euid, nationalId")
    return found


def addresses(errors: Errors, value: Any, country: str | None) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ADDRESSES:
        errors.add("addresses", "invalid-field", f"must be a list of at most {MAX_ADDRESSES}")
        return []
    result = []
    for path, item in _objects(errors, value, "addresses", ADDRESS_FIELDS):
        address: dict[str, str] = {}
        for key in ADDRESS_FIELDS:
            required = key in ("street", "locality")
            text = _text(errors, item.get(key), f"{path}.{key}", required=required, max_length=200)
            if text is not None:
                address[key] = text
        if "country" in address and not COUNTRY.fullmatch(address["country"]):
            errors.add(f"{path}.country", "invalid-country", "must be an ISO 3166-1 alpha-2 code")
        address.setdefault("country", country or "")
        address.setdefault("type", "registered")
        result.append(address)
    return result


def representatives(errors: Errors, value: Any) -> list[dict[str, str]]:
    if not isinstance(value, list) or not value or len(value) > MAX_REPRESENTATIVES:
        errors.add(
            "representatives",
            "missing-field" if not value else "invalid-field",
            f"name 1 to {MAX_REPRESENTATIVES} representatives (name, email)",
        )
        return []
    result = []
    for path, item in _objects(errors, value, "representatives", REPRESENTATIVE_FIELDS):
        person: dict[str, str] = {}
        name = _text(errors, item.get("name"), f"{path}.name", required=True, max_length=200)
        email = _text(errors, item.get("email"), f"{path}.email", required=True, max_length=254)
        title = _text(errors, item.get("title"), f"{path}.title", required=False, max_length=200)
        if email is not None and not EMAIL.fullmatch(email):
            errors.add(f"{path}.email", "invalid-field", "must be an email address")
        elif email is not None:
            person["email"] = email
        if name is not None:
            person["name"] = name
        if title is not None:
            person["title"] = title
        result.append(person)
    return result


def _objects(
    errors: Errors, items: list[Any], name: str, fields: tuple[str, ...]
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Each object of the list ``name`` with its path; an item that is not an object, or a
    member outside ``fields``, is an error."""
    for i, item in enumerate(items):
        path = f"{name}[{i}]"
        if not isinstance(item, Mapping):
            errors.add(path, "invalid-field", "must be an object")
            continue
        _unknown(errors, item, fields, f"{path}.")
        yield path, item


def country_and_subdivision(
    errors: Errors, body: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    country = body.get("country")
    if country is None:
        errors.add("country", "missing-field", "is required (ISO 3166-1 alpha-2, e.g. DE)")
        country = None
    elif not isinstance(country, str) or not COUNTRY.fullmatch(country.strip().upper()):
        errors.add("country", "invalid-country", "must be an ISO 3166-1 alpha-2 code, e.g. DE")
        country = None
    else:
        country = country.strip().upper()
    subdivision = body.get("subdivision")
    if subdivision in (None, ""):
        return country, None
    match = None
    if isinstance(subdivision, str):
        match = SUBDIVISION.fullmatch(subdivision.strip().upper())
    if match is None:
        errors.add("subdivision", "invalid-country", "must be an ISO 3166-2 code, e.g. DE-BY")
        return country, None
    if country and match.group(1) != country:
        errors.add("subdivision", "invalid-country", f"is not a subdivision of {country}")
    return country, subdivision.strip().upper()


# -- whole requests ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    legal_name: str
    numbers: dict[str, str]
    country: str
    subdivision: str | None
    addresses: list[dict[str, str]]
    representatives: list[dict[str, str]]
    did: str | None
    did_key: str | None


def registration(body: Any, *, partial: bool = False) -> Registration | dict[str, Any]:
    """The checked registration. With ``partial`` (an admin's update) only the fields present
    are checked, and a dict of them is returned (model attribute -> value)."""
    if not isinstance(body, Mapping):
        raise single("", "invalid-field", "the body must be a JSON object", 400)
    errors = Errors()
    _unknown(errors, body, REGISTRATION_FIELDS, "")
    present = set(body)

    legal_name = None
    if not partial or "legalName" in present:
        legal_name = _text(
            errors, body.get("legalName"), "legalName", required=True, max_length=300
        )
    country = subdivision = None
    if not partial or "country" in present or "subdivision" in present:
        country, subdivision = country_and_subdivision(errors, body)
    numbers = None
    if not partial or "legalRegistrationNumber" in present:
        numbers = registration_numbers(errors, body.get("legalRegistrationNumber"), country)
    found_addresses = None
    if not partial or "addresses" in present:
        found_addresses = addresses(errors, body.get("addresses"), country)
    found_representatives = None
    if not partial or "representatives" in present:
        found_representatives = representatives(errors, body.get("representatives"))
    did = did_key = None
    if body.get("did") not in (None, ""):
        try:
            did = did_syntax(body.get("did"))
        except Problem as problem:
            errors.found.extend(FieldError(**_err(e)) for e in problem.extra["errors"])
    if body.get("didKey") not in (None, ""):
        raw = body.get("didKey")
        match = DID_URL.fullmatch(raw) if isinstance(raw, str) else None
        if match is None:
            errors.add("didKey", "invalid-did", "must be a DID URL naming a key: <did>#<fragment>")
        elif did is not None and match.group(1) != did:
            errors.add("didKey", "invalid-did", "must be a key of the declared did")
        else:
            did_key = raw
    if (
        did is not None
        and did.startswith("did:web:")
        and did_key is None
        and not any(e.field == "didKey" for e in errors.found)
    ):
        detail = "a did:web needs the id of the key it signs with (<did>#<fragment>)"
        errors.add("didKey", "missing-field", detail)
    errors.raise_if_any()

    if partial:
        changes: dict[str, Any] = {}
        if legal_name is not None:
            changes["legal_name"] = legal_name
        if country is not None:
            changes["country"] = country
        if "subdivision" in present:
            changes["subdivision"] = subdivision
        if numbers is not None:
            for key, column in (
                ("vatId", "vat_id"),
                ("lei", "lei"),
                ("euid", "euid"),
                ("nationalId", "national_id"),
            ):
                changes[column] = numbers.get(key)
        if found_addresses is not None:
            changes["addresses"] = found_addresses
        if found_representatives is not None:
            changes["representatives"] = found_representatives
        return changes
    return Registration(
        legal_name=legal_name or "",
        numbers=numbers or {},
        country=country or "",
        subdivision=subdivision,
        addresses=found_addresses or [],
        representatives=found_representatives or [],
        did=did,
        did_key=did_key,
    )


def _err(item: Mapping[str, str]) -> dict[str, str]:
    return {"field": item["field"], "slug": item["type"], "detail": item["detail"]}


def level(value: Any, name: str = "levelOfAssurance") -> str:
    if value not in LEVELS:
        raise single(name, "invalid-field", f"must be one of {', '.join(LEVELS)}", 400)
    return value


def roles(value: Any, name: str = "roles") -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(v in ROLES for v in value):
        raise single(name, "invalid-field", f"must be a list of: {', '.join(ROLES)}", 400)
    return list(dict.fromkeys(value))


def powers(value: Any, catalogue: Iterable[str], name: str = "powers") -> list[str]:
    """Powers (``app:action``) from the catalogue the suite's apps declare."""
    known = list(catalogue)
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise single(name, "invalid-field", "must be a list of app:action strings", 400)
    unknown = [v for v in value if v not in known]
    if unknown or not all(POWER.fullmatch(v) for v in value):
        raise single(
            name,
            "unknown-power",
            f"unknown power(s) {', '.join(unknown)[:200]}; known: {', '.join(known)}",
            400,
        )
    return list(dict.fromkeys(value))
