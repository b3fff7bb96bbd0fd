"""One declaration per route: the OpenAPI operation it serves and the check of its input.

A route says what it takes and answers once, with :func:`operation`; that declaration both
validates the request (its JSON body and query parameters, JSON Schema 2020-12, the dialect of
OpenAPI 3.1) and describes the route in the service's ``/openapi.json``, which :func:`document`
builds from the app's URL map with apispec. So the description cannot drift from the code: a
route that is not declared is still listed, with its methods, marked ``x-undeclared``, and HTML
pages (pages blueprints, views marked :func:`page`) are left out. With ``CREDGATE_OPENAPI_STRICT``
set (test runs), every JSON answer of a declared route is checked against its declaration too.

Why apispec: it is the one well-kept builder that takes plain JSON Schema dicts and writes
OpenAPI 3.1; spectree and flask-openapi3 want pydantic models, a second way of declaring what
``schemas/json`` and the services already write as JSON Schema.

A body that breaks its schema is a problem document shaped like the services' own field checks:
``field`` is the dotted path of the first offending input, ``errors`` lists them all, and the
type is ``missing-field``, ``unknown-field`` or ``invalid-field`` (or the ``x-problem`` slug the
failing subschema names). A body of the wrong kind altogether is a 400; a field error gets the
operation's ``invalid_status`` (400 unless the service says 422). A query parameter's error is a
400 (or its schema's ``x-status``) naming it in ``field`` and ``parameter``.
"""

from __future__ import annotations

import functools
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from apispec import APISpec
from flask import Blueprint, Flask, current_app, jsonify, request
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from werkzeug.routing import Rule

from credgate import __version__
from credgate.problem_types import PROBLEM_MEDIA_TYPE
from credgate.problems import Problem, json_body

__all__ = [
    "PROBLEM",
    "Guard",
    "Ref",
    "component",
    "document",
    "json_objects",
    "listing",
    "obj",
    "openapi",
    "operation",
    "operation_with",
    "page",
    "param",
]

JSON = "application/json"
ATTRIBUTE = "__openapi__"
#: Blueprints that serve HTML for people, not an API: left out of the document.
PAGE_BLUEPRINT = re.compile(r"(^|_)(pages|admin|start)$")
#: Endpoints of the document itself and of static files.
SKIPPED_ENDPOINTS = ("static", "openapi.serve_document")

Schema = dict[str, Any]


class Ref(dict):
    """A ``$ref`` to a named component that still knows its definition (to validate against it
    and to register it in the document that uses it)."""

    def __init__(self, name: str, definition: Schema) -> None:
        super().__init__({"$ref": f"#/components/schemas/{name}"})
        self.name = name
        self.definition = definition


def component(name: str, definition: Schema) -> Ref:
    """A schema named ``name`` in ``components/schemas`` wherever a declaration uses it."""
    return Ref(name, definition)


def obj(
    required: Mapping[str, Any] | None = None,
    optional: Mapping[str, Any] | None = None,
    *,
    problem: str | None = None,
    **keywords: Any,
) -> Schema:
    """A JSON object's schema, each member named once: the ``required`` members (in the order a
    missing one is reported) and the ``optional`` ones, with their schemas; ``problem``, the
    ``x-problem`` type of a value that is no object or has a member the schema does not allow;
    ``keywords``, the object's other keywords (``description``, ``additionalProperties``)."""
    required = dict(required or {})
    schema: Schema = {"type": "object", **keywords}
    if problem is not None:
        schema["x-problem"] = problem
    if required:
        schema["required"] = list(required)
    schema["properties"] = {**required, **(optional or {})}
    return schema


def listing(name: str, item: Schema) -> Schema:
    """An answer that is one list: an object whose member ``name`` holds the ``item``s."""
    return obj(required={name: {"type": "array", "items": item}})


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
PROBLEM = component(
    "Problem",
    obj(
        required={"type": STRING, "title": STRING, "status": INTEGER},
        optional={
            "detail": STRING,
            "instance": STRING,
            "field": STRING,
            "errors": {
                "type": "array",
                "description": "every field error (field checks), or the failed checks' slugs",
                "items": {
                    "anyOf": [
                        obj(optional={k: STRING for k in ("field", "type", "detail")}),
                        STRING,
                    ]
                },
            },
        },
        description="RFC 9457; ``field`` names the offending input (a dotted path)",
    ),
)

