"""The OpenAPI document of /api/v1, written by hand from the contract and kept beside the routes."""
from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}


def _op(summary: str, *, auth: bool = True, body: dict | None = None, ok: int = 200, errors: tuple[int, ...] = (),
        params: list | None = None) -> dict:
    responses: dict = {str(ok): {"description": "OK", "content": {"application/json": {}}}}
    for code in (401,) * auth + errors:
        responses[str(code)] = {"description": "error", "content": {"application/json": {"schema": ERROR}}}
    op: dict = {"summary": summary, "responses": responses}
    if auth:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"required": True, "content": body}
    if params:
        op["parameters"] = params
    return op


def _download(summary: str) -> dict:
    op = _op(summary, errors=(404,))
    op["responses"]["200"] = {"description": "The file, as an attachment",
                              "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    return op


def _q(name: str, kind: str = "string") -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": kind}}


def _with_path_parameters(paths: dict) -> dict:
    """Declare every {name} of a path as a required path parameter (strict validators ask for it)."""
    import re

    for path, operations in paths.items():
        names = re.findall(r"{([^}]+)}", path)
        for op in operations.values():
            params = [p for p in op.get("parameters", []) if p.get("in") != "path"]
            op["parameters"] = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                                for n in names] + params
            if not op["parameters"]:
                del op["parameters"]
    return paths


def document() -> dict:
    json_obj = {"application/json": {"schema": {"type": "object"}}}
    action_body = {"application/json": {"schema": {"type": "object", "properties": {
        "comment": {"type": "string", "maxLength": 4000},
        "comment_public": {"type": "boolean", "default": False,
                           "description": "whether the applicant sees the comment; internal (staff only) by default"},
        "reason": {"type": "string"}, "items": {"type": "array", "items": {"type": "string"}},
        "new_due_at": {"type": "string"}, "expected_version": {"type": "integer"}}}}}
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "MotCua API", "version": "1", "description": "One-stop public-service workflow engine"},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object", "required": ["error", "message", "fields"],
                    "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                                   "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}},
                },
            },
        },
        "paths": {
            "/api/v1/procedures": {"get": _op("The procedure catalogue", auth=False)},
            "/api/v1/procedures/{id}": {"get": _op("One procedure definition", auth=False, errors=(404,))},
            "/api/v1/dossiers": {
                "post": _op("Start a dossier (citizen, or clerk at the counter with 'applicant')", body=json_obj,
                            ok=201, errors=(403, 409, 422),
                            params=[{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}]),
                "get": _op("Work queue (staff) or my dossiers (citizen)", errors=(403, 422),
                           params=[_q("state"), _q("procedure"), _q("overdue", "boolean"), _q("page", "integer")]),
            },
            "/api/v1/dossiers/{id}": {
                "get": _op("One dossier", errors=(404,)),
                "patch": _op("Update the form while draft or in a supplement state", body=json_obj, errors=(403, 404, 409, 422)),
            },
            "/api/v1/dossiers/{id}/documents": {
                "post": _op("Upload a document (multipart requirement, file) or link a stored result (JSON)",
                            body={"multipart/form-data": {"schema": {"type": "object"}}, **json_obj},
                            ok=201, errors=(403, 404, 409, 413, 415, 422)),
            },
            "/api/v1/dossiers/{id}/documents/{document_id}": {
                "get": _download("Download an uploaded document (its applicant; staff of the agency)"),
            },
            "/api/v1/dossiers/{id}/actions/{action}": {
                "post": _op("Fire a workflow action", body=action_body, errors=(403, 404, 409, 422)),
            },
            "/api/v1/results": {"get": _op("Stored results", errors=(403, 422), params=[_q("holder"), _q("evidence")])},
            "/api/v1/results/{id}": {"get": _op("One stored result", errors=(404,))},
            "/api/v1/openapi.json": {"get": _op("This OpenAPI document", auth=False)},
            "/api/v1/results/{id}/pdf": {"get": _download("The signed PDF of a result")},
            "/api/v1/results/{id}/revoke": {"post": _op("Revoke a result (leader of the issuing agency)", body=json_obj,
                                                          errors=(403, 404, 409, 422))},
            "/api/v1/results/{id}/supersede": {"post": _op("Issue a corrected result that supersedes this one", body=json_obj,
                                                             ok=201, errors=(403, 404, 409, 422))},
            "/api/v1/slips/{id}/pdf": {"get": _download("The sealed PDF of a one-stop slip (forms 01-05)")},
            "/api/v1/verify": {"post": _op("Verify a PDF: signatures, chain to our root, hash and status in the store",
                                           auth=False, body={"application/pdf": {"schema": {"type": "string", "format": "binary"}},
                                                             "multipart/form-data": {"schema": {"type": "object"}}},
                                           errors=(413, 422))},
            "/api/v1/trust/root.pem": {"get": _op("The root certificate results chain to", auth=False)},
            "/api/v1/procedures/{id}/prefill": {"get": _op("What a citizen finds prefilled, with sources and counts; staff: the reception clerk of an "
                                                           "agency taking the procedure at its counter (?applicant=, X-Purpose)",
                                                           errors=(403, 404, 422))},
            "/api/v1/me/access-log": {"get": _op("Who read which of my results, or was shown my register data "
                                                    "(kind: result | register), when and why", errors=(403,))},
            "/api/v1/me/consents": {"get": _op("My consents", errors=(403,)),
                                    "post": _op("Let an agency read one evidence type of mine", body=json_obj, ok=201,
                                                errors=(403, 422))},
            "/api/v1/me/consents/{consent_id}": {"delete": _op("Withdraw a consent", errors=(403, 404))},
            "/api/v1/kpis": {"get": _op("KPIs (Decision 766) of the staff member's agency", errors=(403, 422),
                                        params=[_q("from"), _q("to")])},
            "/healthz": {"get": _op("Health", auth=False)},
        },
    }
    doc["paths"] = _with_path_parameters(doc["paths"])
    return doc
