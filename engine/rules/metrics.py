"""KPIs of Decision 766/QĐ-TTg that the engine can compute from its own records. Pure rules.

on_time_rate   finished dossiers finished by their due date (more than one supplement round counts as
               late, as the national formula does) / finished dossiers
online_rate    dossiers received online / dossiers received
e_result_rate  dossiers whose result has a signed electronic file / dossiers with a result
reuse_rate     dossiers with at least one requirement taken from the results store / dossiers received
satisfaction   1 - (overdue rate); complaints are not recorded yet, so this is an upper bound
declared_field_cut  share of form fields citizens did not type, on the dossiers filed (per procedure,
               and overall as the mean over procedures); the definition's ceiling is given beside it
sample_cut     the same share measured by prefilling a procedure for a sample of applicants (the fields
               each still types, against the form's declared fields): what `motcua procedures list`
               prints beside the definition's claim
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class DossierFacts:
    received: bool
    online: bool
    due_at: dt.datetime | None
    finished_at: dt.datetime | None
    supplement_rounds: int
    reused: bool
    overdue_now: bool


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def kpis(facts: list[DossierFacts], *, e_result_dossiers: int, result_dossiers: int,
         cuts_by_procedure: dict[str, list[float]], definition_cuts: dict[str, float],
         period: tuple[dt.datetime, dt.datetime]) -> dict:
    received = [f for f in facts if f.received]
    finished = [f for f in received if f.finished_at is not None and f.due_at is not None]
    on_time = [f for f in finished if f.finished_at <= f.due_at and f.supplement_rounds <= 1]
    late = len(finished) - len(on_time) + sum(1 for f in received if f.finished_at is None and f.overdue_now)
    by_procedure = {pid: round(sum(v) / len(v), 4) for pid, v in cuts_by_procedure.items() if v}
    overall = round(sum(by_procedure.values()) / len(by_procedure), 4) if by_procedure else None
    return {
        "period": {"from": period[0].isoformat(), "to": period[1].isoformat()},
        "dossiers_received": len(received),
        "on_time_rate": _ratio(len(on_time), len(finished)),
        "online_rate": _ratio(sum(1 for f in received if f.online), len(received)),
        "e_result_rate": _ratio(e_result_dossiers, result_dossiers),
        "reuse_rate": _ratio(sum(1 for f in received if f.reused), len(received)),
        "satisfaction": round(1 - late / len(received), 4) if received else None,
        "declared_field_cut": {
            "overall": overall,
            "by_procedure": by_procedure,
            "definition": {pid: round(v, 4) for pid, v in definition_cuts.items()},
            "definition_overall": round(sum(definition_cuts.values()) / len(definition_cuts), 4) if definition_cuts else None,
        },
    }


@dataclass(frozen=True)
class SampleCut:
    applicants: int
    declared: int  # the form's fields
    typed: float  # fields an applicant still types, on average over the sample
    conflicts: float  # among them, fields whose source value cannot be used, on average

    @property
    def typed_share(self) -> float:
        return self.typed / self.declared if self.declared else 0.0

    @property
    def cut(self) -> float:
        """1 - typed/declared: the share of the declared fields the applicant no longer types."""
        return 1 - self.typed_share


def sample_cut(declared: int, typed: list[int], conflicts: list[int] | None = None) -> SampleCut | None:
    """The measured cut over a sample: ``typed`` holds, per applicant, how many fields they still
    type; None for an empty sample."""
    if not typed:
        return None
    conflicts = conflicts or [0] * len(typed)
    return SampleCut(len(typed), declared, sum(typed) / len(typed), sum(conflicts) / len(conflicts))