#: Security schemes a declaration may name in ``auth``.
SECURITY_SCHEMES = {
    "operatorToken": {"type": "http", "scheme": "bearer", "description": "operator API token"},
    "bearer": {"type": "http", "scheme": "bearer"},
    "session": {"type": "apiKey", "in": "cookie", "name": "session"},
}


@dataclass(frozen=True)
class Guard:
    """A security scheme a route both names and enforces: given as a declaration's ``auth``, the
    document names ``scheme`` and ``require`` (a view decorator that refuses a request without
    it) runs before any other check of the request."""

    scheme: str
    require: Callable[[Callable], Callable]


def param(
    description: str = "",
    schema: Schema | None = None,
    *,
    required: bool = False,
    empty: bool = True,
) -> dict:
    """A query parameter's declaration; an optional one may be sent empty (as if left out),
    unless ``empty`` is false (then its schema judges the empty string)."""
    declared = {
        "description": description,
        "schema": schema or {"type": "string"},
        "required": required,
    }
    if empty and not required:
        declared["allowEmptyValue"] = True
    return declared


@dataclass(frozen=True)
class Operation:
    """What one route declares; ``describe`` writes it as an OpenAPI operation."""

    summary: str
    body: Schema | None = None
    body_required: bool = True
    body_media: str = JSON
    responses: Mapping[int, Any] = field(default_factory=dict)
    problems: tuple[int, ...] = ()
    query: Mapping[str, dict] = field(default_factory=dict)
    path: Mapping[str, Schema] = field(default_factory=dict)
    auth: str | None = None
    invalid_status: int = 400
    tags: tuple[str, ...] = ()
    #: Runs with the view's arguments before the body is read: a wrong URL stays a 404 whatever
    #: the body.
    before: Callable[..., None] | None = None

    def describe(self, rule: Rule) -> dict[str, Any]:
        described: dict[str, Any] = {"summary": self.summary, "responses": self._responses()}
        if self.tags:
            described["tags"] = list(self.tags)
        parameters = path_parameters(rule, self.path) + [
            {"name": name, "in": "query", **spec} for name, spec in self.query.items()
        ]
        if parameters:
            described["parameters"] = parameters
        if self.body is not None:
            described["requestBody"] = {
                "required": self.body_required,
                "content": {self.body_media: {"schema": self.body}},
            }
        if self.auth:
            described["security"] = [{self.auth: []}]
        return described

    def _responses(self) -> dict[str, Any]:
        described = {str(code): _response(code, spec) for code, spec in self.responses.items()}
        codes = set(self.problems)
        if self.body is not None and self.body_media == JSON:
            codes |= {400, 413, 415, self.invalid_status}
        if self.query:  # a parameter its schema refuses
            codes |= {param.get("schema", {}).get("x-status", 400) for param in self.query.values()}
        if self.auth:
            codes.add(401)
        for code in sorted(codes):
            described.setdefault(
                str(code),
                {
                    "description": "a problem document",
                    "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM}},
                },
            )
        return described


def _response(status: int, spec: Any) -> dict[str, Any]:
    """``spec``: a JSON Schema, ``(media type or types, schema)``, or ``None`` for no body."""
    if spec is None:
        return {"description": _STATUS_TEXT.get(status, "answer")}
    media, schema = spec if isinstance(spec, tuple) else (JSON, spec)
    described = {"schema": schema} if schema is not None else {}
    content = {m: described for m in (media if isinstance(media, tuple) else (media,))}
    return {"description": _STATUS_TEXT.get(status, "answer"), "content": content}


_STATUS_TEXT = {
    200: "OK",
    201: "created",
    202: "accepted",
    204: "no content",
    302: "redirect",
    303: "see other",
    503: "unavailable; retry after Retry-After seconds",
}


