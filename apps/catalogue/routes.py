"""Catalogue routes, mounted by the gateway at ``/apps/catalogue``.

* ``GET /`` — the catalogue page (search, filter, sort)
* ``GET /api/items`` ``?q=&kind=&keyword=&owner=&purpose=&sort=&limit=&offset=``
* ``GET /api/items/<id>``
* ``POST /api/items`` — publish: DataProvider or ModelProvider (a model needs ModelProvider),
  directly or as the attorney of a company holding the role; a flist comes with its
  SoftwareCertification credential, or only its ``digest`` (the certificate is then taken from
  the registry of certified software); either way verified (accredited certifier, not revoked)
  on publication, and listed with ``certificateUrl``, its entry in the registry
"""

from __future__ import annotations

from flask import Blueprint, render_template, request

from apps.catalogue import services
from apps.registry import software_registry
from credgate.problems import Problem, json_body
from credgate.web import db_sessions
from gateway.plugin import (
    ActingFor,
    AnyOf,
    AttorneyPower,
    Participant,
    Role,
    current_principal,
    describe,
    optional_principal,
    requires,
    verify_evidence,
)

bp = Blueprint("catalogue", __name__, template_folder="templates")

PUBLISH = AttorneyPower("catalogue", "publish")


def may_publish(*roles: str) -> AnyOf:
    return AnyOf(*(Role(r) for r in roles), ActingFor(PUBLISH, roles))


PUBLISHER = may_publish("DataProvider", "ModelProvider")
MODEL_PUBLISHER = may_publish("ModelProvider")
DATA_PUBLISHER = may_publish("DataProvider")


@bp.get("/")
@requires(Participant())
def page():
    query = services.parse_query(request.args)
    items, total = services.search(db_sessions(), query)
    principal = optional_principal()
    return render_template("catalogue/index.html", items=items, total=total, query=query,
                           principal=principal, kinds=services.KINDS,
                           sorts=list(services.SORTS))  # fmt: skip


@bp.get("/api/items")
@requires(Participant())
def list_items():
    query = services.parse_query(request.args)
    items, total = services.search(db_sessions(), query)
    return {"items": items, "total": total, "limit": query.limit, "offset": query.offset}


@bp.get("/api/items/<int:item_id>")
@requires(Participant())
def get_item(item_id: int):
    return services.get(db_sessions(), item_id)


@bp.post("/api/items")
@requires(PUBLISHER)
def publish():
    item = services.parse_item(json_body())
    principal = current_principal()
    needed = MODEL_PUBLISHER if item.kind == "model" else (
        PUBLISHER if item.kind == "flist" else DATA_PUBLISHER
    )
    decision = principal.check(needed)
    if not decision.allow:
        raise Problem("role-missing", "Missing role", 403,
                      f"publishing a {item.kind} needs {describe(needed)}",
                      reasons=[r.to_dict() for r in decision.reasons])  # fmt: skip
    purposes = None
    if item.kind == "flist":
        candidates = ([item.certificate] if item.certificate is not None
                      else software_registry().certificates(item.digest))  # fmt: skip
        item, purposes = services.check_certificate(item, candidates,
                                                    verify_evidence(candidates))  # fmt: skip
    owner = decision.acting_for or principal.holder
    created = services.publish(db_sessions(), item, owner=owner, publisher=principal.holder,
                               purposes=purposes)  # fmt: skip
    return created, 201
