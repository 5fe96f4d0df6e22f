"""Jurisdiction by residence: the receiving agency serves the administrative unit where one of the
people the law ties the procedure to resides (marriage: either party, Law on Civil Status 2014
Art. 17(1); birth: the father or the mother, Art. 13; death: the deceased's last residence,
Art. 32; certificate of marital status: the person concerned). A residence is the register's
permanent or current unit; an agency whose unit is not known cannot be checked."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.params import PERSON, Fields, spec
from engine.rules.conditions.reading import REGISTER_EN, REGISTER_VI, failed, nobody, not_checked, parties, passed, roles

UNITS = ("permanent_unit", "current_unit")


@CONDITIONS.register("residence_in_area", check=spec(parties=Fields(PERSON)))
def residence_in_area(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """At least one of the parties the fields name resides (permanent or current residence) in the
    unit the agency serves."""
    fields = params["parties"]
    area = facts.agency.unit_code
    if not area:
        return not_checked("residence_in_area", fields,
                           "Chưa kiểm tra được: chưa rõ địa bàn của cơ quan tiếp nhận",
                           "Not checked: the receiving agency's area is not known", {"agency": facts.agency.code})
    found = [p for p in parties(facts, fields) if p.person is not None]
    if not found:
        return nobody("residence_in_area", fields)
    used: dict[str, Any] = {"agency": facts.agency.code, "unit_code": area}
    for p in found:
        used[p.field] = {"personal_id": p.personal_id, **{u: p.person.attributes.get(u) for u in UNITS}}
    for p in found:
        for u in UNITS:
            if p.person.attributes.get(u) == area:
                return passed("residence_in_area", [p.field], "Cư trú trên địa bàn của cơ quan tiếp nhận",
                              "Resides in the receiving agency's area", {**used, "resident": p.field, "by": u})
    vi, en = roles(fields)
    return failed("residence_in_area", fields,
                  f"Theo {REGISTER_VI}, không ai trong số {vi} cư trú trên địa bàn của cơ quan này; hãy nộp hồ sơ "
                  "tại Ủy ban nhân dân cấp xã nơi cư trú" if len(fields) > 1 else
                  f"Theo {REGISTER_VI}, {vi} không cư trú trên địa bàn của cơ quan này; hãy nộp hồ sơ tại Ủy ban "
                  "nhân dân cấp xã nơi cư trú",
                  f"According to {REGISTER_EN}, {'none of ' + en if len(fields) > 1 else en} "
                  f"{'resides' if len(fields) > 1 else 'does not reside'} in this agency's area; file at the "
                  "commune People's Committee of the residence", used)
