"""Which stored credentials answer a DIF Presentation Exchange request, and the holder's choice.

Matching per input descriptor uses the verifier's own evaluation (schema URIs and field filters), so
the wallet offers exactly what the gateway will accept. ACA-Py's holder is then told which records
to use (``record_ids``) because on its own it takes every matching credential and fails when they
have different subject DIDs (measured with ACA-Py 1.7). Two more quirks of its holder make the
wallet send its own copy of the definition (same id and descriptors, so the verifier's check is
unchanged):

* it searches stored credentials for *every* ``schema`` URI of a descriptor (AND), and a context
  URI (which our definitions list beside the type IRI for other wallets) is never a type: URIs
  the chosen credentials do not carry as a type are marked ``required: false``;
* if ``format.ldp_vp.proof_type`` names Ed25519Signature2018 anywhere, it considers only
  2018-signed credentials (and it ignores 2020 in that list): the copy names exactly the chosen
  credentials' proof type.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jsonpath_ng.exceptions import JsonPathParserError
from jsonschema.exceptions import SchemaError

from credgate.errors import DomainError
from credgate.problem_types import ProblemType
from verifier.pdp import descriptor_matches

Stored = Mapping[str, Any]  # ACA-Py's W3C credential record: record_id, cred_value, ...


def input_descriptors(definition: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    descriptors = definition.get("input_descriptors")
    if not isinstance(descriptors, list) or not descriptors:
        raise DomainError(
            ProblemType.UNSUPPORTED_REQUEST,
            "the request's presentation definition lists no input descriptors",
        )
    return [d for d in descriptors if isinstance(d, Mapping)]


def candidates(definition: Mapping[str, Any], stored: Iterable[Stored]) -> dict[str, list[Stored]]:
    """Descriptor id -> the stored credentials that satisfy it (in the wallet's order)."""
    stored = list(stored)
    result: dict[str, list[Stored]] = {}
    try:
        for descriptor in input_descriptors(definition):
            result[str(descriptor.get("id"))] = [
                record
                for record in stored
                if isinstance(record.get("cred_value"), Mapping)
                and descriptor_matches(record["cred_value"], descriptor)
            ]
    except (JsonPathParserError, SchemaError, ValueError, TypeError, AttributeError) as exc:
        raise DomainError(
            ProblemType.UNSUPPORTED_REQUEST,
            f"the wallet cannot evaluate the presentation definition: {exc}"[:500],
        ) from None
    return result


def unsatisfied(definition: Mapping[str, Any], found: Mapping[str, list[Stored]]) -> list[str]:
    """Names of the descriptors no stored credential satisfies."""
    return [
        str(d.get("name") or d.get("id"))
        for d in input_descriptors(definition)
        if not found.get(str(d.get("id")))
    ]


def select(
    definition: Mapping[str, Any],
    found: Mapping[str, list[Stored]],
    chosen: Sequence[str] | None,
) -> dict[str, list[str]]:
    """Descriptor id -> the record ids to present. Without a choice, a descriptor with one
    candidate takes it; several candidates need the holder to choose (a problem lists them)."""
    chosen = [c for c in (chosen or []) if c]
    known = {r["record_id"] for records in found.values() for r in records}
    strangers = [c for c in chosen if c not in known]
    if strangers:
        raise DomainError(
            ProblemType.INVALID_SELECTION,
            f"{strangers[0]} does not satisfy anything this request asks for",
        )
    selection: dict[str, list[str]] = {}
    ambiguous = []
    for descriptor in input_descriptors(definition):
        descriptor_id = str(descriptor.get("id"))
        ids = [r["record_id"] for r in found.get(descriptor_id, [])]
        picked = [c for c in chosen if c in ids]
        if not picked and len(ids) == 1:
            picked = ids
        if not picked:
            ambiguous.append(
                {
                    "descriptor": descriptor_id,
                    "name": descriptor.get("name"),
                    "candidates": ids,
                }
            )
        selection[descriptor_id] = picked
    if ambiguous:
        names = ", ".join(str(a["name"] or a["descriptor"]) for a in ambiguous)
        raise DomainError(
            ProblemType.SELECTION_REQUIRED,
            f"several credentials match ({names}); choose which to present",
            choices=ambiguous,
        )
    return selection


def presentation_spec(
    definition: Mapping[str, Any],
    selection: Mapping[str, list[str]],
    stored: Iterable[Stored],
) -> dict[str, Any]:
    """The ``send-presentation`` body for ACA-Py's DIF format handler."""
    by_id = {r["record_id"]: r for r in stored}
    records = [by_id[i] for ids in selection.values() for i in ids]
    subjects = {s for r in records for s in (r.get("subject_ids") or [])}
    if len(subjects) > 1:
        raise DomainError(
            ProblemType.MIXED_SUBJECTS,
            "the chosen credentials name different subject DIDs; a presentation is signed by "
            "one holder, so choose credentials about the same DID",
        )
    common = None
    for record in records:
        types = set(record.get("proof_types") or [])
        common = types if common is None else common & types
    if not common:
        raise DomainError(
            ProblemType.MIXED_PROOF_TYPES,
            "the chosen credentials are signed with different proof types",
        )
    answer = copy.deepcopy(dict(definition))
    formats = dict(answer.get("format") or {})
    formats["ldp_vp"] = {"proof_type": [sorted(common)[0]]}
    answer["format"] = formats
    for descriptor in answer.get("input_descriptors") or []:
        chosen = [by_id[i] for i in selection.get(str(descriptor.get("id")), [])]
        types = set.intersection(
            *({*(r.get("expanded_types") or []), *(r.get("schema_ids") or [])} for r in chosen)
        )
        for schema in descriptor.get("schema") or []:
            if isinstance(schema, dict) and schema.get("uri") not in types:
                schema["required"] = False
    return {"dif": {"record_ids": dict(selection), "presentation_definition": answer}}
