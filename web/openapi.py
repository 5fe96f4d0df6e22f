"""The OpenAPI document of /api/v1, written by hand from the contract and kept beside the routes."""
from __future__ import annotations

ERROR = {"$ref": "#/components/schemas/Error"}
JSON = "application/json"


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {JSON: {"schema": schema}}


def _op(summary: str, *, auth: bool = True, body: dict | None = None, ok: int = 200, errors: tuple[int, ...] = (),
        params: list | None = None, result: dict | None = None, body_required: bool = True) -> dict:
    """One operation: ``body`` maps media types to schemas, ``result`` is the JSON schema of the answer."""
    responses: dict = {str(ok): {"description": "OK", "content": _json(result or {"type": "object"})}}
    for code in sorted(set((400,) + (401,) * auth + errors)):
        responses[str(code)] = {"description": "error", "content": _json(ERROR)}
    op: dict = {"summary": summary, "responses": responses}
    if auth:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"required": body_required,
                             "content": {media: {"schema": schema} for media, schema in body.items()}}
    if params:
        op["parameters"] = params
    return op


def _download(summary: str, media: str = "application/octet-stream", *, auth: bool = True,
              params: list | None = None) -> dict:
    op = _op(summary, errors=(403, 404, 409, 503), auth=auth, params=params)
    op["responses"]["200"] = {"description": "The file, as an attachment",
                              "content": {media: {"schema": {"type": "string", "format": "binary"}}}}
    return op


def _health() -> dict:
    """200 when the database answers and the blob store can be reached; 503 when not, with the error body
    and, beside it, the same ``status`` and ``checks``."""
    state = {"type": "string", "enum": ["ok", "unavailable"]}
    report = {"type": "object", "required": ["status", "checks"], "properties": {
        "status": state, "checks": {"type": "object", "required": ["database", "blob_store"],
                                    "properties": {"database": state, "blob_store": state}}}}
    op = _op("Health: the database and the blob store", auth=False, result=report, errors=(503,))
    op["responses"]["503"]["description"] = "A part is unavailable: the error body, with status and checks beside it"
    return op


