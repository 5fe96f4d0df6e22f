"""Whether a person is currently married (Law on Marriage and Family 2014, Art. 5(2)(c): a person
who is currently married may not marry another), from two sources the state holds:

- the population register: marital status ``married``, or a spouse link to a living spouse while
  the status is neither ``divorced`` nor ``widowed``;
- the results store: a valid marriage certificate the person holds that no later divorce judgment
  the person holds ended, and whose other party is not recorded as deceased (in the register, or by
  a death certificate held under that party's personal id).
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.params import PERSON, Fields, spec
from engine.rules.conditions.reading import (
    REGISTER_EN, REGISTER_VI, Party, as_date, died_on, failed, nobody, parties, passed, role,
)

if TYPE_CHECKING:
    from engine.rules.prefill import StoredResult

MARRIAGE = "marriage-certificate"
DIVORCE = "divorce-judgment"
DEATH = "death-certificate"
ENDED_STATUSES = ("divorced", "widowed")


def _register_marriage(facts: Facts, party: Party) -> dict[str, Any] | None:
    """The register's word that the party is married (what it rests on), or None."""
    person = party.person
    status = person.attributes.get("marital_status")
    spouse = facts.person(person.spouse) if person.spouse else None
    if spouse is not None and spouse.attributes.get("date_of_death"):
        return None  # the marriage ended with the spouse's death
    if status == "married" or (person.spouse and status not in ENDED_STATUSES):
        return {"source": "register", "marital_status": status, "spouse": person.spouse}
    return None


@CONDITIONS.register("not_married", check=spec(parties=Fields(PERSON)))
def not_married(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """No party is currently married, by the register or by a marriage certificate in the store."""
    found = [p for p in parties(facts, params["parties"]) if p.person is not None]
    if not found:
        return nobody("not_married", params["parties"])
    pids = [p.personal_id for p in found]
    held = facts.results(pids, [MARRIAGE, DIVORCE])
    marriages = [r for r in held if r.evidence_type == MARRIAGE]
    others = {h for r in marriages for h in r.holders} - set(pids)
    deaths = facts.results(sorted(others), [DEATH]) if others else []
    used: dict[str, Any] = {}
    married: list[str] = []
    for p in found:
        why = _register_marriage(facts, p)
        if why is None:
            for cert in sorted((r for r in marriages if p.personal_id in r.holders), key=lambda r: r.issued_at):
                ended = _ended(facts, p.personal_id, cert, held, deaths)
                if ended is None:
                    why = {"source": "results", "marriage_certificate": cert.number, "result_id": cert.id,
                           "issued_at": cert.issued_at.isoformat()}
                    break
        used[p.field] = {"personal_id": p.personal_id, "marital_status": p.person.attributes.get("marital_status"),
                         "spouse": p.person.spouse, **({"married": why} if why else {})}
        if why:
            married.append(p.field)
    if married:
        f = married[0]
        vi, en = role(f)
        source = used[f]["married"]["source"]
        src_vi, src_en = ((REGISTER_VI, REGISTER_EN) if source == "register"
                          else ("kho dữ liệu kết quả (Giấy chứng nhận kết hôn)", "the results store (a marriage certificate)"))
        return failed("not_married", married,
                      f"Theo {src_vi}, {vi} đang có vợ hoặc chồng; người đang có vợ, có chồng không được kết hôn "
                      "với người khác (Luật Hôn nhân và gia đình 2014, Điều 5, khoản 2, điểm c)",
                      f"According to {src_en}, {en} is currently married; a married person may not marry "
                      "(Law on Marriage and Family 2014, Art. 5(2)(c))", used)
    return passed("not_married", params["parties"], "Không đang có vợ hoặc chồng", "Not currently married", used)


def _ended(facts: Facts, pid: str, cert: StoredResult, held: list[StoredResult],
           deaths: list[StoredResult]) -> dict[str, Any] | None:
    """What ended the marriage of ``cert`` for ``pid`` (a later divorce, the other party's death),
    or None when nothing did."""
    for r in held:
        if r.evidence_type == DIVORCE and pid in r.holders and r.issued_at >= cert.issued_at:
            return {"divorce_judgment": r.number}
    married_on = cert.issued_at.date()
    for other in set(cert.holders) - {pid}:
        person = facts.person(other)
        died = died_on(person) if person is not None else None
        if died is not None and died >= married_on:
            return {"spouse_died": other}
        for r in deaths:
            if other not in r.holders or r.data.get("deceased_personal_id") not in (None, "", other):
                continue  # not a death certificate of the other party (they may have requested it)
            on = as_date(r.data.get("date_of_death")) or r.issued_at.date()
            if on >= married_on:
                return {"death_certificate": r.number}
    return None
