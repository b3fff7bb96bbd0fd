"""The OpenAPI kit's ``operation``: what it declares, it checks, in its order."""

import flask

from credgate.openapi import operation


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
