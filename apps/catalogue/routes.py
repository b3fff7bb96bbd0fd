"""Catalogue routes, mounted by the gateway at ``/apps/catalogue``.

* ``GET /`` — the catalogue page (search, filter, sort)
* ``GET /api/items`` ``?q=&kind=&keyword=&owner=&purpose=&sort=&limit=&offset=``
* ``GET /api/items/<id>``
* ``POST /api/items`` — publish: DataProvider or ModelProvider (a model needs ModelProvider),
  directly or as the attorney of a company holding the role; a flist comes with its
  SoftwareCertification credential, or only its ``digest`` (the certificate is then taken from
  the registry of certified software); either way verified (accredited certifier, not revoked)
  on publication, and listed with ``certificateUrl``, its entry in the registry

Each JSON route declares what it takes and answers (:func:`~gateway.plugin.operation`): the
declaration checks the query and body before the view runs, with the problems the services' own
checks give (``invalid-field`` naming the field, ``invalid-request`` for a body that is not an
object), and describes the route in the gateway's ``/openapi.json``. What a schema cannot say
(a flist's certificate or digest, a blank string) the services still check.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from apps import inputs
from apps.catalogue import services
from apps.catalogue.models import KINDS
from apps.registry import software_registry
from credgate.problems import Problem, json_body
from credgate.web import db_sessions
from gateway import plugin

bp = Blueprint("catalogue", __name__, template_folder="templates")

PUBLISH = plugin.AttorneyPower("catalogue", "publish")


def may_publish(*roles: str) -> plugin.AnyOf:
    return plugin.AnyOf(*(plugin.Role(r) for r in roles), plugin.ActingFor(PUBLISH, roles))


PUBLISHER = may_publish("DataProvider", "ModelProvider")
MODEL_PUBLISHER = may_publish("ModelProvider")
DATA_PUBLISHER = may_publish("DataProvider")

# -- what the API takes and answers (the gateway's /openapi.json) --------------------------------

#: Every field error is the services' ``invalid-field`` (a missing one too), as before.
FIELD = "invalid-field"
STRING = {"type": "string"}
STRINGS = {"type": "array", "items": STRING}
INTEGER = {"type": "integer"}
OPTIONAL_TEXT = {"type": ["string", "null"]}
DIGEST = {"type": "string", "pattern": f"^{inputs.DIGEST.pattern}$", "x-problem": FIELD}
ITEM = plugin.component(
    "CatalogueItem",
    plugin.obj(
        required={
            "id": INTEGER,
            "kind": {"enum": list(KINDS)},
            "title": STRING,
            "description": STRING,
            "keywords": STRINGS,
            "owner": STRING,
            "publisher": STRING,
            "created": {"type": "string", "format": "date-time"},
        },
        optional={
            "license": OPTIONAL_TEXT,
            "format": OPTIONAL_TEXT,
            # a flist's
            "flistUrl": OPTIONAL_TEXT,
            "digest": OPTIONAL_TEXT,
            "md5": OPTIONAL_TEXT,
            "purposes": STRINGS,
            "certified": {"type": "boolean"},
            "certificateUrl": OPTIONAL_TEXT,
            "certificate": {
                "type": ["object", "null"],
                "description": "its SoftwareCertificationCredential (one item's answer)",
            },
        },
    ),
)
ITEMS = plugin.obj(
    required={
        "items": {"type": "array", "items": ITEM},
        "total": INTEGER,
        "limit": INTEGER,
        "offset": INTEGER,
    }
)
SEARCH = {
    "q": plugin.param("words in the title or description"),
    "kind": plugin.param("one kind", {"enum": list(KINDS), "x-problem": FIELD}),
    "keyword": plugin.param("one keyword"),
    "owner": plugin.param("the owner's DID"),
    "purpose": plugin.param("a purpose a flist is certified for"),
    "sort": plugin.param("the order", {"enum": list(services.SORTS), "x-problem": FIELD}),
    "limit": plugin.param(
        "how many (1-100, default 20)",
        {"type": "integer", "minimum": 1, "maximum": 100, "x-problem": FIELD},
    ),
    "offset": plugin.param(
        "how many to skip",
        {"type": "integer", "minimum": 0, "maximum": 100_000, "x-problem": FIELD},
    ),
}


def text_field(max_length: int, *, required: bool = True) -> dict:
    """A text field as :func:`apps.inputs.text` reads it (stripped; a required one not blank)."""
    if required:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": max_length,
            "pattern": r"\S",
            "x-problem": FIELD,
        }
    return {"type": ["string", "null"], "maxLength": max_length, "x-problem": FIELD}


NEW_ITEM = plugin.obj(
    problem="invalid-request",  # not an object at all
    required={"kind": {"enum": list(KINDS), "x-problem": FIELD}, "title": text_field(200)},
    optional={
        "description": text_field(5000, required=False),
        "keywords": {
            "type": "array",
            "maxItems": 20,
            "x-problem": FIELD,
            "items": {
                "type": "string",
                "minLength": 1,
                "maxLength": 50,
                "pattern": r"\S",
                "x-problem": FIELD,
            },
        },
        "license": text_field(100, required=False),
        "format": text_field(100, required=False),
        "certificate": {
            "type": ["object", "null"],
            "x-problem": FIELD,
            "description": "a flist's SoftwareCertificationCredential",
        },
        "digest": {
            **DIGEST,
            "type": ["string", "null"],
            "description": "a flist's digest, certified in the registry (no certificate)",
        },
    },
)
GATED = plugin.gated("catalogue")


@bp.get("/")
@plugin.requires(plugin.Participant())
@plugin.page
def index():
    query = services.parse_query(request.args)
    items, total = services.search(db_sessions(), query)
    principal = plugin.optional_principal()
    return render_template(
        "catalogue/index.html",
        items=items,
        total=total,
        query=query,
        principal=principal,
        kinds=services.KINDS,
        sorts=list(services.SORTS),
    )


@bp.get("/api/items")
@plugin.requires(plugin.Participant())
@plugin.operation(
    "Search the catalogue", query=SEARCH, responses={200: ITEMS, **plugin.TO_LOGIN}, **GATED
)
def list_items():
    query = services.parse_query(request.args)
    items, total = services.search(db_sessions(), query)
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}


@bp.get("/api/items/<int:item_id>")
@plugin.requires(plugin.Participant())
@plugin.operation(
    "One catalogue item (a flist's with its certificate)",
    responses={200: ITEM, **plugin.TO_LOGIN},
    **{**GATED, "problems": (403, 404)},
)
def get_item(item_id: int):
    return services.get(db_sessions(), item_id)


@bp.post("/api/items")
@plugin.requires(PUBLISHER)
@plugin.operation(
    "Publish an item (a flist with its certificate, or its certified digest)",
    body=NEW_ITEM,
    responses={201: ITEM},
    **GATED,
)
def publish():
    item = services.parse_item(json_body())
    principal = plugin.current_principal()
    needed = (
        MODEL_PUBLISHER
        if item.kind == "model"
        else (PUBLISHER if item.kind == "flist" else DATA_PUBLISHER)
    )
    decision = principal.check(needed)
    if not decision.allow:
        raise Problem(
            "role-missing",
            "Missing role",
            403,
            f"publishing a {item.kind} needs {plugin.describe(needed)}",
            reasons=[r.to_dict() for r in decision.reasons],
        )
    purposes = None
    if item.kind == "flist":
        candidates = (
            [item.certificate]
            if item.certificate is not None
            else software_registry().certificates(item.digest)
        )
        item, purposes = services.check_certificate(
            item, candidates, plugin.verify_evidence(candidates)
        )
    owner = decision.acting_for or principal.holder
    created = services.publish(
        db_sessions(), item, owner=owner, publisher=principal.holder, purposes=purposes
    )
    return created, 201
