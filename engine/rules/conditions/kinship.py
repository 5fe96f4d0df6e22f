"""Kinship from the register's links (father, mother, spouse, children): what one person is to
another, and the rule that refuses a marriage between people the law keeps apart (Law on Marriage
and Family 2014, Art. 5(2)(d) and Art. 3(17)-(18)):

- the same direct blood line: parent, grandparent, great-grandparent (and the other way round);
- related within three generations: a common parent (siblings, full or half) or a common
  grandparent (first cousins; an uncle or aunt and a nephew or niece: the uncle's parent is the
  niece's grandparent);
- step-parent and step-child, parent-in-law and child-in-law, as far as the register's current
  spouse links show them.

Adoption, and in-law or step relations that ended, are not in the register's links: the official
checks them on the papers.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from engine.rules.conditions import CONDITIONS, Facts, Verdict
from engine.rules.conditions.params import PERSON, Fields, spec
from engine.rules.conditions.reading import REGISTER_EN, REGISTER_VI, failed, not_checked, passed, value

if TYPE_CHECKING:
    from engine.rules.prefill import PersonRecord

# What the second person is to the first, as :meth:`Family.relation` names it.
RELATIONS = (
    "self", "spouse", "parent", "child", "grandparent", "grandchild", "great_grandparent", "great_grandchild",
    "sibling", "parent_sibling", "sibling_child", "cousin", "step_parent", "step_child", "parent_in_law",
    "child_in_law",
)
DIRECT_LINE = frozenset({"parent", "child", "grandparent", "grandchild", "great_grandparent", "great_grandchild"})
THREE_GENERATIONS = frozenset({"sibling", "parent_sibling", "sibling_child", "cousin"})
BY_MARRIAGE = frozenset({"step_parent", "step_child", "parent_in_law", "child_in_law"})
GENERATIONS = 3  # how far up the direct line is read: parents, grandparents, great-grandparents


class Family:
    """The register's links around people, each person read once."""

    def __init__(self, facts: Facts):
        self.facts = facts
        self._people: dict[str, PersonRecord | None] = {}

    def person(self, pid: str | None) -> PersonRecord | None:
        if not pid:
            return None
        if pid not in self._people:
            self._people[pid] = self.facts.person(pid)
        return self._people[pid]

    def parents(self, pid: str) -> set[str]:
        p = self.person(pid)
        return {q for q in (p.father, p.mother) if q} if p else set()

    def spouse(self, pid: str) -> str | None:
        p = self.person(pid)
        return p.spouse if p else None

    def ancestors(self, pid: str, depth: int = GENERATIONS) -> dict[str, int]:
        """Ancestors -> generation (1 parents, 2 grandparents, 3 great-grandparents)."""
        out: dict[str, int] = {}
        level, frontier = 1, self.parents(pid)
        while frontier and level <= depth:
            for a in frontier:
                out.setdefault(a, level)
            frontier = {g for a in frontier for g in self.parents(a)} - set(out)
            level += 1
        return out

    def relation(self, a: str, b: str) -> tuple[str, dict[str, Any]] | None:
        """What ``b`` is to ``a`` by the register's links, with the personal ids the link goes
        through; None when the links show no relation."""
        if a == b:
            return "self", {}
        if b and (self.spouse(a) == b or self.spouse(b) == a):
            return "spouse", {}
        up_a, up_b = self.ancestors(a), self.ancestors(b)
        names = {1: "parent", 2: "grandparent", 3: "great_grandparent"}
        if b in up_a:
            return names[up_a[b]], {}
        if a in up_b:
            return names[up_b[a]].replace("parent", "child"), {}
        common = {c: (up_a[c], up_b[c]) for c in set(up_a) & set(up_b)}
        for c, gens in sorted(common.items(), key=lambda kv: (sum(kv[1]), kv[0])):
            kind = {(1, 1): "sibling", (2, 1): "parent_sibling", (1, 2): "sibling_child", (2, 2): "cousin"}.get(gens)
            if kind:
                return kind, {"common_ancestor": c}
        for parent in sorted(self.parents(a)):
            if self.spouse(parent) == b:
                return "step_parent", {"through": parent}
        for parent in sorted(self.parents(b)):
            if self.spouse(parent) == a:
                return "step_child", {"through": parent}
        if (sa := self.spouse(a)) and b in self.parents(sa):
            return "parent_in_law", {"through": sa}
        if (sb := self.spouse(b)) and a in self.parents(sb):
            return "child_in_law", {"through": sb}
        return None


