"""Demo citizens for whom a procedure makes sense, to measure how much of its form they still type
(``motcua procedures list``): each sample is an applicant's personal id and the personal ids they
type themselves (the other party, the deceased, the person the certificate is about).

Read from the scenarios of ``demo.json`` (``motcua init --demo``); a production installation has none.
The bundled procedures have their own applicants; any other procedure is measured on the demo's
adults filing for themselves.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

Sample = tuple[str, dict[str, str]]  # (the applicant's personal id, the personal ids they type, by field)
SAMPLE_SIZE = 6


def _people(scenarios: dict, key: str, sex: str | None = None) -> list[str]:
    return [p["personal_id"] for p in scenarios.get(key) or [] if sex is None or p.get("sex") == sex]


def _couples(scenarios: dict) -> list[dict]:
    return [c for c in (scenarios.get("married_couple"), scenarios.get("family_with_child")) if c]


def adults(scenarios: dict) -> list[str]:
    """Adults of the demo, unmarried, divorced and married, each once."""
    out: list[str] = []
    for pid in [*_people(scenarios, "single_adults"), *_people(scenarios, "divorced_adults"),
                *(c[k] for c in _couples(scenarios) for k in ("wife", "husband"))]:
        if pid not in out:
            out.append(pid)
    return out


def _marriage(scenarios: dict) -> list[Sample]:
    # an unmarried woman and an unmarried man of two households, she files (both of them typed)
    women, men = _people(scenarios, "single_adults", "female"), _people(scenarios, "single_adults", "male")
    return [(w, {"wife_personal_id": w, "husband_personal_id": m}) for w, m in zip(women, men)]


def _birth(scenarios: dict) -> list[Sample]:
    # a mother registering her newborn (the child's own data are typed: it is not in the register yet)
    return [(c["wife"], {}) for c in _couples(scenarios)]


def _death(scenarios: dict) -> list[Sample]:
    # the surviving spouse declares the death (the demo register holds no deceased: the spouse stands in)
    return [(c["wife"], {"deceased_personal_id": c["husband"]}) for c in _couples(scenarios)]


def _marital_status(scenarios: dict) -> list[Sample]:
    # an unmarried or divorced adult asking the certificate about themself
    people = [*_people(scenarios, "single_adults"), *_people(scenarios, "divorced_adults")]
    return [(pid, {"subject_personal_id": pid}) for pid in people]


def _for_themselves(scenarios: dict) -> list[Sample]:
    return [(pid, {}) for pid in adults(scenarios)]


SAMPLERS: dict[str, Callable[[dict], list[Sample]]] = {
    "marriage-registration": _marriage,
    "birth-registration": _birth,
    "death-registration": _death,
    "marital-status-certification": _marital_status,
    "criminal-record-certificate": _for_themselves,
    "household-business-registration": _for_themselves,
}


def samples(procedure_id: str, scenarios: dict[str, Any], size: int = SAMPLE_SIZE) -> list[Sample]:
    """Up to ``size`` demo applicants for ``procedure_id`` (the demo's adults for any other procedure)."""
    return SAMPLERS.get(procedure_id, _for_themselves)(scenarios)[:size]