def _papers(summary: str, media: tuple[str, ...], params: list | None = None) -> dict:
    """A paper drawn on demand (forms 06, 07): 403 for anyone but the agency's staff, 404 unknown."""
    op = _op(summary, errors=(403, 404, 422), params=params)
    op["responses"]["200"] = {"description": "The file, as an attachment",
                              "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in media}}
    return op


def _q(name: str, kind: str = "string", description: str = "", **schema) -> dict:
    param = {"name": name, "in": "query", "required": False, "schema": {"type": kind, **schema}}
    if description:
        param["description"] = description
    return param


def _header(name: str, description: str, **schema) -> dict:
    return {"name": name, "in": "header", "required": False, "description": description,
            "schema": {"type": "string", **schema}}


PURPOSE = _header("X-Purpose", "An agency client's purpose for reading (required for agency clients; UTF-8, or "
                               "percent-encoded UTF-8), logged and shown to the holder", maxLength=300)
IDEMPOTENCY = _header("Idempotency-Key", "Makes a retried filing answer with the same dossier", minLength=1, maxLength=200)

TEXT = {"type": "object", "required": ["vi", "en"], "properties": {"vi": {"type": "string"}, "en": {"type": "string"}}}
WHEN = {"type": "string", "description": "ISO 8601 date-time, local time"}
MAYBE_WHEN = {"type": ["string", "null"], "description": "ISO 8601 date-time, local time"}
STR = {"type": "string"}
MAYBE_STR = {"type": ["string", "null"]}


def _obj(required: list[str], /, **props: dict) -> dict:
    return {"type": "object", "required": required, "properties": props}


DELIVERY = _obj(["id", "channel", "status", "attempts", "last_error", "sent_at"], id={"type": "integer"},
                channel={"type": "string", "enum": ["email", "sms"]},
                status={"type": "string", "enum": ["pending", "sent", "failed", "skipped"]},
                attempts={"type": "integer", "minimum": 0}, last_error={"type": ["string", "null"]}, sent_at=MAYBE_WHEN)
NOTIFICATION = _obj(
    ["id", "dossier_id", "kind", "subject", "body", "created_at", "read_at", "deliveries"], id={"type": "integer"},
    dossier_id={"type": "string"},
    kind={"type": "string", "enum": ["received", "supplement_requested", "extended", "result_ready", "rejected",
                                     "refused"]},
    subject={"type": "string"}, body={"type": "string"}, created_at=WHEN,
    read_at=MAYBE_WHEN, deliveries={"type": "array", "items": DELIVERY})
PREFERENCES = _obj(["email", "sms", "language"], email={"type": "boolean"}, sms={"type": "boolean"},
                   language={"type": "string", "enum": ["vi", "en"]})


TIME_LIMIT = {
    "type": "object", "required": ["value", "unit"],
    "properties": {
        "value": {"type": "number", "description": "0 for immediate"},
        "unit": {"enum": ["working_days", "days", "hours", "immediate"]},
        "cases": {"type": "array", "description": "longer limits that hold in a named case (apply_time_limit_case)",
                  "items": {"type": "object", "required": ["id", "value", "unit", "label"],
                            "properties": {"id": STR, "value": {"type": "number"}, "unit": STR,
                                           "label": {"type": "object"}}}},
    },
}


def _schemas() -> dict:
    result = _obj(["id", "number", "procedure", "evidence", "status"],
                  id=STR, number=STR, procedure=STR, evidence=STR, title=TEXT, holders={"type": "array", "items": STR},
                  issuer=STR, issued_at=WHEN, valid_until=MAYBE_WHEN, status=STR, status_reason=MAYBE_STR,
                  data={"type": "object"}, dossier_id=MAYBE_STR, signers={"type": "array", "items": {"type": "object"}},
                  superseded_by=MAYBE_STR, supersedes=MAYBE_STR)
    verdict = _obj(["rule", "status", "fields", "message"], rule=STR,
                   status={"enum": ["passed", "failed", "not_checked"]}, fields={"type": "array", "items": STR},
                   message=TEXT, used={"type": "object"})
    return {
        "Error": {
            "type": "object", "required": ["error", "message", "fields"],
            "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                           "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
                           # a 422 from a condition of eligibility: the failed rules, their fields and messages
                           "conditions": {"type": "array", "items": verdict}},
        },
        "Text": TEXT,
        "ProcedureSummary": _obj(["id", "code", "version", "title"], id=STR, code=STR, version={"type": "integer"},
                                 title=TEXT, authority=STR, online=STR, time_limit=TIME_LIMIT,
                                 fee={"type": "object"}),
        "Procedure": _obj(["id", "code", "version", "title", "fields", "documents", "states", "actions"],
                          id=STR, code=STR, version={"type": "integer"}, effective_from=STR, title=TEXT,
                          authority=STR, online={}, channels={"type": "array", "items": STR},
                          legal_basis={"type": "array"}, time_limit=TIME_LIMIT, supplement_policy={},
                          fee={"type": "object"}, groups={"type": "array"}, fields={"type": "array"},
                          documents={"type": "array"}, steps={"type": "array"}, decided_by={"type": "array"},
                          states={"type": "array"}, actions={"type": "array"}, results={"type": "array"}),
        "Prefill": _obj(["fields", "counts"], fields={"type": "object", "additionalProperties": _obj(
            ["value", "source", "editable"], value={}, source=STR, editable={"type": "boolean"})},
            counts=_obj(["total", "prefilled", "to_declare"], total={"type": "integer"},
                        prefilled={"type": "integer"}, to_declare={"type": "integer"},
                        conflicts={"type": "integer", "description": "fields whose source value cannot be used"}),
            conflicts={"type": "object", "additionalProperties": ref("PrefillConflict"),
                       "description": "per field: a value a source holds that the field cannot hold (not one of "
                                      "the options, wrong type, too long, a date that does not parse); the field "
                                      "gets no value from it"},
            withheld={"type": "array", "items": STR}, unavailable_sources={"type": "array", "items": STR},
            documents={"type": "object"}),
        "PrefillConflict": _obj(
            ["value", "reason", "message", "source", "editable"], value={"description": "what the source holds"},
            reason={"type": "string", "description": "why it cannot be used, 'tiếng Việt / English'"},
            message={"type": "string", "description": "what the applicant is told, 'tiếng Việt / English'"},
            source=STR, record=STR, label=STR, label_en=STR,
            editable={"type": "boolean", "description": "the applicant may type a value of their own (the field is "
                                                        "editable, or its definition says on_conflict: declare); when "
                                                        "false a value sent for it is refused (422) and the dossier "
                                                        "cannot be submitted, filed or received (422 naming the field) "
                                                        "until the register is corrected"}),
        "Provenance": _obj(
            ["source", "editable", "declared"], source=STR, record=STR, label=STR, label_en=STR,
            editable={"type": "boolean"}, fetched_at=WHEN,
            declared={"type": "boolean", "description": "the applicant typed this value over the source's"},
            conflict={**_obj(["value", "reason"], value={}, reason=STR),
                      "description": "present when the source's value cannot be used in this field: the field keeps "
                                     "no value from it (or the applicant's declared one, see PrefillConflict.editable)"}),
        "DossierEvent": _obj(
            ["seq", "action", "actor", "role", "from_state", "to_state", "at"],
            seq={"type": "integer", "description": "1, 2, ... in the order of the dossier's audit chain"},
            action=STR, actor=STR, role=STR, from_state=MAYBE_STR, to_state=STR, at=WHEN, comment=MAYBE_STR,
            reason=MAYBE_STR, items={"type": ["array", "null"], "items": STR}, details={"type": ["object", "null"]},
            comment_public={"type": "boolean"}),
        "Dossier": _obj(
            ["id", "code", "procedure", "version", "state", "status_code", "data", "provenance", "documents",
             "requirements", "due_at", "available_actions", "events", "results", "version_counter"],
            id=STR, code=MAYBE_STR, procedure=STR, version={"type": "integer"}, title=TEXT, agency=STR, channel=STR,
            applicant={"type": "object"}, state=STR, status_code={"type": ["integer", "null"]},
            data={"type": "object"}, provenance={"type": "object", "additionalProperties": ref("Provenance"),
                                                 "description": "per field: where its value came from, or the "
                                                                "source's value it could not take (conflict)"},
            documents={"type": "array", "items": _obj(["id", "requirement", "by"], id=STR, requirement=STR,
                                                       by={"enum": ["upload", "result"]})},
            requirements={"type": "array", "items": _obj(["id", "required", "satisfied", "by"], id=STR,
                                                          required={"type": "boolean"}, satisfied={"type": "boolean"},
                                                          by={"enum": ["upload", "result", None]})},
            created_at=WHEN, submitted_at=MAYBE_WHEN, received_at=MAYBE_WHEN, due_at=MAYBE_WHEN,
            original_due_at=MAYBE_WHEN, extended={"type": "boolean"},
            time_limit_case={"type": ["string", "null"], "description": "the time-limit case applied, if any"},
            supplement_rounds={"type": "integer"},
            overdue={"type": "boolean"}, fee_paid={"type": "boolean"},
            available_actions={"type": "array", "items": _obj(["id"], id=STR, to=MAYBE_STR, role=STR,
                                                               inputs={"type": "array", "items": STR})},
            events={"type": "array", "items": ref("DossierEvent"),
                    "description": "the latest 20 audit events, oldest first; older ones: events_next"},
            events_before={"type": ["integer", "null"],
                           "description": "when older events exist: the sequence number to page back from (before=)"},
            events_next={"type": ["string", "null"],
                         "description": "when older events exist: the address of the page of events before these"},
            results={"type": "array", "items": ref("Result")},
            slips={"type": "array", "items": {"type": "object"}}, version_counter={"type": "integer"},
            # the last check of the conditions of eligibility (staff also see the data each verdict used)
            conditions={"oneOf": [{"type": "null"}, _obj(["checked_at", "action", "outcome", "verdicts"],
                                                          checked_at=WHEN, action=STR, outcome=STR,
                                                          verdicts={"type": "array", "items": verdict})]},
            outcome={"type": ["object", "null"], "description": "what the dossier came to: {type: result, results} "
                     "or {type: refusal, slip, number, title, status} (the refusal after appraisal is its result)"},
            log_entry={"type": ["integer", "null"], "description": "entry number in the agency's log book of the "
                       "year of receipt (form 07)"},
            fees={"type": "array", "items": _obj(["item", "quantity", "unit_amount", "amount", "currency"], item=STR,
                                                 result=STR, label=TEXT, quantity={"type": "integer"},
                                                 unit_amount={"type": "integer"}, amount={"type": "integer"},
                                                 currency=STR)},
            code_note={"type": ["object", "null"], "description": "until the code exists: when it is given"}),
        "DossierPage": _obj(["items", "page", "page_size", "total"], items={"type": "array", "items": {"type": "object"}},
                            page={"type": "integer"}, page_size={"type": "integer"}, total={"type": "integer"},
                            next_cursor={"type": ["string", "null"], "description": "pass as ?cursor= for the next page; null on the last"},
                            counts={"type": ["object", "null"], "description": "staff: the queue's dossiers (every filter "
                                    "but overdue) by timeliness: overdue, due_soon, on_time, none"}),
        "Result": result,
        "Consent": _obj(["id", "agency", "evidence_type", "granted_at", "withdrawn_at"], id={"type": "integer"},
                        agency=STR, agency_name=STR, evidence_type=STR, granted_at=WHEN, withdrawn_at=MAYBE_WHEN),
        "AccessEntry": _obj(["reader", "purpose", "basis", "at"], result_id=MAYBE_STR, result_number=MAYBE_STR,
                            evidence_type=MAYBE_STR, reader=STR, reader_agency=MAYBE_STR, purpose=STR, basis=STR, what=STR,
                            at=WHEN, kind={"type": "string", "enum": ["result", "register"]},
                            attributes={"type": ["array", "null"], "items": STR}, procedure=MAYBE_STR,
                            dossier_id=MAYBE_STR),
        "Verification": _obj(["valid", "signatures", "result"], valid={"type": "boolean"}, problem=MAYBE_STR,
                             sha256=STR, signatures={"type": "array", "items": {"type": "object"}},
                             result={"type": ["object", "null"]}, slip={"type": ["object", "null"]}),
        "Kpis": _obj(["on_time_rate", "online_rate", "e_result_rate", "reuse_rate", "satisfaction", "declared_field_cut"],
                     period={"type": "object"}, dossiers_received={"type": "integer"},
                     on_time_rate={"type": ["number", "null"]}, online_rate={"type": ["number", "null"]},
                     e_result_rate={"type": ["number", "null"]}, reuse_rate={"type": ["number", "null"]},
                     satisfaction={"type": ["number", "null"]}, declared_field_cut={"type": "object"}),
        "FeedEvent": _obj(["id", "type", "at", "dossier", "agency", "status_code", "data"],
                          id={"type": "integer", "description": "the cursor: events are numbered in commit order"},
                          type={"type": "string", "enum": ["dossier.transition", "payment.confirmed", "result.issued",
                                                           "result.revoked", "result.superseded"]},
                          at=WHEN, dossier={"type": ["object", "null"], "properties": {"id": STR, "code": MAYBE_STR}},
                          agency=MAYBE_STR, status_code={"type": ["integer", "null"], "minimum": 1, "maximum": 10},
                          data={"type": "object", "description": "no personal data: action, from, to, procedure, "
                                "channel, received_at, due_at, finished_at, outcome; or the result's id, number, "
                                "evidence type and status"}),
        "Webhook": _obj(["id", "url", "active", "position", "pending"], id={"type": "integer"}, client=STR, url=STR,
                        active={"type": "boolean"}, allow_private={"type": "boolean"},
                        position={"type": "integer", "description": "the feed cursor up to which events are queued"},
                        pending={"type": "integer"}, consecutive_failures={"type": "integer"}, created_at=WHEN,
                        disabled_at=MAYBE_WHEN, disabled_reason=MAYBE_STR,
                        secret={"type": "string", "description": "in the answer to its creation only"}),
        "WebhookAttempt": _obj(["id", "event_id", "attempt", "at", "ok"], id={"type": "integer"},
                               event_id={"type": "integer"}, attempt={"type": "integer"}, at=WHEN,
                               status_code={"type": ["integer", "null"]}, ok={"type": "boolean"}, error=MAYBE_STR,
                               duration_ms={"type": ["integer", "null"]}),
        # request bodies
        "NewDossier": _obj(["procedure"], procedure={"type": "string", "description": "a procedure id"},
                           data={"type": "object", "description": "field id: value"},
                           applicant={"type": "string", "description": "counter filing: the walk-in's personal id"},
                           agency={"type": "string", "description": "the receiving agency's code"}),
        "FormUpdate": _obj(["data"], data={"type": "object", "description": "field id: value; null or empty clears"},
                           expected_version={"type": "integer"}),
        "LinkResult": _obj(["requirement", "result_id"], requirement=STR, result_id=STR),
        "Upload": {"type": "object", "required": ["requirement", "file"],
                   "properties": {"requirement": STR, "file": {"type": "string", "format": "binary"}}},
        "ActionInputs": {"type": "object", "properties": {
            "comment": {"type": "string", "maxLength": 4000},
            "comment_public": {"type": "boolean", "default": False,
                               "description": "whether the applicant sees the comment; internal (staff only) by default"},
            "reason": {"type": "string", "maxLength": 4000},
            "items": {"type": "array", "items": {"type": "string", "maxLength": 1000}, "maxItems": 100},
            "new_due_at": {"type": "string", "description": "YYYY-MM-DD[THH:MM], within a year"},
            "case": {"type": "string", "maxLength": 60,
                     "description": "apply_time_limit_case: the id of one of the procedure's time-limit cases"},
            "expected_version": {"type": "integer"}}},
        "Reason": _obj(["reason"], reason=STR),
        "Supersede": _obj(["data", "reason"], data={"type": "object"}, reason=STR),
        "NewConsent": _obj(["agency", "evidence"], agency=STR, evidence=STR),
        "Deposit": {**_obj(["evidence_type", "number", "issued_at", "holders", "data"],
                           evidence_type={"type": "string", "description": "an evidence type that declares its data "
                                                                           "keys (procedures/evidence-types.yaml)"},
                           number={"type": "string", "minLength": 1, "maxLength": 80,
                                   "description": "unique per issuer and evidence type"},
                           issued_at={"type": "string", "description": "ISO 8601 date-time, local time, not in the future"},
                           holders={"type": "array", "minItems": 1, "maxItems": 10, "items": STR,
                                    "description": "personal ids of the holders, each in the population register"},
                           data={"type": "object", "description": "the keys the evidence type declares"}),
                    "additionalProperties": False},
    }


