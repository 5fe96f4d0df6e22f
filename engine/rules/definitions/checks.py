"""Validation of the sections of a procedure file: each parser reads one section into dataclasses
and reports every problem at its line."""
from __future__ import annotations

from collections import deque
from pathlib import Path
from typing import Any

from engine.rules import conditions as condition_registry
from engine.rules import effects as effect_registry
from engine.rules import guards as guard_registry
from engine.rules import prefill as prefill_registry
from engine.rules import writeback as writeback_rules
from engine.rules.definitions.lines import Problems, Reader, line_of, str_list, suggest
from engine.rules.definitions.schema import (
    DOSSIER_ATTRIBUTES, FIELD_TYPES, IDENTITY_ATTRIBUTES, KEBAB, MIME_TYPES,
    NUMBER_PLACEHOLDERS, PERSON_ATTRIBUTES, PREFILL_WHO, RESULT_DATA_ROOTS, ROLES, SNAKE,
    STAFF_ROLES, TIME_UNITS, ActionDef, CopiesDef, DocumentDef, FieldDef, Group, Option, Prefill, ResultDef,
    StateDef, Step, Text, TimeLimitCase, WriteBackDef,
)

FIELD_KEYS = {"id", "label", "type", "required", "group", "options", "max_length", "min", "max", "help", "prefill"}
PREFILL_KEYS = {"source", "path", "of", "person", "rule", "args", "editable", "on_conflict"}


def parse_form(p: Problems, form: Any, line: int) -> tuple[tuple[Group, ...], tuple[FieldDef, ...]]:
    if form is None:
        return (), ()
    r = Reader(p, form, "form", {"groups", "fields"}, line)
    groups: list[Group] = []
    raw_groups = r.get("groups", list, default=[])
    seen_groups: set[str] = set()
    for i, g in enumerate(raw_groups or []):
        gr = Reader(p, g, "a form group", {"id", "label"}, line_of(raw_groups, i))
        gid = gr.get("id", str, required=True, default="")
        if gid in seen_groups:
            p.add(gr.line_of("id"), f"duplicate group id '{gid}'")
        seen_groups.add(gid)
        label = gr.text("label", required=True)
        if gid and label:
            groups.append(Group(gid, label))
    fields: list[FieldDef] = []
    raw_fields = r.get("fields", list, required=True, default=[])
    seen: set[str] = set()
    for i, f in enumerate(raw_fields or []):
        fr = Reader(p, f, "a form field", FIELD_KEYS, line_of(raw_fields, i))
        if not fr.ok:
            continue
        fid = fr.get("id", str, required=True, default="")
        where = f"field '{fid}'"
        if fid and not SNAKE.match(fid):
            p.add(fr.line_of("id"), f"{where}: id must be snake_case")
        if fid in seen:
            p.add(fr.line_of("id"), f"duplicate field id '{fid}'")
        seen.add(fid)
        label = fr.text("label", required=True)
        ftype = fr.get("type", str, required=True, default="text")
        if ftype not in FIELD_TYPES:
            p.add(fr.line_of("type"), f"{where}: unknown type '{ftype}'{suggest(ftype, FIELD_TYPES)}")
        group = fr.get("group", str, default=None)
        if group is not None and group not in seen_groups:
            p.add(fr.line_of("group"), f"{where}: unknown group '{group}'")
        options: list[Option] = []
        raw_opts = fr.get("options", list, default=None)
        if ftype == "select" and not raw_opts:
            p.add(fr.line, f"{where}: a select field needs options")
        if raw_opts and ftype != "select":
            p.add(fr.line_of("options"), f"{where}: only select fields have options")
        for j, o in enumerate(raw_opts or []):
            orr = Reader(p, o, f"an option of {where}", {"value", "label"}, line_of(raw_opts, j))
            ov = orr.get("value", (str, int), required=True, default="")
            ol = orr.text("label", required=True)
            if ol is not None:
                options.append(Option(str(ov), ol))
        prefill = parse_prefill(p, f.get("prefill"), fr.line_of("prefill"), where) if "prefill" in f else None
        fields.append(
            FieldDef(
                id=fid, label=label or Text(fid, fid), type=ftype, required=fr.get("required", bool, default=False),
                group=group, options=tuple(options), max_length=fr.get("max_length", int, default=None),
                min=fr.get("min", (int, float), default=None), max=fr.get("max", (int, float), default=None),
                help=fr.text("help"), prefill=prefill,
            )
        )
    return tuple(groups), tuple(fields)


