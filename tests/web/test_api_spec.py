"""The OpenAPI document (valid 3.1, generated from the routes), its reference page, and
problem details for every kind of error under /api/."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from flask import Blueprint, Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV31SpecValidator
from pydantic import BaseModel
from sqlalchemy.orm import Session
from werkzeug.routing import Map, Rule

from tests.web.test_api import OFFICER, RESEARCHER, assert_problem, bearer, make_token
from web.api import api
from web.api.registry import Api, Reply


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return dict(response.get_json())


def test_openapi_document_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1")
    validate(spec, cls=OpenAPIV31SpecValidator)


def test_every_documented_operation_is_served_and_every_api_route_documented(
    app: Flask, spec: dict[str, Any]
) -> None:
    base = spec["servers"][0]["url"]
    documented = {
        (method.upper(), base + re.sub(r"{(\w+)}", r"<int:\1>", path))
        for path, methods in spec["paths"].items()
        for method in methods
    }
    served = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert documented == served
    # And the document's paths resolve on the app's own map.
    adapter = app.url_map.bind("localhost")
    for method, rule in documented:
        concrete = re.sub(r"<int:\w+>", "7", rule)
        endpoint, _ = adapter.match(concrete, method=method)
        assert endpoint.startswith("api."), (method, concrete)


def test_document_references_resolve_and_secured_operations_name_their_scopes(
    spec: dict[str, Any],
) -> None:
    text = json.dumps(spec)
    for name in set(re.findall(r'"#/components/schemas/([^"]+)"', text)):
        assert name in spec["components"]["schemas"], name
    for path, methods in spec["paths"].items():
        for operation in methods.values():
            assert operation["summary"] and operation["operationId"]
            assert "default" in operation["responses"]
            if path in ("/openapi.json", "/docs"):
                assert operation["security"] == []
                continue
            assert "401" in operation["responses"] and "429" in operation["responses"]
            (requirement,) = operation["security"]
            assert set(requirement["bearerToken"]) <= {"read", "write", "officer"}
    assert spec["paths"]["/pairs/{jp_id}-{ca_id}/decisions"]["post"]["security"] == [
        {"bearerToken": ["write", "officer"]}
    ]


def test_document_describes_every_problem_as_problem_json(spec: dict[str, Any]) -> None:
    for methods in spec["paths"].values():
        for operation in methods.values():
            for status, response in operation["responses"].items():
                if status == "default" or int(status) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], status


def test_reference_page_is_rendered_on_the_server(
    client: FlaskClient, spec: dict[str, Any]
) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    for path, methods in spec["paths"].items():
        for method in methods:
            assert f"{method.upper()} /api/v1{path}" in page
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    for problem in ("unauthenticated", "insufficient-scope", "invalid-request", "cursor-expired"):
        assert f'id="problem-{problem}"' in page
    # Nothing from elsewhere and nothing inline: the CSP allows neither.
    assert "<script" not in page and "style=" not in page and "<style" not in page
    assert not re.search(r'(src|href)="https?://', page)
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_unknown_api_urls_and_methods_are_problems_not_html(client: FlaskClient) -> None:
    assert_problem(client.get("/api/v1/nothing-here"), 404)
    assert_problem(client.get("/api/v2/profile"), 404)
    assert_problem(client.get("/api/v1/profiles/abc"), 404)
    wrong = client.delete("/api/v1/profile")
    assert_problem(wrong, 405)
    assert set(wrong.headers["Allow"].split(", ")) >= {"GET", "PUT"}
    # Pages keep their HTML errors.
    assert client.get("/no-such-page").mimetype == "text/html"


def test_bodies_that_are_not_json_are_problems(client: FlaskClient, session: Session) -> None:
    headers = bearer(make_token(session, RESEARCHER, ["read", "write"]))
    cases = [
        ({"data": "{}", "content_type": "text/plain"}, 415),
        ({"data": "{}", "content_type": "application/json; charset=latin-1"}, 415),
        ({"data": "{", "content_type": "application/json"}, 400),
        ({"data": b'{"title": "\xff\xfe"}', "content_type": "application/json"}, 400),
        ({"data": '{"staff_count": NaN}', "content_type": "application/json"}, 400),
        ({"data": '{"title": "\\ud800"}', "content_type": "application/json"}, 400),
        ({"data": "[1, 2]", "content_type": "application/json"}, 422),
        ({"data": "null", "content_type": "application/json"}, 422),
        ({"data": "[" * 100_000 + "]" * 100_000, "content_type": "application/json"}, 400),
        ({"data": '{"a":' * 5000 + "1" + "}" * 5000, "content_type": "application/json"}, 400),
        ({"data": "x" * (3 * 1024 * 1024), "content_type": "application/json"}, 413),
    ]
    for arguments, status in cases:
        response = client.put("/api/v1/profile", headers=headers, **arguments)  # type: ignore[arg-type]
        problem = assert_problem(response, status)
        if status == 400:
            assert problem["type"].endswith("#problem-malformed-body")


def test_texts_that_no_database_can_store_are_refused(
    client: FlaskClient, session: Session
) -> None:
    headers = bearer(make_token(session, OFFICER, ["read", "officer"]))
    problem = assert_problem(client.get("/api/v1/pairs?region=%00", headers=headers), 422)
    assert problem["errors"][0]["field"] == "region"
    writer = bearer(make_token(session, RESEARCHER, ["read", "write"]))
    body = {
        "kind": "researcher",
        "organization_name": "Lab\u0000",
        "organization_kind": "university",
        "region": "JP-13",
        "title": "t",
        "summary": "s",
        "fields": ["quantum"],
    }
    problem = assert_problem(client.put("/api/v1/profile", json=body, headers=writer), 422)
    assert problem["errors"] == [
        {"field": "organization_name", "message": "Remove the NUL character (\\u0000)."}
    ]


class _Out(BaseModel):
    value: int


def test_the_registry_refuses_answers_its_declarations_do_not_document() -> None:
    blueprint = Blueprint("registry_test", __name__)
    registry = Api(blueprint, title="t", version="1", description="d")
    registry.tag("t", "t")

    @registry.operation(
        "GET", "/wrong-status", summary="s", tag="t", scopes=None, responses={200: _Out}
    )
    def wrong_status() -> Reply:
        return Reply(201, _Out(value=1))

    @registry.operation("GET", "/right", summary="s", tag="t", scopes=None, responses={200: _Out})
    def right() -> _Out:
        return _Out(value=1)

    app = Flask(__name__)
    app.testing = True  # let the view's error through to the test
    app.register_blueprint(blueprint)
    client = app.test_client()
    assert client.get("/right").get_json() == {"value": 1}
    with pytest.raises(TypeError, match="does not declare"):
        client.get("/wrong-status")
    with pytest.raises(ValueError, match="path parameters"):
        registry.operation("GET", "/x/{x_id}", summary="s", tag="t", scopes=None, responses={})
    # The document names the operations, and their paths match the routes.
    document = registry.openapi(server_url="/")
    assert set(document["paths"]) == {"/wrong-status", "/right"}
    rules = Map([Rule("/right"), Rule("/wrong-status")]).bind("localhost")
    for path in document["paths"]:
        rules.match(path)


def test_the_api_registry_declares_each_endpoint_once() -> None:
    seen = [(op.method, op.path) for op in api.operations]
    assert len(seen) == len(set(seen))
    assert len({op.endpoint for op in api.operations}) == len(seen)