SIGNATURE = {"name": "X-Signature", "in": "header", "required": True, "schema": {"type": "string", "maxLength": 200},
             "description": "Base64 signature of the canonical JSON body (UTF-8, keys sorted, separators ',' and ':', "
                            "non-ASCII characters as themselves) with the client's registered key: Ed25519, or "
                            "ECDSA P-256 with SHA-256 (DER)"}


def _deposit_op() -> dict:
    op = _op("Deposit a result issued outside (an agency client allowed to issue its evidence type, e.g. a "
             "hospital's medical-birth-notice or death-notice); 201 stored, 200 when the same body was sent before",
             body={JSON: ref("Deposit")}, ok=201, errors=(403, 409, 413, 415, 422), result=ref("Result"),
             params=[SIGNATURE])
    op["responses"]["200"] = {"description": "The same body was deposited before: the stored result",
                              "content": _json(ref("Result"))}
    return op


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
    pdf = {"type": "string", "format": "binary"}
    dossier = ref("Dossier")
    doc = {
        "openapi": "3.1.0",
        "info": {"title": "MotCua API", "version": "1", "description": "One-stop public-service workflow engine. "
                 "Text is UTF-8 without lone surrogates or control characters (tab and new lines aside); "
                 "other text is refused with 400 (path, query, headers) or 422 (bodies)."},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "schemas": _schemas()},
        "paths": {
            "/api/v1/procedures": {"get": _op("The procedure catalogue", auth=False, result=_obj(
                ["procedures"], procedures={"type": "array", "items": ref("ProcedureSummary")}))},
            "/api/v1/procedures/{id}": {"get": _op("One procedure definition", auth=False, errors=(404,),
                                                   result=ref("Procedure"))},
            "/api/v1/procedures/{id}/prefill": {"get": _op(
                "What a citizen finds prefilled, with sources and counts (personal-id fields may be passed as "
                "query parameters to look up family members); staff: the reception clerk of an agency taking the "
                "procedure at its counter (?applicant=, X-Purpose)", errors=(403, 404, 422), result=ref("Prefill"))},
            "/api/v1/dossiers": {
                "post": _op("Start a dossier (citizen, or clerk at the counter with 'applicant')",
                            body={JSON: ref("NewDossier")}, ok=201, errors=(403, 409, 413, 415, 422),
                            params=[IDEMPOTENCY], result=dossier),
                "get": _op("Work queue (staff) or my dossiers (citizen)", errors=(403, 422), result=ref("DossierPage"),
                           params=[_q("state"), _q("procedure"), _q("overdue", enum=["true", "false", "1", "0"]),
                                   _q("page", "integer", minimum=1), _q("cursor")]),
            },
            "/api/v1/dossiers/{id}": {
                "get": _op("One dossier", errors=(404,), result=dossier),
                "patch": _op("Update the form while draft or in a supplement state", body={JSON: ref("FormUpdate")},
                             errors=(403, 404, 409, 413, 415, 422), result=dossier),
            },
            "/api/v1/dossiers/{id}/events": {
                "get": _op("A page of the dossier's audit events, oldest first (who may read the dossier): the "
                           "'limit' events before the sequence number 'before', or the latest; 'next' is the "
                           "address of the page before these (null: this page holds the first event)",
                           errors=(404, 422), params=[
                               _q("before", "integer", "the events with a smaller sequence number (default: the latest)",
                                  minimum=1),
                               _q("limit", "integer", "at most this many events (default 20)", minimum=1, maximum=100)],
                           result=_obj(["events", "next_before", "next"],
                                       events={"type": "array", "items": ref("DossierEvent")},
                                       next_before={"type": ["integer", "null"]}, next=MAYBE_STR)),
            },
            "/api/v1/dossiers/{id}/documents": {
                "post": _op("Upload a document (multipart requirement, file) or link a stored result (JSON)",
                            body={"multipart/form-data": ref("Upload"), JSON: ref("LinkResult")},
                            ok=201, errors=(403, 404, 409, 413, 415, 422, 503), result=dossier),
            },
            "/api/v1/dossiers/{id}/documents/{document_id}": {
                "get": _download("Download an uploaded document (its applicant; staff of the agency)"),
            },
            "/api/v1/dossiers/{id}/actions/{action}": {
                "post": _op("Fire a workflow action", body={JSON: ref("ActionInputs")}, body_required=False,
                            errors=(403, 404, 409, 413, 415, 422), result=dossier),
            },
            "/api/v1/results": {"get": _op("Stored results", errors=(403, 422), result=_obj(
                ["results"], results={"type": "array", "items": ref("Result")}),
                params=[_q("holder"), _q("evidence"), PURPOSE]),
                "post": _deposit_op()},
            "/api/v1/results/{id}": {"get": _op("One stored result", errors=(403, 404, 422), params=[PURPOSE],
                                                result=ref("Result"))},
            "/api/v1/openapi.json": {"get": _op("This OpenAPI document", auth=False)},
            "/api/v1/results/{id}/pdf": {"get": _download("The signed PDF of a result", "application/pdf",
                                                          params=[PURPOSE])},
            "/api/v1/results/{id}/revoke": {"post": _op("Revoke a result (leader of the issuing agency)",
                                                        body={JSON: ref("Reason")}, errors=(403, 404, 409, 413, 415, 422),
                                                        result=ref("Result"))},
            "/api/v1/results/{id}/supersede": {"post": _op("Issue a corrected result that supersedes this one",
                                                           body={JSON: ref("Supersede")}, ok=201,
                                                           errors=(403, 404, 409, 413, 415, 422), result=ref("Result"))},
            "/api/v1/slips/{id}/pdf": {"get": _download("The signed PDF of a one-stop slip (forms 01-05, the refusal "
                                                        "after appraisal)", "application/pdf")},
            "/api/v1/dossiers/{id}/control-sheet.pdf": {"get": _papers(
                "The dossier's control sheet (form 06): its hand-overs with early / on time / late (staff of the "
                "agency: clerk, specialist, leader, records)", ("application/pdf",))},
            "/api/v1/log-book": {"get": _papers(
                "The agency's log book (form 07) of the days from..to (default today), as an A4 landscape PDF or "
                "CSV (staff of the agency; each read is logged for the applicants listed)",
                ("application/pdf", "text/csv"),
                params=[_q("from", "string", "YYYY-MM-DD", format="date"), _q("to", "string", "YYYY-MM-DD", format="date"),
                        _q("format", enum=["pdf", "csv"])])},
            "/api/v1/verify": {"post": _op("Verify a PDF: signatures, chain to our root, hash and status in the store",
                                           auth=False, body={"application/pdf": pdf, "multipart/form-data": _obj(
                                               ["file"], file=pdf)}, errors=(413, 422), result=ref("Verification"))},
            "/api/v1/trust/root.pem": {"get": _download("The root certificate(s) results chain to",
                                                        "application/x-pem-file", auth=False)},
            "/api/v1/me/access-log": {"get": _op("Who read which of my results, or was shown my register data (kind: result | register), when and why", errors=(403,),
                                                 result=_obj(["entries"], entries={"type": "array",
                                                                                   "items": ref("AccessEntry")}))},
            "/api/v1/me/consents": {"get": _op("My consents", errors=(403,), result=_obj(
                                        ["consents"], consents={"type": "array", "items": ref("Consent")})),
                                    "post": _op("Let an agency read one evidence type of mine",
                                                body={JSON: ref("NewConsent")}, ok=201, errors=(403, 413, 415, 422),
                                                result=ref("Consent"))},
            "/api/v1/me/consents/{consent_id}": {"delete": _op("Withdraw a consent", errors=(403, 404),
                                                               result=ref("Consent"))},
            "/api/v1/me/notifications": {"get": _op(
                "My in-app notifications, newest first, each with the delivery log of its e-mail and SMS (citizen)",
                errors=(403,), result=_obj(["unread", "notifications"], unread={"type": "integer", "minimum": 0},
                                           notifications={"type": "array", "items": NOTIFICATION}))},
            "/api/v1/me/notifications/{notification_id}/read": {"post": _op(
                "Mark one of my notifications read (no body needed)", errors=(403, 404),
                body={JSON: {"type": "object"}}, body_required=False,
                result=_obj(["id", "read"], id={"type": "integer"}, read={"type": "boolean"}))},
            "/api/v1/me/notification-preferences": {
                "get": _op("How I am notified: e-mail, SMS, language", errors=(403,), result=PREFERENCES),
                "put": _op("Change how I am notified", body={JSON: PREFERENCES}, errors=(403, 413, 415, 422),
                           result=PREFERENCES)},
            "/api/v1/kpis": {"get": _op("KPIs (Decision 766) of the staff member's agency", errors=(403, 422),
                                        result=ref("Kpis"),
                                        params=[_q("from", description="ISO date or date-time, 1900-9999"),
                                                _q("to", description="ISO date or date-time, 1900-9999, after 'from'")])},
            "/api/v1/events": {"get": _op(
                "The event feed an agency client may see (its agency's dossiers and results, and the result events "
                "of the evidence types it may read), oldest first after the cursor; X-Signature: sha256=<hex "
                "HMAC-SHA256 of the body, keyed with the bearer token>", errors=(403, 422),
                params=[_q("after", "integer", "the cursor: the last event id received (default 0)", minimum=0),
                        _q("limit", "integer", "at most this many events (default 100)", minimum=1, maximum=500)],
                result=_obj(["events", "next", "more"], events={"type": "array", "items": ref("FeedEvent")},
                            next={"type": "integer"}, more={"type": "boolean"}))},
            "/api/v1/webhooks": {
                "get": _op("My webhook subscriptions", errors=(403,), result=_obj(
                    ["webhooks"], webhooks={"type": "array", "items": ref("Webhook")})),
                "post": _op("Subscribe a URL to my events (loopback and private addresses refused); the answer "
                            "carries the signing secret, once. Bodies are signed: X-MotCua-Signature: t=<unix time>,"
                            "v1=<hex HMAC-SHA256 of '<t>.<body>'>", ok=201, errors=(403, 404, 422),
                            body={JSON: _obj(["url"], url=STR, after={"type": "integer", "description":
                                                                        "deliver the events after this cursor too"})},
                            result=ref("Webhook"))},
            "/api/v1/webhooks/{id}": {"delete": _op("Remove a subscription", errors=(403, 404), result=ref("Webhook"))},
            "/api/v1/webhooks/{id}/enable": {"post": _op("Enable a subscription disabled after repeated failure",
                                                         errors=(403, 404), result=ref("Webhook"),
                                                         body={JSON: {"type": "object"}}, body_required=False)},
            "/api/v1/webhooks/{id}/replay": {"post": _op(
                "Deliver again every event after a cursor", ok=202, errors=(403, 404, 422),
                body={JSON: _obj(["after"], after={"type": "integer"})},
                result=_obj(["queued"], queued={"type": "integer"}))},
            "/api/v1/webhooks/{id}/deliveries": {"get": _op("The delivery log: every attempt, newest first",
                                                            errors=(403, 404), result=_obj(
                ["attempts"], attempts={"type": "array", "items": ref("WebhookAttempt")}))},
            "/healthz": {"get": _health()},
        },
    }
    doc["paths"] = _with_path_parameters(doc["paths"])
    consent = doc["paths"]["/api/v1/me/consents/{consent_id}"]["delete"]["parameters"][0]
    consent["schema"] = {"type": "integer", "minimum": 1}
    read = doc["paths"]["/api/v1/me/notifications/{notification_id}/read"]["post"]["parameters"][0]
    read["schema"] = {"type": "integer", "minimum": 1, "maximum": 2**63 - 1}
    return doc