def parse_prefill(p: Problems, raw: Any, line: int, where: str) -> Prefill | None:
    pr = Reader(p, raw, f"the prefill of {where}", PREFILL_KEYS, line)
    if not pr.ok:
        return None
    source = pr.get("source", str, required=True, default="")
    if source and source not in prefill_registry.PREFILL_SOURCES:
        p.add(pr.line_of("source"), f"{where}: unknown prefill source '{source}'{suggest(source, prefill_registry.PREFILL_SOURCES)}")
    path = pr.get("path", str, default=None)
    of = pr.get("of", str, default="self")
    person = pr.get("person", str, default=None)
    rule = pr.get("rule", str, default=None)
    args = str_list(p, pr.raw("args"), f"prefill args of {where}", pr.line_of("args"))
    if of not in PREFILL_WHO:
        p.add(pr.line_of("of"), f"{where}: prefill 'of' must be one of {', '.join(sorted(PREFILL_WHO))}")
    if person and "of" in pr.m:
        p.add(pr.line_of("person"), f"{where}: give either 'of' or 'person', not both")
    if source == "population":
        if path not in PERSON_ATTRIBUTES:
            p.add(pr.line_of("path"), f"{where}: unknown population attribute '{path}'{suggest(str(path), PERSON_ATTRIBUTES)}")
    elif source == "identity":
        if path not in IDENTITY_ATTRIBUTES:
            p.add(pr.line_of("path"), f"{where}: unknown identity attribute '{path}'")
    elif source == "results":
        if not path or "." not in path:
            p.add(pr.line_of("path"), f"{where}: a results prefill path is '<evidence type>.<data key>'")
    elif source == "derived":
        if rule not in prefill_registry.DERIVATIONS:
            p.add(pr.line_of("rule") if rule else pr.line, f"{where}: unknown derivation '{rule}' (known: {', '.join(sorted(prefill_registry.DERIVATIONS))})")
        if not args:
            p.add(pr.line, f"{where}: a derived prefill needs 'args'")
    editable = pr.get("editable", bool, default=True)
    on_conflict = pr.get("on_conflict", str, default="refuse")
    if on_conflict not in prefill_registry.ON_CONFLICT:
        p.add(pr.line_of("on_conflict"), f"{where}: prefill 'on_conflict' must be one of "
                                          f"{', '.join(prefill_registry.ON_CONFLICT)}, not '{on_conflict}'")
    elif on_conflict == "declare" and editable:
        p.add(pr.line_of("on_conflict"), f"{where}: 'on_conflict: declare' is for a field that is not editable "
                                          f"(an editable field may always be typed)")
    return Prefill(source=source, path=path, of=of, person=person, rule=rule, args=args,
                   editable=editable, on_conflict=on_conflict)


def parse_conditions(p: Problems, raw: Any, line: int, fields: dict[str, str]) -> tuple[dict[str, Any], ...]:
    """``conditions:``: a list of ``{rule: <name>, <param>: ...}``, each rule known to
    engine.rules.conditions and its parameters valid for it (``fields``: field ids -> types)."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        p.add(line, "conditions must be a list of {rule: <name>, ...parameters}")
        return ()
    out: list[dict[str, Any]] = []
    for i, entry in enumerate(raw):
        at = line_of(raw, i)
        if not isinstance(entry, dict):
            p.add(at, f"a condition must be a mapping {{rule: <name>, ...}}, not {type(entry).__name__}")
            continue
        rule = entry.get("rule")
        if not isinstance(rule, str) or not rule:
            p.add(at, "a condition needs 'rule' (the name of a condition rule)")
            continue
        params = {k: v for k, v in entry.items() if k != "rule"}
        if rule not in condition_registry.CONDITIONS:
            p.add(line_of(entry, "rule"), f"unknown condition rule '{rule}'{suggest(rule, condition_registry.CONDITIONS)}")
            continue
        problems = condition_registry.check_entry(rule, params, fields)
        for problem in problems:
            p.add(at, f"condition '{rule}': {problem}")
        if not problems:
            out.append(_plain(entry))
    return tuple(out)


def _plain(value: Any) -> Any:
    """The YAML's line-keeping containers as plain dicts and lists (a procedure holds plain data)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


