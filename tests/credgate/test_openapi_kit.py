"""The OpenAPI kit's ``operation``: what it declares, it checks, in its order; and its builders
of object schemas and of declarations routes share."""

import flask
import pytest
from werkzeug.routing import Rule

from credgate.openapi import ATTRIBUTE, obj, operation, operation_with


def app_with(view):
    app = flask.Flask(__name__)
    app.add_url_rule("/things/<name>", view_func=view)
    return app


def test_before_runs_on_a_route_with_no_body_and_no_query():
    seen = []

    def known(name: str) -> None:
        seen.append(name)
        if name != "known":
            flask.abort(404)

    @operation("A thing", before=known)
    def thing(name: str):
        return {"name": name}

    client = app_with(thing).test_client()
    assert client.get("/things/known").status_code == 200
    assert client.get("/things/other").status_code == 404
    assert seen == ["known", "other"]


def test_an_object_schema_names_each_member_once():
    assert obj(
        required={"did": {"type": "string"}, "credentialType": {"type": "string"}},
        optional={"reason": {"type": ["string", "null"]}},
        problem="invalid-body",
        description="a change",
    ) == {
        "type": "object",
        "description": "a change",
        "x-problem": "invalid-body",
        "required": ["did", "credentialType"],  # in the order a missing one is reported
        "properties": {
            "did": {"type": "string"},
            "credentialType": {"type": "string"},
            "reason": {"type": ["string", "null"]},
        },
    }
    # Nothing required: no empty "required" list.
    assert obj(optional={"q": {}}) == {"type": "object", "properties": {"q": {}}}


def test_routes_share_part_of_their_declaration():
    of_thing = operation_with(auth="operatorToken", problems=(404,))

    @of_thing("A thing", responses={200: {}}, problems=(503,))
    def thing(name: str):
        return {"name": name}

    described = getattr(thing, ATTRIBUTE).describe(Rule("/things/<name>"))
    assert described["security"] == [{"operatorToken": []}]
    assert sorted(described["responses"]) == ["200", "401", "404", "503"]
    with pytest.raises(TypeError):  # a shared option is said once, not again by a route
        of_thing("Another", auth="bearer")
