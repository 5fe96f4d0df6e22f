"""Load and validate procedure definitions into frozen dataclasses.

A definition is ``procedures/<id>/procedure.yaml`` plus ``templates/``. Loading fails fast: every
problem is reported as ``file:line: message`` in one :class:`~engine.rules.errors.DefinitionError`.
``lifecycle: one-stop`` expands into the national one-stop lifecycle (DESIGN.md), with the
procedure's ``steps`` inside processing and ``decided_by`` closing it; ``workflow:`` spells a
workflow out instead. Guards, effects, roles and prefill sources are named, never coded, in the
file; the names are checked against the registries where they are implemented
(:mod:`engine.rules.guards`, :mod:`engine.rules.effects`, :mod:`engine.rules.prefill`).

The package by concern:
  schema   the frozen dataclasses (Procedure, ActionDef, StateDef, FieldDef, Catalogue, ...) and the
           vocabulary a file may use
  lines    YAML that keeps line numbers, and the readers that report ``file:line: message``
  onestop  the one-stop lifecycle expansion
  checks   validation of each section of a file
  loading  parse_procedure, load_catalogue
"""
from __future__ import annotations

from engine.rules.definitions.schema import (
    AUTHORITIES,
    CHANNELS,
    DOSSIER_ATTRIBUTES,
    FIELD_TYPES,
    IDENTITY_ATTRIBUTES,
    KEBAB,
    LANGS,
    MIME_TYPES,
    NUMBER_PLACEHOLDERS,
    ONLINE_LEVELS,
    PERSON_ATTRIBUTES,
    PREFILL_WHO,
    RESULT_DATA_ROOTS,
    ROLES,
    SNAKE,
    STAFF_ROLES,
    SUPPLEMENT_POLICIES,
    TIME_UNITS,
    ActionDef,
    Catalogue,
    DocumentDef,
    EvidenceType,
    FieldDef,
    Group,
    Option,
    Prefill,
    Procedure,
    ResultDef,
    StateDef,
    Step,
    Text,
    TimeLimitCase,
)
from engine.rules.definitions.lines import load_yaml_with_lines
from engine.rules.definitions.onestop import ONE_STOP_EDITABLE, ONE_STOP_STATES, ONE_STOP_SUPPLEMENT, step_state
from engine.rules.definitions.checks import (
    DOC_KEYS,
    FIELD_KEYS,
    PREFILL_KEYS,
    RESULT_KEYS,
    TIME_LIMIT_CASE_KEYS,
    TIME_LIMIT_KEYS,
    WF_ACTION_KEYS,
    WF_STATE_KEYS,
)
from engine.rules.definitions.loading import (
    REQUIRED_TOP,
    TOP_KEYS,
    load_catalogue,
    load_evidence_types,
    parse_procedure,
    procedure_files,
)

__all__ = [
    "AUTHORITIES", "CHANNELS", "DOSSIER_ATTRIBUTES", "FIELD_TYPES", 
    "IDENTITY_ATTRIBUTES", "KEBAB", "LANGS", "MIME_TYPES", "NUMBER_PLACEHOLDERS", "ONLINE_LEVELS",
    "PERSON_ATTRIBUTES", "PREFILL_WHO", "RESULT_DATA_ROOTS", "ROLES", "SNAKE", "STAFF_ROLES",
    "SUPPLEMENT_POLICIES", "TIME_UNITS",
    "ActionDef", "Catalogue", "DocumentDef", "EvidenceType", "FieldDef", "Group", "Option", "Prefill",
    "Procedure", "ResultDef", "StateDef", "Step", "Text", "TimeLimitCase",
    "load_yaml_with_lines", "ONE_STOP_EDITABLE", "ONE_STOP_STATES", "ONE_STOP_SUPPLEMENT", "step_state",
    "DOC_KEYS", "FIELD_KEYS", "PREFILL_KEYS", "RESULT_KEYS", "TIME_LIMIT_CASE_KEYS", "TIME_LIMIT_KEYS", "WF_ACTION_KEYS", "WF_STATE_KEYS",
    "REQUIRED_TOP", "TOP_KEYS", "load_catalogue", "load_evidence_types", "parse_procedure", "procedure_files",
]
