"""Loading: one procedure file (:func:`parse_procedure`) and whole procedure folders with their
evidence types (:func:`load_catalogue`). Loading fails fast: every problem is reported as
``file:line: message`` in one :class:`~engine.rules.errors.DefinitionError`."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from engine.rules.definitions.checks import (
    check_workflow, key_lines, parse_documents, parse_form, parse_results, parse_steps, parse_workflow,
)
from engine.rules.definitions.lines import Problems, Reader, line_of, load_yaml_with_lines, str_list, suggest
from engine.rules.definitions.onestop import one_stop
from engine.rules.definitions.schema import (
    AUTHORITIES, CHANNELS, KEBAB, ONLINE_LEVELS, STAFF_ROLES, SUPPLEMENT_POLICIES, TIME_UNITS, Catalogue,
    EvidenceType, Procedure,
)
from engine.rules.errors import DefinitionError

TOP_KEYS = {
    "id", "code", "version", "effective_from", "title", "legal_basis", "authority", "online", "channels",
    "time_limit", "supplement_policy", "fee", "calendar", "form", "documents", "lifecycle", "workflow",
    "steps", "decided_by", "results",
}
REQUIRED_TOP = ("id", "code", "version", "effective_from", "title", "authority", "time_limit", "form")


def parse_procedure(
    text: str,
    source_name: str,
    *,
    folder: Path | None = None,
    evidence_types: Iterable[str] | None = None,
    calendars: Iterable[str] | None = None,
) -> tuple[Procedure | None, list[str]]:
    """Parse one procedure file; return (procedure or None, problems).

    ``evidence_types`` (when given) are the types known outside this file; cross-file checks
    (evidence types produced by other procedures) are done by :func:`load_catalogue`.
    """
    p = Problems(source_name)
    try:
        doc = load_yaml_with_lines(text, source_name)
    except DefinitionError as exc:
        return None, exc.problems
    if not isinstance(doc, dict):
        p.add(getattr(doc, "line", 1), "a procedure file must be a mapping of keys")
        return None, p.items
    r = Reader(p, doc, "the procedure", TOP_KEYS)
    for key in REQUIRED_TOP:
        if key not in doc:
            p.add(1, f"missing required key '{key}'")

    pid = r.get("id", str, default="")
    if pid and not KEBAB.match(pid):
        p.add(r.line_of("id"), f"id '{pid}' must be kebab-case (lowercase words joined by '-')")
    if folder is not None and pid and folder.name != pid:
        p.add(r.line_of("id"), f"id '{pid}' differs from its folder name '{folder.name}'")
    code = r.get("code", str, default="")
    if "code" in doc and not isinstance(doc["code"], str):
        pass  # reported by get
    version = r.get("version", int, default=None)
    if isinstance(version, int) and version < 1:
        p.add(r.line_of("version"), "version must be a whole number of at least 1")
    eff = r.get("effective_from", dt.date, default=None)
    title = r.text("title")
    legal = str_list(p, doc.get("legal_basis"), "legal_basis", r.line_of("legal_basis"))
    authority = r.get("authority", str, default="commune")
    if authority not in AUTHORITIES:
        p.add(r.line_of("authority"), f"unknown authority '{authority}' (use one of {', '.join(sorted(AUTHORITIES))})")
    online = r.get("online", str, default="none")
    if online not in ONLINE_LEVELS:
        p.add(r.line_of("online"), f"unknown online level '{online}' (use full, partial or none)")
    channels = str_list(p, doc.get("channels", ["counter"]), "channels", r.line_of("channels"))
    for ch in channels:
        if ch not in CHANNELS:
            p.add(r.line_of("channels"), f"unknown channel '{ch}' (use online, counter, postal)")
    if online == "none" and "online" in channels:
        p.add(r.line_of("channels"), "channel 'online' needs online: full or partial")

    tl = Reader(p, doc.get("time_limit", {}), "time_limit", {"value", "unit"}, r.line_of("time_limit"))
    unit = tl.get("unit", str, required=True, default="working_days")
    if unit not in TIME_UNITS:
        p.add(tl.line_of("unit"), f"unknown time unit '{unit}' (use {', '.join(sorted(TIME_UNITS))})")
    value = tl.get("value", (int, float), default=0 if unit == "immediate" else None)
    if unit != "immediate" and (value is None or value <= 0):
        if "value" not in tl.m:
            p.add(tl.line, "time_limit needs a value greater than 0")
        elif isinstance(value, (int, float)):
            p.add(tl.line_of("value"), "time_limit value must be greater than 0")
    policy = r.get("supplement_policy", str, default="restart")
    if policy not in SUPPLEMENT_POLICIES:
        p.add(r.line_of("supplement_policy"), f"unknown supplement_policy '{policy}' (use restart or pause)")
    fee = Reader(p, doc.get("fee", {"amount": 0}), "fee", {"amount", "note"}, r.line_of("fee"))
    fee_amount = fee.get("amount", int, default=0)
    if isinstance(fee_amount, int) and fee_amount < 0:
        p.add(fee.line_of("amount"), "fee amount cannot be negative")
    fee_note = fee.text("note")
    calendar = r.get("calendar", str, default="vn")
    if calendars is not None and calendar not in set(calendars):
        p.add(r.line_of("calendar"), f"unknown calendar '{calendar}'")

    groups, fields = parse_form(p, doc.get("form"), r.line_of("form"))
    documents = parse_documents(p, doc.get("documents", []), r.line_of("documents"))
    steps = parse_steps(p, doc.get("steps", []), r.line_of("steps"))
    decided_by = str_list(p, doc.get("decided_by", ["leader"]), "decided_by", r.line_of("decided_by"))
    for role in decided_by:
        if role not in STAFF_ROLES:
            p.add(r.line_of("decided_by"), f"unknown role '{role}' in decided_by{suggest(role, STAFF_ROLES)}")
    results = parse_results(p, doc.get("results", {}), r.line_of("results"), {f.id for f in fields},
                            {f.id: f.type for f in fields})

    # workflow
    lifecycle = r.get("lifecycle", str, default=None)
    if lifecycle is not None and lifecycle != "one-stop":
        p.add(r.line_of("lifecycle"), f"unknown lifecycle '{lifecycle}' (the built-in one is 'one-stop')")
    if "workflow" in doc and lifecycle is not None:
        p.add(r.line_of("workflow"), "give either 'lifecycle' or 'workflow', not both")
    if "workflow" in doc:
        states, actions, initial = parse_workflow(p, doc["workflow"], r.line_of("workflow"))
        if "steps" in doc:
            p.add(r.line_of("steps"), "'steps' go with 'lifecycle: one-stop'; an explicit workflow lists its own actions")
    elif lifecycle == "one-stop":
        states, actions = one_stop(steps, decided_by)
        initial = "draft"
        if not steps:
            p.add(r.line_of("lifecycle"), "lifecycle one-stop needs at least one processing step in 'steps'")
    else:
        if "lifecycle" not in doc:
            p.add(1, "missing 'lifecycle' (e.g. lifecycle: one-stop) or an explicit 'workflow'")
        states, actions, initial = [], [], "draft"

    wf_raw = doc.get("workflow") if isinstance(doc.get("workflow"), dict) else {}
    check_workflow(p, states, actions, initial, results, r.line_of("workflow" if "workflow" in doc else "lifecycle"),
                    key_lines(wf_raw.get("states")), key_lines(wf_raw.get("actions")))

    # names of actions must not clash with the lifecycle's
    step_ids = [s.id for s in steps]
    if lifecycle == "one-stop":
        builtin = {a.id for a in actions} - set(step_ids)
        for i, sid in enumerate(step_ids):
            if sid in builtin:
                p.add(line_of(doc.get("steps"), i), f"step id '{sid}' clashes with a lifecycle action")

    # prefill cross-references
    field_ids = {f.id: f for f in fields}
    for f in fields:
        pf = f.prefill
        if pf is None:
            continue
        if pf.person and (pf.person not in field_ids or field_ids[pf.person].type != "personal_id"):
            p.add(_field_line(doc, f.id), f"field '{f.id}': prefill person '{pf.person}' must name a personal_id field of this form")
        for arg in pf.args:
            if arg not in field_ids:
                p.add(_field_line(doc, f.id), f"field '{f.id}': prefill argument '{arg}' is not a field of this form")

    # templates exist; what each prints is what a public verification page may show
    if folder is not None:
        read: list = []
        for res in results:
            if not (folder / res.template).is_file():
                p.add(_result_line(doc, res.id), f"result '{res.id}': template '{res.template}' not found in {folder.name}/")
                read.append(res)
                continue
            printed = printed_keys((folder / res.template).read_text(encoding="utf-8")) & {k for k, _ in res.data}
            read.append(dataclasses.replace(res, printed=printed))
        results = tuple(read)
    # evidence types named by documents must be known
    if evidence_types is not None:
        known = set(evidence_types) | {res.evidence for res in results}
        for d in documents:
            if d.replaced_by and d.replaced_by not in known:
                p.add(_doc_line(doc, d.id), f"document '{d.id}': unknown evidence type '{d.replaced_by}'")

    if p.items:
        return None, p.items
    proc = Procedure(
        id=pid, code=str(code), version=version, effective_from=eff, title=title,  # type: ignore[arg-type]
        authority=authority, online=online, channels=channels,
        time_limit_value=float(value or 0), time_limit_unit=unit, supplement_policy=policy,
        fee_amount=fee_amount, fee_note=fee_note, calendar=calendar, groups=groups, fields=fields,
        documents=documents, steps=steps, decided_by=decided_by, results=results,
        states=tuple(states), actions=tuple(actions), initial=initial, lifecycle=lifecycle,
        legal_basis=legal, folder=str(folder) if folder else "", source_name=source_name,
        source_text=text, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )
    return proc, []


# ``data.key`` or ``data["key"]`` in a result template: the data keys the paper prints.
_PRINTED = re.compile(r"\bdata\s*(?:\.\s*([A-Za-z_]\w*)|\[\s*['\"]([A-Za-z_]\w*)['\"]\s*\])")


def printed_keys(template_text: str) -> frozenset[str]:
    """The result data keys a result template uses, i.e. what the paper document prints."""
    return frozenset(a or b for a, b in _PRINTED.findall(template_text))


def _field_line(doc: dict, field_id: str) -> int:
    fields = (doc.get("form") or {}).get("fields") if isinstance(doc.get("form"), dict) else None
    if isinstance(fields, list):
        for i, f in enumerate(fields):
            if isinstance(f, dict) and f.get("id") == field_id:
                return line_of(fields, i)
    return 1


def _doc_line(doc: dict, doc_id: str) -> int:
    docs = doc.get("documents")
    if isinstance(docs, list):
        for i, d in enumerate(docs):
            if isinstance(d, dict) and d.get("id") == doc_id:
                return line_of(docs, i)
    return 1


def _result_line(doc: dict, result_id: str) -> int:
    results = doc.get("results")
    return line_of(results, result_id) if isinstance(results, dict) else 1


# --------------------------------------------------------------------------- catalogue


def load_evidence_types(path: Path) -> tuple[dict[str, EvidenceType], list[str]]:
    name = str(path)
    p = Problems(name)
    try:
        doc = load_yaml_with_lines(path.read_text(encoding="utf-8"), name)
    except DefinitionError as exc:
        return {}, exc.problems
    r = Reader(p, doc, "the evidence types file", {"evidence_types"})
    out: dict[str, EvidenceType] = {}
    raw = r.get("evidence_types", list, required=True, default=[]) or []
    for i, item in enumerate(raw):
        er = Reader(p, item, "an evidence type", {"id", "title", "issuer"}, line_of(raw, i))
        eid = er.get("id", str, required=True, default="")
        if eid and not KEBAB.match(eid):
            p.add(er.line_of("id"), f"evidence type '{eid}' must be kebab-case")
        if eid in out:
            p.add(er.line_of("id"), f"duplicate evidence type '{eid}'")
        title = er.text("title", required=True)
        if eid and title:
            out[eid] = EvidenceType(eid, title, er.text("issuer"))
    return out, p.items


def procedure_files(folders: Iterable[Path]) -> list[tuple[Path, Path]]:
    """(folder, procedure.yaml) for every procedure folder under the given roots."""
    found: list[tuple[Path, Path]] = []
    for root in folders:
        if (root / "procedure.yaml").is_file():  # a single procedure folder
            found.append((root, root / "procedure.yaml"))
            continue
        if not root.is_dir():
            continue
        for sub in sorted(root.iterdir()):
            if sub.is_dir() and (sub / "procedure.yaml").is_file():
                found.append((sub, sub / "procedure.yaml"))
    return found


def load_catalogue(folders: Iterable[Path | str], *, calendars: Iterable[str] | None = None) -> Catalogue:
    """Load every procedure under ``folders`` (later folders add procedures); fail fast."""
    roots = [Path(f) for f in folders]
    problems: list[str] = []
    evidence: dict[str, EvidenceType] = {}
    for root in roots:
        if not root.exists():
            problems.append(f"{root}:1: procedures folder does not exist")
            continue
        ev_file = root / "evidence-types.yaml"
        if ev_file.is_file():
            found, errs = load_evidence_types(ev_file)
            problems += errs
            evidence.update(found)
    parsed: list[Procedure] = []
    for folder, path in procedure_files(roots):
        text = path.read_text(encoding="utf-8")
        proc, errs = parse_procedure(text, str(path), folder=folder, calendars=calendars)
        problems += errs
        if proc:
            parsed.append(proc)
    procedures: dict[tuple[str, int], Procedure] = {}
    produced = {res.evidence: res for proc in parsed for res in proc.results}
    for proc in parsed:
        if proc.key in procedures:
            other = procedures[proc.key]
            problems.append(f"{proc.source_name}:1: procedure '{proc.id}' version {proc.version} is also defined in {other.source_name}")
            continue
        procedures[proc.key] = proc
        for d in proc.documents:
            if d.replaced_by and d.replaced_by not in evidence and d.replaced_by not in produced:
                problems.append(f"{proc.source_name}:{_doc_line_in_text(proc.source_text, d.id)}: document '{d.id}': unknown evidence type '{d.replaced_by}'")
    for ev_id, res in produced.items():
        if ev_id not in evidence:
            evidence[ev_id] = EvidenceType(ev_id, res.title)
    if problems:
        raise DefinitionError(problems)
    return Catalogue(procedures, evidence)


def _doc_line_in_text(text: str, doc_id: str) -> int:
    pattern = re.compile(rf"^\s*-?\s*id:\s*['\"]?{re.escape(doc_id)}['\"]?\s*$")
    in_docs = False
    for n, line in enumerate(text.splitlines(), start=1):
        if line.startswith("documents:"):
            in_docs = True
        elif line and not line[0].isspace() and not line.startswith("-"):
            in_docs = False
        if in_docs and pattern.match(line):
            return n
    return 1
