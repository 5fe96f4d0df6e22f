"""The OpenAPI document is valid OpenAPI 3.1 and describes every operation: bodies, answers, media types."""
from __future__ import annotations

import pytest
from openapi_spec_validator import validate

pytestmark = pytest.mark.database


@pytest.fixture
def doc(client) -> dict:
    r = client.get("/api/v1/openapi.json")
    assert r.status_code == 200
    return r.get_json()


def operations(doc: dict):
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_the_openapi_document_is_valid_openapi_3_1(doc):
    assert validate(doc) is None  # openapi-spec-validator raises on the first problem


def test_every_operation_has_an_answer_schema_and_every_write_a_request_body(doc):
    for path, method, op in operations(doc):
        ok = [code for code in op["responses"] if code.startswith("2")]
        assert ok, (path, method)
        for code, response in op["responses"].items():
            assert response["content"], (path, method, code)
            for media in response["content"].values():
                assert media["schema"], (path, method, code)
            if not code.startswith("2"):
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        if method in ("post", "patch"):
            assert op["requestBody"]["content"], (path, method)


def test_the_media_types_are_the_real_ones(doc):
    paths = doc["paths"]
    upload = paths["/api/v1/dossiers/{id}/documents"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"] == {"$ref": "#/components/schemas/Upload"}
    assert doc["components"]["schemas"]["Upload"]["properties"]["file"] == {"type": "string", "format": "binary"}
    assert set(paths["/api/v1/verify"]["post"]["requestBody"]["content"]) == {"application/pdf", "multipart/form-data"}
    for pdf in ("/api/v1/results/{id}/pdf", "/api/v1/slips/{id}/pdf"):
        assert set(paths[pdf]["get"]["responses"]["200"]["content"]) == {"application/pdf"}


def test_the_headers_and_query_parameters_the_app_reads_are_declared(doc):
    def names(path: str, method: str) -> set[tuple[str, str]]:
        return {(p["in"], p["name"]) for p in doc["paths"][path][method].get("parameters", [])}

    assert ("header", "Idempotency-Key") in names("/api/v1/dossiers", "post")
    assert {("query", n) for n in ("state", "procedure", "overdue", "page")} <= names("/api/v1/dossiers", "get")
    for path in ("/api/v1/results", "/api/v1/results/{id}", "/api/v1/results/{id}/pdf"):
        assert ("header", "X-Purpose") in names(path, "get")
    assert {("query", "from"), ("query", "to")} <= names("/api/v1/kpis", "get")


def test_answers_match_their_schemas(doc, demo, api_as):
    """A few real answers validated against the document's own schemas."""
    from jsonschema import Draft202012Validator

    def check(schema_name: str, body: dict) -> None:
        schema = {**doc["components"]["schemas"][schema_name], "components": doc["components"]}
        resolved = _inline_refs(schema, doc)
        errors = sorted(Draft202012Validator(resolved).iter_errors(body), key=str)
        assert not errors, [e.message for e in errors[:5]]

    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    from tests.web.test_lifecycle_api import birth_form

    r = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)})
    check("Dossier", r.get_json())
    check("Error", citizen.post("/api/v1/dossiers", json={}).get_json())
    check("Kpis", api_as("clerk").get("/api/v1/kpis").get_json())
    check("DossierPage", api_as("clerk").get("/api/v1/dossiers").get_json())
    check("Result", citizen.get(f"/api/v1/results/{couple['marriage_certificate']}").get_json())


def _inline_refs(node, doc):
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline_refs(doc["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]], doc)
        return {k: _inline_refs(v, doc) for k, v in node.items() if k != "components"}
    if isinstance(node, list):
        return [_inline_refs(v, doc) for v in node]
    return node
