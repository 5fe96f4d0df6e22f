"""Who may file: the applicant (``facts.applicant``, the citizen or the walk-in at the counter) is a
party, or is related to the person concerned by the register's links (Law on Civil Status 2014:
marriage, both parties, Art. 18; birth, the father, the mother or another relative, Art. 15; death,
the spouse, a child, a parent or another relative, Art. 33). The verdict's ``used`` names the link.

A relationship the register cannot show (a carer, an authorised representative, a person or body
with no relative to file) is the official's to verify: when the form's declared relationship is one
of ``unverifiable`` and the register shows no link, the verdict is ``not_checked``, never a refusal.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.kinship import RELATION_WORDS, RELATIONS, Family
from engine.rules.conditions.params import PERSON, SELECT, Choice, Field, Fields, Words, spec
from engine.rules.conditions.reading import (
    REGISTER_EN, REGISTER_VI, as_date, born_on, failed, not_checked, passed, role, roles, value,
)

# What the applicant may be to the child, through the child's parents (see applicant_may_register_birth).
BIRTH_RELATIONS = ("self", "parent", "grandparent", "great_grandparent", "parent_sibling", "sibling")
_THROUGH_PARENT = {"self": "parent", "parent": "grandparent", "grandparent": "great_grandparent",
                   "sibling": "parent_sibling", "child": "sibling"}
_BIRTH_WORDS = {**RELATION_WORDS, "self": ("người được khai sinh", "the person registered"),
                "sibling": ("anh, chị, em ruột của người được khai sinh", "a brother or sister of the child")}


def _no_applicant(rule: str, fields: Any) -> Verdict:
    return not_checked(rule, fields, "Chưa kiểm tra được: không rõ số định danh cá nhân của người nộp hồ sơ",
                       "Not checked: the applicant's personal identification number is not known")


def _unverifiable(rule: str, fields: Any, declared: str, used: Mapping[str, Any]) -> Verdict:
    return not_checked(rule, fields, f"Quan hệ đã khai ({declared}) không tra được trong {REGISTER_VI}; "
                       "cán bộ kiểm tra giấy tờ", f"The declared relationship ({declared}) cannot be looked up "
                       f"in {REGISTER_EN}; the official checks the papers", {**used, "declared": declared})


@CONDITIONS.register("applicant_is_party", check=spec(parties=Fields(PERSON)))
def applicant_is_party(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The applicant is one of the parties the fields name."""
    fields = params["parties"]
    if not facts.applicant:
        return _no_applicant("applicant_is_party", fields)
    for f in fields:
        if value(facts, f) == facts.applicant:
            return passed("applicant_is_party", [f], "Người nộp hồ sơ là một bên", "The applicant is a party",
                          {"link": "party", "field": f, "applicant": facts.applicant})
    vi, en = roles(fields)
    return failed("applicant_is_party", fields, f"Người nộp hồ sơ phải là một trong các bên ({vi})",
                  f"The applicant must be one of the parties ({en})",
                  {"applicant": facts.applicant, "parties": {f: value(facts, f) for f in fields}})


@CONDITIONS.register("applicant_related", check=spec(
    subject=Field(PERSON), relations=Choice(RELATIONS, many=True), relationship=Field(SELECT, required=False),
    unverifiable=Words()))