TIME_LIMIT_KEYS = {"value", "unit", "cases"}
TIME_LIMIT_CASE_KEYS = {"id", "value", "unit", "label"}


def _limit_value(p: Problems, r: Reader, unit: str, where: str) -> float | None:
    """The ``value`` of a time limit in ``unit``, or None (reported) when it is missing or bad."""
    if "value" not in r.m:
        if unit == "immediate":
            return 0.0
        p.add(r.line, f"{where} needs a value greater than 0")
        return None
    value = r.get("value", (int, float), default=None)
    if value is None:
        return None
    line = r.line_of("value")
    if unit == "immediate":
        if value != 0:
            p.add(line, f"{where}: an immediate limit has no value (give 0 or leave it out)")
            return None
        return 0.0
    if value <= 0:
        p.add(line, f"{where} value must be greater than 0")
        return None
    if unit in ("working_days", "days") and value != int(value):
        p.add(line, f"{where} value in {unit} must be a whole number (express fractions in hours)")
        return None
    return float(value)


def parse_time_limit(p: Problems, raw: Any, line: int) -> tuple[float, str, tuple[TimeLimitCase, ...]]:
    """``time_limit: {value, unit, cases}``: the ordinary limit and the longer ones named cases hold.

    A case (``{id, value, unit, label}``) is chosen by the staff while the dossier is processed; it
    must make the limit longer, so it cannot be ``immediate`` and, in the same unit, its value must
    be greater than the ordinary one."""
    r = Reader(p, raw, "time_limit", TIME_LIMIT_KEYS, line)
    if not r.ok:
        return 0.0, "working_days", ()
    unit = r.get("unit", str, required=True, default="working_days")
    if unit not in TIME_UNITS:
        p.add(r.line_of("unit"), f"unknown time unit '{unit}' (use {', '.join(sorted(TIME_UNITS))}){suggest(unit, TIME_UNITS)}")
        unit = "working_days"
    value = _limit_value(p, r, unit, "time_limit")
    raw_cases = r.get("cases", list, default=[]) or []
    if "cases" in r.m and isinstance(r.raw("cases"), list) and not raw_cases:
        p.add(r.line_of("cases"), "time_limit cases: list at least one case, or leave the key out")
    cases: list[TimeLimitCase] = []
    seen: set[str] = set()
    for i, c in enumerate(raw_cases):
        cr = Reader(p, c, "a time-limit case", TIME_LIMIT_CASE_KEYS, line_of(raw_cases, i))
        if not cr.ok:
            continue
        cid = cr.get("id", str, required=True, default="")
        where = f"time-limit case '{cid}'"
        if cid and not SNAKE.match(cid):
            p.add(cr.line_of("id"), f"{where}: id must be snake_case")
        if cid in seen:
            p.add(cr.line_of("id"), f"duplicate time-limit case '{cid}'")
        seen.add(cid)
        cunit = cr.get("unit", str, required=True, default=None)
        cvalue = None
        if cunit is not None and cunit not in TIME_UNITS:
            p.add(cr.line_of("unit"), f"{where}: unknown time unit '{cunit}' (use {', '.join(sorted(TIME_UNITS))})")
        elif cunit == "immediate":
            p.add(cr.line_of("unit"), f"{where}: a case makes the limit longer; it cannot be immediate")
        elif cunit is not None:
            cvalue = _limit_value(p, cr, cunit, where)
            if cvalue is not None and value is not None and cunit == unit and cvalue <= value:
                p.add(cr.line_of("value"), f"{where}: the value must be greater than the ordinary {value:g} {unit}")
        label = cr.text("label", required=True)
        if cid and cunit is not None and cvalue is not None and label is not None:
            cases.append(TimeLimitCase(cid, cvalue, cunit, label))
    return (value or 0.0), unit, tuple(cases)


DOC_KEYS = {"id", "label", "required", "accept", "max_mb", "replaced_by"}


