"""``GET /api/v1/openapi.json`` describes exactly the routes the relay has (the API's, and the
health check at the root)."""

from __future__ import annotations

import re

import pytest

from relay_server.api.ops import HEALTH_PATH
from shared.protocol import API_PREFIX

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _rule_path(rule: str) -> str:
    """Flask's ``/pushes/<push_id>`` (or ``<string:push_id>``) as OpenAPI's ``/pushes/{push_id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _routes(app) -> set[tuple[str, str]]:
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(API_PREFIX + "/") and rule.rule != HEALTH_PATH:
            continue
        for method in rule.methods - IGNORED_METHODS:
            routes.add((_rule_path(rule.rule), method.lower()))
    return routes


@pytest.fixture
def document(client) -> dict:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    assert resp.content_type.startswith("application/json")
    return resp.get_json()


def _documented(document) -> set[tuple[str, str]]:
    return {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }


def test_rule_path_conversion():
    assert _rule_path("/api/v1/pushes/<push_id>/events") == "/api/v1/pushes/{push_id}/events"
    assert _rule_path("/api/v1/x/<int:n>") == "/api/v1/x/{n}"


def test_document_is_openapi_3_1_with_a_version(document):
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"]
    assert document["info"]["version"]


def test_every_api_route_is_documented(app, document):
    missing = _routes(app) - _documented(document)

    assert not missing, f"routes missing from openapi.json: {sorted(missing)}"


def test_every_documented_operation_exists(app, document):
    extra = _documented(document) - _routes(app)

    assert not extra, f"openapi.json describes routes the relay does not have: {sorted(extra)}"


def test_the_api_has_the_routes_of_docs_api_md(app):
    """A guard against both sides losing a route together."""
    expected = {
        ("/api/v1/accounts", "post"),
        ("/api/v1/login", "post"),
        ("/api/v1/logout", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/devices", "get"),
        ("/api/v1/devices/{device_id}", "delete"),
        ("/api/v1/friends", "get"),
        ("/api/v1/friends", "post"),
        ("/api/v1/friends/{username}/accept", "post"),
        ("/api/v1/friends/{username}", "delete"),
        ("/api/v1/pushes", "post"),
        ("/api/v1/pushes", "get"),
        ("/api/v1/pushes/{push_id}", "get"),
        ("/api/v1/pushes/{push_id}/events", "post"),
        ("/api/v1/pushes/{push_id}", "delete"),
        ("/api/v1/stream", "get"),
        ("/api/v1/packages/{sha256}", "get"),
        ("/api/v1/apps", "get"),
        ("/api/v1/apps/{app_id}", "get"),
        ("/api/v1/apps/{app_id}/package", "get"),
        ("/healthz", "get"),
        ("/api/v1/healthz", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/pairings", "post"),
        ("/api/v1/pairings/claim", "post"),
    }
    assert expected <= _routes(app)


def test_path_parameters_are_declared(document):
    for path, item in document["paths"].items():
        names = set(re.findall(r"{([^}]+)}", path))
        for method, operation in item.items():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == names, (path, method)


def test_public_routes_need_no_token_and_the_others_do(document):
    public = {
        ("/healthz", "get"),
        ("/api/v1/healthz", "get"),
        ("/api/v1/openapi.json", "get"),
        ("/api/v1/accounts", "post"),
        ("/api/v1/login", "post"),
        ("/api/v1/pairings/claim", "post"),
        ("/api/v1/apps", "get"),
        ("/api/v1/apps/{app_id}", "get"),
        ("/api/v1/apps/{app_id}/package", "get"),
    }
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (path, method) in public:
                assert operation.get("security") == [], (path, method)
            else:
                assert "security" not in operation, (path, method)
                assert "401" in operation["responses"], (path, method)
    assert document["security"] == [{"bearer": []}]


def test_every_reference_resolves(document):
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert refs
    for ref in refs:
        assert ref.startswith("#/")
        node = document
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


def test_every_json_body_is_a_generated_shape(document):
    """Requests and answers name a schema generated from the typed messages (shared/messages.py,
    shared/api_messages.py); none is written out by hand beside them (issue 13)."""
    from shared.api_messages import API_SCHEMA_SHAPES
    from shared.messages import SCHEMA_SHAPES

    generated = {shape.__name__ for shape in SCHEMA_SHAPES + API_SCHEMA_SHAPES}
    assert generated <= set(document["components"]["schemas"])
    bodies = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            request = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if request is not None:
                bodies.append((path, method, "request", request["schema"]))
            for status, answer in operation["responses"].items():
                schema = answer.get("content", {}).get("application/json", {}).get("schema")
                if schema is not None and path != "/api/v1/openapi.json":
                    bodies.append((path, method, status, schema))
    assert bodies
    for where in bodies:
        schema = where[-1]
        assert set(schema) == {"$ref"}, where
        assert schema["$ref"].rsplit("/", 1)[1] in generated, where