def applicant_related(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The applicant is, by the register's links, one of ``relations`` of the subject (``self`` for
    the subject in person)."""
    field, allowed = params["subject"], params["relations"]
    if not facts.applicant:
        return _no_applicant("applicant_related", [field])
    subject = value(facts, field)
    family = Family(facts)
    if not subject or family.person(subject) is None:
        return not_checked("applicant_related", [field], f"Chưa kiểm tra được: không có người này trong {REGISTER_VI}",
                           f"Not checked: the person is not in {REGISTER_EN}")
    found = family.relation(subject, facts.applicant)
    used: dict[str, Any] = {"applicant": facts.applicant, "subject": subject}
    if found is not None and found[0] in allowed:
        kind, through = found
        who_vi, who_en = role(field)
        vi, en = (who_vi, who_en) if kind == "self" else (f"{RELATION_WORDS[kind][0]} của {who_vi}",
                                                           f"{RELATION_WORDS[kind][1]} of {who_en}")
        return passed("applicant_related", [field], f"Người nộp hồ sơ là {vi}", f"The applicant is {en}",
                      {**used, "link": kind, **through})
    declared = value(facts, params["relationship"]) if params.get("relationship") else None
    if found is not None:
        used["link"] = found[0]
    if declared and declared in params.get("unverifiable", ()):
        return _unverifiable("applicant_related", [field], declared, used)
    words = [RELATION_WORDS[k] for k in allowed]
    vi, en = role(field)
    return failed("applicant_related", [field, *([params["relationship"]] if params.get("relationship") else [])],
                  f"Theo {REGISTER_VI}, người nộp hồ sơ không phải là {', '.join(w[0] for w in words)} của {vi}",
                  f"According to {REGISTER_EN}, the applicant is not {', '.join(w[1] for w in words)} of {en}",
                  used)


@CONDITIONS.register("applicant_may_register_birth", check=spec(
    parents=Fields(PERSON), date=Field(("date",), required=False), relations=Choice(BIRTH_RELATIONS, many=True,
                                                                                   required=False),
    relationship=Field(SELECT, required=False), unverifiable=Words()))
def applicant_may_register_birth(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The applicant is the child's father or mother, or a relative of the child through a parent by
    the register's links: a grandparent or great-grandparent (a parent's parent or grandparent), an
    aunt or uncle (a parent's sibling), a brother or sister (a parent's child); or the person
    registered themself (a parent's child born on the child's ``date`` of birth)."""
    fields = params["parents"]
    allowed = params.get("relations", BIRTH_RELATIONS)
    if not facts.applicant:
        return _no_applicant("applicant_may_register_birth", fields)
    family = Family(facts)
    given = [(f, pid) for f in fields if (pid := value(facts, f)) and family.person(pid) is not None]
    if not given:
        return not_checked("applicant_may_register_birth", fields,
                           f"Chưa kiểm tra được: không có cha, mẹ trong {REGISTER_VI}",
                           f"Not checked: neither parent is in {REGISTER_EN}")
    used: dict[str, Any] = {"applicant": facts.applicant, "parents": dict(given)}
    child_born = as_date(facts.form.get(params["date"])) if params.get("date") else None
    me = family.person(facts.applicant)
    for f, parent in given:
        found = family.relation(parent, facts.applicant)
        if found is None or found[0] not in _THROUGH_PARENT:
            continue
        kind = _THROUGH_PARENT[found[0]]
        if kind == "sibling" and child_born is not None and me is not None and born_on(me) == child_born:
            kind = "self"  # a parent's child born that day: the person registering their own birth
        if kind in allowed:
            vi, en = _BIRTH_WORDS[kind]
            return passed("applicant_may_register_birth", [f], f"Người nộp hồ sơ là {vi}",
                          f"The applicant is {en}", {**used, "link": kind, "through": f, **found[1]})
    declared = value(facts, params["relationship"]) if params.get("relationship") else None
    if declared and declared in params.get("unverifiable", ()):
        return _unverifiable("applicant_may_register_birth", fields, declared, used)
    return failed("applicant_may_register_birth",
                  [*([params["relationship"]] if params.get("relationship") else []), *fields],
                  f"Theo {REGISTER_VI}, người nộp hồ sơ không phải là cha, mẹ hay người thân thích của "
                  "người được khai sinh (Luật Hộ tịch 2014, Điều 15)",
                  f"According to {REGISTER_EN}, the applicant is neither a parent nor a relative of the "
                  "child (Law on Civil Status 2014, Art. 15)", used)