def parse_documents(p: Problems, raw: Any, line: int) -> tuple[DocumentDef, ...]:
    if not isinstance(raw, list):
        p.add(line, "documents must be a list")
        return ()
    docs: list[DocumentDef] = []
    seen: set[str] = set()
    for i, d in enumerate(raw):
        dr = Reader(p, d, "a document", DOC_KEYS, line_of(raw, i))
        if not dr.ok:
            continue
        did = dr.get("id", str, required=True, default="")
        if did in seen:
            p.add(dr.line_of("id"), f"duplicate document id '{did}'")
        seen.add(did)
        if did and not SNAKE.match(did):
            p.add(dr.line_of("id"), f"document id '{did}' must be snake_case")
        accept = str_list(p, dr.raw("accept") or ["application/pdf"], f"accept of document '{did}'", dr.line_of("accept"))
        for mime in accept:
            if mime not in MIME_TYPES:
                p.add(dr.line_of("accept"), f"document '{did}': unsupported type '{mime}' (accepted: {', '.join(sorted(MIME_TYPES))})")
        max_mb = dr.get("max_mb", (int, float), default=10)
        if isinstance(max_mb, (int, float)) and not 0 < max_mb <= 50:
            p.add(dr.line_of("max_mb"), f"document '{did}': max_mb must be between 0 and 50")
        replaced = None
        if dr.has("replaced_by"):
            rr = Reader(p, dr.raw("replaced_by"), f"replaced_by of document '{did}'", {"evidence"}, dr.line_of("replaced_by"))
            replaced = rr.get("evidence", str, required=True, default=None)
        docs.append(DocumentDef(did, dr.text("label", required=True) or Text(did, did),
                                dr.get("required", bool, default=False), accept, float(max_mb or 10), replaced))
    return tuple(docs)


def parse_steps(p: Problems, raw: Any, line: int) -> tuple[Step, ...]:
    if not isinstance(raw, list):
        p.add(line, "steps must be a list")
        return ()
    steps: list[Step] = []
    seen: set[str] = set()
    for i, s in enumerate(raw):
        sr = Reader(p, s, "a step", {"id", "label", "roles", "time_share"}, line_of(raw, i))
        if not sr.ok:
            continue
        sid = sr.get("id", str, required=True, default="")
        if sid in seen:
            p.add(sr.line_of("id"), f"duplicate step id '{sid}'")
        seen.add(sid)
        if sid and not SNAKE.match(sid):
            p.add(sr.line_of("id"), f"step id '{sid}' must be snake_case")
        roles = str_list(p, sr.raw("roles"), f"roles of step '{sid}'", sr.line_of("roles"))
        if not roles:
            p.add(sr.line, f"step '{sid}' needs at least one role")
        for role in roles:
            if role not in STAFF_ROLES:
                p.add(sr.line_of("roles"), f"step '{sid}': unknown role '{role}'{suggest(role, STAFF_ROLES)}")
        share = sr.get("time_share", (int, float), default=None)
        if share is not None and not 0 < share <= 1:
            p.add(sr.line_of("time_share"), f"step '{sid}': time_share must be in (0, 1]")
        steps.append(Step(sid, sr.text("label") or Text(sid, sid), roles, share))
    total = sum(s.time_share or 0 for s in steps)
    if total > 1.0001:
        p.add(line, f"the steps' time_share add up to {total:g}, more than 1")
    return tuple(steps)


RESULT_KEYS = {"title", "template", "number", "data", "holder", "evidence", "validity", "signers", "writes_back",
               "copies"}
COPIES_KEYS = {"count", "when", "fee_per_copy", "title"}
MAX_COPY_FEE = 10_000_000