def operation(summary: str, **declared: Any) -> Callable[[Callable], Callable]:
    """Declare a route (below its ``@blueprint.get(...)``): ``body`` (a JSON Schema the body must
    meet, validated before the view runs; ``body_required=False`` when it may be left out),
    ``responses`` ({status: schema}), ``problems`` (statuses answered with a problem document),
    ``query`` (name: :func:`param`), ``path`` (name: schema, when the converter says too little),
    ``auth`` (a security scheme's name, or a :class:`Guard` that enforces it too),
    ``invalid_status`` (of a field error, 400 or 422), ``before`` (checks of the URL's
    arguments, run before the body's)."""
    declared["problems"] = tuple(declared.get("problems", ()))
    declared["tags"] = tuple(declared.get("tags", ()))
    guard = declared.get("auth")
    if isinstance(guard, Guard):
        declared["auth"] = guard.scheme
    op = Operation(summary, **declared)
    validator = _validator(op.body) if op.body is not None and op.body_media == JSON else None
    query = {name: _validator(spec["schema"]) for name, spec in op.query.items()}

    def decorate(view: Callable) -> Callable:
        declared_view = checked_by(view)
        if isinstance(guard, Guard):
            declared_view = guard.require(declared_view)
        setattr(declared_view, ATTRIBUTE, op)
        return declared_view

    def checked_by(view: Callable) -> Callable:
        if validator is None and not query and op.before is None:
            return view

        @functools.wraps(view)
        def checked(*args: Any, **kwargs: Any) -> Any:
            if op.before is not None:
                op.before(*args, **kwargs)
            for name, checker in query.items():
                spec = op.query[name]
                check_parameter(
                    name,
                    checker,
                    required=spec["required"],
                    empty=spec.get("allowEmptyValue", False),
                )
            if validator is not None:
                value = json_body(optional=not op.body_required)
                if value is not None or op.body_required:
                    check(validator, value, op.invalid_status)
            return view(*args, **kwargs)

        return checked

    return decorate


def operation_with(**shared: Any) -> Callable[..., Callable[[Callable], Callable]]:
    """:func:`operation` for routes that share part of their declaration (a blueprint's ``auth``,
    a problem each of them may answer, a ``before`` check), said once: each route declares the
    rest. A route's own ``problems`` add to the shared ones; giving another shared option again
    is an error."""
    shared_problems = tuple(shared.pop("problems", ()))

    def declare(summary: str, **declared: Any) -> Callable[[Callable], Callable]:
        problems = (*shared_problems, *declared.pop("problems", ()))
        return operation(summary, **shared, **declared, problems=problems)

    return declare


# -- validation ------------------------------------------------------------------------------------