# Words for a relation in a citizen's message (what the second is to the first).
RELATION_WORDS = {
    "self": ("chính người đó", "the person themself"),
    "spouse": ("vợ hoặc chồng", "the spouse"),
    "parent": ("cha hoặc mẹ", "a parent"),
    "child": ("con", "a child"),
    "grandparent": ("ông hoặc bà", "a grandparent"),
    "grandchild": ("cháu (con của con)", "a grandchild"),
    "great_grandparent": ("cụ", "a great-grandparent"),
    "great_grandchild": ("chắt", "a great-grandchild"),
    "sibling": ("anh, chị hoặc em", "a brother or sister"),
    "parent_sibling": ("cô, dì, chú, bác, cậu", "an aunt or uncle"),
    "sibling_child": ("cháu (con của anh, chị, em)", "a nephew or niece"),
    "cousin": ("anh, chị, em họ", "a first cousin"),
    "step_parent": ("cha dượng hoặc mẹ kế", "a step-parent"),
    "step_child": ("con riêng của vợ hoặc chồng", "a step-child"),
    "parent_in_law": ("cha mẹ vợ hoặc cha mẹ chồng", "a parent-in-law"),
    "child_in_law": ("con dâu hoặc con rể", "a child-in-law"),
}


@CONDITIONS.register("no_prohibited_kinship", check=spec(parties=Fields(PERSON, min_items=2, max_items=2)))
def no_prohibited_kinship(facts: Facts, params: Mapping[str, Any]) -> Verdict:
    """The two parties are not of the same direct blood line, not related within three generations,
    and not step-parent/step-child or parent-in-law/child-in-law by the register's links."""
    fields = params["parties"]
    a, b = (value(facts, f) for f in fields)
    family = Family(facts)
    if not a or not b or family.person(a) is None or family.person(b) is None:
        return not_checked("no_prohibited_kinship", fields,
                           f"Chưa kiểm tra được: không có đủ hai bên trong {REGISTER_VI}",
                           f"Not checked: the two parties are not both in {REGISTER_EN}")
    if a == b:  # different_people says so
        return not_checked("no_prohibited_kinship", fields, "Chưa kiểm tra được: hai bên là một người",
                           "Not checked: the two parties are one person")
    found = family.relation(a, b)
    used: dict[str, Any] = {"personal_ids": [a, b], "generations_read": GENERATIONS}
    if found is not None:
        kind, through = found
        used.update(relation=kind, **through)
        if kind in DIRECT_LINE:
            vi, en = "có cùng dòng máu về trực hệ", "are of the same direct blood line"
        elif kind in THREE_GENERATIONS:
            vi, en = "có họ trong phạm vi ba đời", "are related within three generations"
        elif kind in BY_MARRIAGE:
            vi, en = ("là cha mẹ kế với con riêng hoặc cha mẹ vợ, chồng với con dâu, con rể",
                      "are step-parent and step-child or parent-in-law and child-in-law")
        else:
            kind = ""
        if kind:
            return failed("no_prohibited_kinship", fields,
                          f"Theo {REGISTER_VI}, hai bên {vi}: cấm kết hôn (Luật Hôn nhân và gia đình 2014, "
                          "Điều 5, khoản 2, điểm d)",
                          f"According to {REGISTER_EN}, the parties {en}: marriage between them is prohibited "
                          "(Law on Marriage and Family 2014, Art. 5(2)(d))", used)
    return passed("no_prohibited_kinship", fields,
                  f"Không thấy quan hệ thân thích cấm kết hôn trong {REGISTER_VI}",
                  f"No kinship that prohibits the marriage in {REGISTER_EN}", used)