def parse_copies(p: Problems, raw: Any, rid: str, line: int, field_types: dict[str, str]) -> CopiesDef | None:
    """A result's ``copies``: {count: form.<number field>, when: form.<boolean field>?, fee_per_copy: int,
    title: {vi, en}}."""
    cr = Reader(p, raw, f"copies of result '{rid}'", COPIES_KEYS, line)
    if not cr.ok:
        return None
    where = f"result '{rid}': copies"
    refs: dict[str, str | None] = {}
    for key, kind in (("count", "number"), ("when", "boolean")):
        ref = cr.get(key, str, required=key == "count", default=None)
        refs[key] = ref
        if ref is None:
            continue
        root, _, name = ref.partition(".")
        if root != "form" or name not in field_types:
            p.add(cr.line_of(key), f"{where}: {key} must name a form field (form.<field>), not '{ref}'")
        elif field_types[name] != kind:
            p.add(cr.line_of(key), f"{where}: {key} must name a {kind} field; '{name}' is a {field_types[name]}")
    fee = cr.get("fee_per_copy", int, required=True, default=0)
    if isinstance(fee, bool) or not isinstance(fee, int) or not 0 <= fee <= MAX_COPY_FEE:
        p.add(cr.line_of("fee_per_copy"), f"{where}: fee_per_copy must be a whole number of đồng, 0 to {MAX_COPY_FEE}")
        fee = 0
    title = cr.text("title", required=True)
    if not refs["count"] or title is None:
        return None
    return CopiesDef(refs["count"], refs["when"], fee, title)