def _inline(schema: Any) -> Any:
    """``schema`` with every :class:`Ref` replaced by its definition (validation needs no
    document around it)."""
    if isinstance(schema, Ref):
        return _inline(schema.definition)
    if isinstance(schema, dict):
        return {k: _inline(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_inline(v) for v in schema]
    return schema


def _validator(schema: Schema) -> Draft202012Validator:
    inlined = _inline(schema)
    Draft202012Validator.check_schema(inlined)
    return Draft202012Validator(inlined)


def check_parameter(
    name: str, validator: Draft202012Validator, *, required: bool, empty: bool
) -> None:
    """Check a query parameter (a number or an integer read as one; empty, where allowed, is
    left out) against its schema: a 400 naming it in ``field`` and ``parameter``, of its
    ``x-problem`` type (and ``x-status``)."""
    schema = validator.schema
    raw = request.args.get(name)
    if raw is None or (raw == "" and empty):
        if required:
            raise _parameter_problem(name, schema, "missing-field", "is required")
        return
    error = next(iter(validator.iter_errors(_typed(raw, schema))), None)
    if error is not None:
        raise _parameter_problem(name, schema, "invalid-field", _detail(error))


def _typed(raw: str, schema: Schema) -> Any:
    """``raw`` as the number its schema wants, or as it is (then the schema refuses it)."""
    wanted = schema.get("type")
    try:
        if wanted == "integer" and raw.isascii() and raw.lstrip("-").isdigit():
            return int(raw)
        if wanted == "number":
            value = float(raw)
            return value if math.isfinite(value) else raw
    except ValueError:
        pass
    return raw


def _parameter_problem(name: str, schema: Schema, slug: str, detail: str) -> Problem:
    slug = schema.get("x-problem", slug)
    return Problem(
        slug,
        _TITLES.get(slug, "Invalid parameter"),
        schema.get("x-status", 400),
        f"{name}: {detail}",
        field=name,
        parameter=name,
        errors=[{"field": name, "type": slug, "detail": detail}],
    )


@dataclass(frozen=True)
class FieldError:
    field: str
    slug: str
    detail: str


def check(validator: Draft202012Validator, value: Any, invalid_status: int = 400) -> None:
    """Raise the problem naming every way ``value`` breaks the validator's schema, if any."""
    errors = sorted(validator.iter_errors(value), key=lambda e: (list(e.absolute_path), e.message))
    if not errors:
        return
    found = [item for error in errors for item in field_errors(error)]
    first = found[0]
    whole = not errors[0].absolute_path and errors[0].validator == "type"
    named = {"field": first.field} if first.field else {}  # none: the body as a whole
    raise Problem(
        first.slug,
        _TITLES.get(first.slug, "Invalid field"),
        400 if whole else invalid_status,
        "; ".join(f"{e.field or 'body'}: {e.detail}" for e in found[:5]),
        **named,
        errors=[{"field": e.field, "type": e.slug, "detail": e.detail} for e in found],
    )


_TITLES = {
    "missing-field": "Missing field",
    "unknown-field": "Unknown field",
    "invalid-field": "Invalid field",
    "invalid-parameter": "Invalid parameter",
}


def field_errors(error: ValidationError) -> Iterator[FieldError]:
    """One error per offending field: a missing or unknown property is named by its own path.

    The type is the failing schema's ``x-problem``; a missing member's is the member's own, and
    an unknown member's the object's, else ``missing-field`` and ``unknown-field``."""
    path = dotted(error.absolute_path)
    if error.validator == "required" and isinstance(error.instance, dict):
        members = error.schema.get("properties", {})
        for name in error.validator_value:
            if name not in error.instance:
                slug = members.get(name, {}).get("x-problem", "missing-field")
                yield FieldError(_join(path, name), slug, "is required")
        return
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        known = error.schema.get("properties", {})
        slug = error.schema.get("x-problem", "unknown-field")
        for name in sorted(set(error.instance) - set(known)):
            yield FieldError(_join(path, name), slug, "is not a field of this object")
        return
    slug = error.schema.get("x-problem", "invalid-field") if isinstance(error.schema, dict) else ""
    yield FieldError(path, slug or "invalid-field", _detail(error))


def dotted(path: Iterable[str | int]) -> str:
    """``representatives[0].name``: the way the services name a field in a problem."""
    text = ""
    for part in path:
        text = f"{text}[{part}]" if isinstance(part, int) else _join(text, str(part))
    return text


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _detail(error: ValidationError) -> str:
    # The validator's message quotes the value; a long one is cut, it is echoed to the client.
    message = error.message
    return message if len(message) <= 200 else message[:197] + "..."


# -- the document ----------------------------------------------------------------------------------

_CONVERTER_SCHEMAS = {
    "IntegerConverter": {"type": "integer", "minimum": 0},
    "FloatConverter": {"type": "number", "minimum": 0},
    "UUIDConverter": {"type": "string", "format": "uuid"},
}


def openapi_path(rule: Rule) -> str:
    """The rule's path in OpenAPI's template syntax (``<path:did>`` is ``{did}``)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def path_parameters(rule: Rule, overrides: Mapping[str, Schema]) -> list[dict[str, Any]]:
    found = []
    for name in rule.arguments:
        if name in (rule.defaults or {}):
            continue
        converter = rule._converters.get(name)  # werkzeug keeps no public map of converters
        schema = overrides.get(name) or _converter_schema(converter)
        found.append({"name": name, "in": "path", "required": True, "schema": schema})
    return sorted(found, key=lambda p: rule.rule.index(f"{p['name']}>"))


def _converter_schema(converter: Any) -> Schema:
    kind = type(converter).__name__
    if kind == "AnyConverter":
        return {"type": "string", "enum": sorted(converter.items)}
    if kind == "PathConverter":
        return {"type": "string"}
    # Flask's default converter takes any segment (no slash: the client's URL encoding sees to it).
    return _CONVERTER_SCHEMAS.get(kind, {"type": "string"})


def _undeclared(rule: Rule) -> dict[str, Any]:
    described: dict[str, Any] = {
        "summary": f"{rule.endpoint} (not declared yet)",
        "x-undeclared": True,
        "responses": {"default": {"description": "not declared yet"}},
    }
    parameters = path_parameters(rule, {})
    if parameters:
        described["parameters"] = parameters
    return described


PAGE_ATTRIBUTE = "__openapi_page__"


def page(view: Callable) -> Callable:
    """Mark a view that serves HTML to people (outside a pages blueprint): not in the document."""
    setattr(view, PAGE_ATTRIBUTE, True)
    return view


def is_page(rule: Rule, view: Callable | None = None) -> bool:
    """Whether ``rule`` serves HTML pages (left out of the document): its blueprint is a pages
    one (``*_pages``, ``*_admin``, ``*_start``), or its view is marked with :func:`page`."""
    blueprint = rule.endpoint.rpartition(".")[0]
    marked = getattr(view, PAGE_ATTRIBUTE, False)
    return marked or (bool(blueprint) and bool(PAGE_BLUEPRINT.search(blueprint)))


def described_rules(app: Flask) -> Iterable[Rule]:
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED_ENDPOINTS or rule.endpoint.endswith(".static"):
            continue
        view = app.view_functions[rule.endpoint]
        if is_page(rule, view) and getattr(view, ATTRIBUTE, None) is None:
            continue
        yield rule


def document(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``app``, built from its routes and their declarations."""
    spec = APISpec(
        title=app.config.get("OPENAPI_TITLE") or f"credgate {app.config['SERVICE_NAME']}",
        version=__version__,
        openapi_version="3.1.0",
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule in described_rules(app):
        op: Operation | None = getattr(app.view_functions[rule.endpoint], ATTRIBUTE, None)
        described = op.describe(rule) if op else _undeclared(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(openapi_path(rule), {})[method.lower()] = described
    for name, definition in sorted(_components(paths).items()):
        spec.components.schema(name, definition)
    schemes = {
        scheme
        for ops in paths.values()
        for op in ops.values()
        for need in op.get("security", ())
        for scheme in need
    }
    for scheme in sorted(schemes):
        spec.components.security_scheme(scheme, SECURITY_SCHEMES[scheme])
    for path in sorted(paths):
        spec.path(path=path, operations=paths[path])
    return spec.to_dict()


def _components(value: Any, found: dict[str, Schema] | None = None) -> dict[str, Schema]:
    """Every named component ``value`` refers to, with those their definitions refer to."""
    found = {} if found is None else found
    for node in json_objects(value):
        if isinstance(node, Ref) and node.name not in found:
            found[node.name] = node.definition
            _components(node.definition, found)
    return found


def json_objects(value: Any) -> Iterator[dict]:
    """Every object (dict) of a JSON value, depth first, each before its members."""
    if isinstance(value, dict):
        yield value
        members: Iterable[Any] = value.values()
    elif isinstance(value, list):
        members = value
    else:
        return
    for member in members:
        yield from json_objects(member)


openapi = Blueprint("openapi", __name__)

#: Set (to anything) to check every JSON answer of a declared route against its declaration; one
#: that breaks it becomes a 500 naming why (for test runs: the answers the fuzzer cannot reach).
STRICT_ENV = "CREDGATE_OPENAPI_STRICT"


_RESPONSE_VALIDATORS: dict[int, Draft202012Validator] = {}


class ResponseBreaksDeclaration(AssertionError):
    """An answer its route's declaration does not allow."""


@openapi.record_once
def _strict(state) -> None:
    if os.environ.get(STRICT_ENV):
        state.app.after_request(check_response)


def check_response(response):
    """Raise :class:`ResponseBreaksDeclaration` if ``response`` (JSON) breaks the declared schema
    of its status."""
    view = current_app.view_functions.get(request.endpoint or "")
    op: Operation | None = getattr(view, ATTRIBUTE, None)
    if op is None or not response.is_json or response.direct_passthrough:
        return response
    described = op._responses().get(str(response.status_code), {})
    media = described.get("content", {}).get(response.mimetype)
    if media is None or not media.get("schema"):
        return response
    schema = media["schema"]
    checker = _RESPONSE_VALIDATORS.get(id(schema))
    if checker is None:  # declared schemas live as long as the app: one validator each
        checker = _RESPONSE_VALIDATORS[id(schema)] = _validator(schema)
    error = next(iter(checker.iter_errors(response.get_json())), None)
    if error is not None:
        raise ResponseBreaksDeclaration(
            f"{request.method} {request.path} answered {response.status_code} against its "
            f"declaration: {dotted(error.absolute_path) or 'body'}: {_detail(error)}"
        )
    return response


@openapi.get("/openapi.json")
def serve_document():
    """The service's API description, built once per app (routes do not change after start)."""
    cached = current_app.extensions.get("credgate.openapi")
    if cached is None:
        cached = current_app.extensions["credgate.openapi"] = document(current_app)
    return jsonify(cached)