def parse_results(p: Problems, raw: Any, line: int, field_ids: set[str],
                  field_types: dict[str, str] | None = None) -> tuple[ResultDef, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        p.add(line, "results must be a mapping of result id to its definition")
        return ()
    out: list[ResultDef] = []
    for rid, spec in raw.items():
        rline = line_of(raw, rid)
        if not isinstance(rid, str) or not KEBAB.match(rid):
            p.add(rline, f"result id '{rid}' must be kebab-case")
        rr = Reader(p, spec, f"result '{rid}'", RESULT_KEYS, rline)
        if not rr.ok:
            continue
        template = rr.get("template", str, required=True, default="")
        if template and (template.startswith("/") or ".." in Path(template).parts):
            p.add(rr.line_of("template"), f"result '{rid}': template must be a path inside the procedure folder")
        number = rr.get("number", str, required=True, default="{seq}/{year}")
        for ph in NUMBER_PLACEHOLDERS.findall(number or ""):
            if ph not in ("seq", "year"):
                p.add(rr.line_of("number"), f"result '{rid}': unknown placeholder '{{{ph}}}' in number (use {{seq}}, {{year}})")
        if number and "{seq}" not in number:
            p.add(rr.line_of("number"), f"result '{rid}': the number needs {{seq}} to be unique")
        data_raw = rr.get("data", dict, default={}) or {}
        data: list[tuple[str, str]] = []
        for key, ref in data_raw.items():
            kline = line_of(data_raw, key)
            if not isinstance(ref, str):
                p.add(kline, f"result '{rid}': data '{key}' must be a reference like form.<field>")
                continue
            check_ref(p, kline, f"result '{rid}': data '{key}'", ref, field_ids)
            data.append((str(key), ref))
        holder = str_list(p, rr.raw("holder"), f"holder of result '{rid}'", rr.line_of("holder"))
        if not holder:
            p.add(rr.line, f"result '{rid}' needs a holder (form.<personal_id field>)")
        for h in holder:
            check_ref(p, rr.line_of("holder"), f"result '{rid}': holder", h, field_ids)
        evidence = rr.get("evidence", str, required=True, default="")
        if evidence and not KEBAB.match(evidence):
            p.add(rr.line_of("evidence"), f"result '{rid}': evidence type '{evidence}' must be kebab-case")
        validity = rr.raw("validity")
        months = None
        if validity is not None:
            vr = Reader(p, validity, f"validity of result '{rid}'", {"months"}, rr.line_of("validity"))
            months = vr.get("months", int, required=True, default=None)
            if isinstance(months, int) and months < 1:
                p.add(vr.line_of("months"), f"result '{rid}': validity months must be at least 1")
        signers = str_list(p, rr.raw("signers") or ["leader", "agency"], f"signers of result '{rid}'", rr.line_of("signers"))
        for s in signers:
            if s not in STAFF_ROLES | {"agency"}:
                p.add(rr.line_of("signers"), f"result '{rid}': unknown signer '{s}' (a staff role or 'agency')")
        writes_back = None
        if "writes_back" in rr.m:
            writes_back = parse_writes_back(p, rr.raw("writes_back"), rr.line_of("writes_back"), str(rid),
                                            field_types if field_types is not None else {f: "text" for f in field_ids},
                                            {k for k, _ in data})
        copies = (parse_copies(p, rr.raw("copies"), str(rid), rr.line_of("copies"),
                               field_types or {f: "" for f in field_ids}) if rr.has("copies") else None)
        out.append(ResultDef(str(rid), rr.text("title", required=True) or Text(str(rid), str(rid)), template,
                             number, tuple(data), holder, evidence, months, signers, writes_back=writes_back,
                             copies=copies))
    return tuple(out)


def parse_writes_back(p: Problems, raw: Any, line: int, rid: str, field_types: dict[str, str],
                      data_keys: set[str]) -> WriteBackDef | None:
    """``writes_back: <rule>`` or ``writes_back: {rule: <rule>, params: {<param>: <field or data key>}}``."""
    if isinstance(raw, str):
        raw = {"rule": raw}
    wr = Reader(p, raw, f"writes_back of result '{rid}'", {"rule", "params"}, line)
    if not wr.ok:
        return None
    rule = wr.get("rule", str, required=True, default="")
    params = wr.get("params", dict, default={}) or {}
    if not rule:
        return None
    for problem in writeback_rules.check_params(rule, params, field_types, data_keys):
        name = next((k for k in params if f"param '{k}'" in problem), None)
        p.add(line_of(params, name) if name is not None else wr.line_of("rule"), f"result '{rid}': {problem}")
    return WriteBackDef(rule, tuple((str(k), str(v)) for k, v in params.items()))


def check_ref(p: Problems, line: int, where: str, ref: str, field_ids: set[str]) -> None:
    root, _, rest = ref.partition(".")
    if root not in RESULT_DATA_ROOTS or not rest:
        p.add(line, f"{where}: '{ref}' must start with form., dossier., agency. or applicant.")
    elif root == "form" and rest not in field_ids:
        p.add(line, f"{where}: '{ref}' names no field of this form")
    elif root == "dossier" and rest not in DOSSIER_ATTRIBUTES:
        p.add(line, f"{where}: unknown dossier attribute '{rest}'")


WF_STATE_KEYS = {"status_code", "final", "outcome", "clock", "editable", "supplement"}
WF_ACTION_KEYS = {"from", "to", "roles", "guards", "effects", "label"}


def parse_workflow(p: Problems, raw: Any, line: int) -> tuple[list[StateDef], list[ActionDef], str]:
    wr = Reader(p, raw, "workflow", {"states", "actions", "initial"}, line)
    if not wr.ok:
        return [], [], "draft"
    states: list[StateDef] = []
    raw_states = wr.get("states", dict, required=True, default={}) or {}
    for sid, spec in raw_states.items():
        sline = line_of(raw_states, sid)
        if not isinstance(sid, str) or not SNAKE.match(sid):
            p.add(sline, f"state '{sid}' must be snake_case")
        spec = spec if spec is not None else {}
        sr = Reader(p, spec, f"state '{sid}'", WF_STATE_KEYS, sline)
        code = sr.get("status_code", int, default=None)
        if code is not None and not 1 <= code <= 10:
            p.add(sr.line_of("status_code"), f"state '{sid}': status_code must be a national status code 1-10")
        outcome = sr.get("outcome", str, default=None)
        if outcome not in (None, "result", "refusal", "stop", "rejection"):
            p.add(sr.line_of("outcome"), f"state '{sid}': unknown outcome '{outcome}'")
        clock = sr.get("clock", str, default="idle")
        if clock not in ("idle", "running", "paused"):
            p.add(sr.line_of("clock"), f"state '{sid}': clock must be idle, running or paused")
        states.append(StateDef(str(sid), code, sr.get("final", bool, default=False), outcome, clock,
                               sr.get("editable", bool, default=False), sr.get("supplement", bool, default=False)))
    initial = wr.get("initial", str, default=states[0].id if states else "draft")
    actions: list[ActionDef] = []
    raw_actions = wr.get("actions", dict, required=True, default={}) or {}
    for aid, spec in raw_actions.items():
        aline = line_of(raw_actions, aid)
        if not isinstance(aid, str) or not SNAKE.match(aid):
            p.add(aline, f"action '{aid}' must be snake_case")
        ar = Reader(p, spec, f"action '{aid}'", WF_ACTION_KEYS, aline)
        if not ar.ok:
            continue
        sources = str_list(p, ar.raw("from"), f"'from' of action '{aid}'", ar.line_of("from"))
        if not sources:
            p.add(ar.line, f"action '{aid}' needs 'from' (one state or a list)")
        dest = ar.get("to", (str, type(None)), default=None)
        if "to" not in ar.m:
            p.add(ar.line, f"action '{aid}' needs 'to' (a state; empty to stay)")
        roles = str_list(p, ar.raw("roles"), f"roles of action '{aid}'", ar.line_of("roles"))
        if not roles:
            p.add(ar.line, f"action '{aid}' needs at least one role")
        for role in roles:
            if role not in ROLES:
                p.add(ar.line_of("roles"), f"action '{aid}': unknown role '{role}'{suggest(role, ROLES)}")
        guards = str_list(p, ar.raw("guards"), f"guards of action '{aid}'", ar.line_of("guards"))
        for g in guards:
            if g not in guard_registry.GUARDS:
                p.add(ar.line_of("guards"), f"action '{aid}': unknown guard '{g}'{suggest(g, guard_registry.GUARDS)}")
        effects = str_list(p, ar.raw("effects"), f"effects of action '{aid}'", ar.line_of("effects"))
        for e in effects:
            if e not in effect_registry.EFFECTS:
                p.add(ar.line_of("effects"), f"action '{aid}': unknown effect '{e}'{suggest(e, effect_registry.EFFECTS)}")
        actions.append(ActionDef(str(aid), sources, dest, roles, guards, effects, ar.text("label")))
    return states, actions, initial


def key_lines(mapping: Any) -> dict[str, int]:
    """The line of each key of a mapping (the states or actions of a workflow)."""
    return {str(k): line_of(mapping, k) for k in mapping} if isinstance(mapping, dict) else {}


def check_workflow(p: Problems, states: list[StateDef], actions: list[ActionDef], initial: str,
                    results: tuple[ResultDef, ...], line: int,
                    state_lines: dict[str, int] | None = None, action_lines: dict[str, int] | None = None) -> None:
    sl, al = state_lines or {}, action_lines or {}
    if not states:
        return
    ids = [s.id for s in states]
    seen: set[str] = set()
    for sid in ids:
        if sid in seen:
            p.add(line, f"duplicate state '{sid}'")
        seen.add(sid)
    known = set(ids)
    if initial not in known:
        p.add(line, f"initial state '{initial}' is not a state of the workflow")
    for a in actions:
        for s in a.sources:
            if s not in known:
                p.add(al.get(a.id, line), f"action '{a.id}': unknown state '{s}' in 'from'")
        if a.dest is not None and a.dest not in known:
            p.add(al.get(a.id, line), f"action '{a.id}': unknown state '{a.dest}' in 'to'")
    # reachability from the initial state
    edges: dict[str, set[str]] = {s: set() for s in known}
    for a in actions:
        for s in a.sources:
            if s in edges and a.dest in known:
                edges[s].add(a.dest)  # type: ignore[arg-type]
    reached = {initial} if initial in known else set()
    queue = deque(reached)
    while queue:
        cur = queue.popleft()
        for nxt in edges.get(cur, ()):
            if nxt not in reached:
                reached.add(nxt)
                queue.append(nxt)
    by_id = {s.id: s for s in states}
    for sid in ids:
        if sid not in reached and initial in known:
            p.add(sl.get(sid, line), f"state '{sid}' is unreachable from '{initial}'")
        st = by_id[sid]
        leaving = [a for a in actions if sid in a.sources and a.dest not in (None, sid)]
        if not st.final and not leaving:
            p.add(sl.get(sid, line), f"state '{sid}' is a dead end: it is not final and no action leaves it")
        if st.final and leaving:
            p.add(sl.get(sid, line), f"state '{sid}' is final but action '{leaving[0].id}' leaves it")
        if st.final and st.outcome == "result" and not results:
            p.add(sl.get(sid, line), f"final state '{sid}' delivers a result but the procedure defines no results")
    if not any(by_id[s].final for s in ids):
        p.add(line, "the workflow has no final state")
    if any("record_result" in a.effects for a in actions) and not results:
        p.add(line, "an action records a result but the procedure defines no results")

