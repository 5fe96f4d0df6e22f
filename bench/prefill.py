"""Benchmark ``prefill``: how long a citizen waits for a prefilled form.

The applicant has 50 stored results and a family of 6 in the register (spouse, both parents, two
children); the baseline, measured in the same run, is a single adult with no stored result. Both
run ``Services.prefill.prefill_for("birth-registration", ...)`` (the population register, the results store
and the derivations), which is what ``GET /api/v1/procedures/<id>/prefill`` does.
"""
from __future__ import annotations

import datetime as dt
import statistics
import time
from pathlib import Path
from typing import Any

from bench.common import Backend, CorrectnessError
from motcua.demo import seed_demo

NAME = "prefill"
PROCEDURE = "birth-registration"
STORED_RESULTS = 50


def _services(url: str, workdir: Path) -> Any:
    from motcua.bootstrap import bootstrap
    from motcua.settings import BUNDLED_PROCEDURES, Settings

    config = {"DATABASE_URL": url, "DATA_DIR": str(workdir / "instance"), "PROCEDURES": str(BUNDLED_PROCEDURES),
              "SECRET_KEY": "bench", "ISSUE_INLINE": False}
    services = bootstrap(Settings.from_environment(config), clock=lambda: dt.datetime(2026, 3, 2, 9, 0))
    services.procedures.publish_procedures()
    services.deadlines.sync_calendars()
    return services


def _family_of_six(services: Any, demo: dict) -> str:
    """The married couple's wife gets both parents and two children in the register, and 50 results."""
    from sqlalchemy import select

    from engine.adapters.models import Agency, Person, Result, ResultHolder

    couple = demo["scenarios"]["married_couple"]
    with services.uow() as uow:
        s = uow.session
        people = {p.personal_id: p for p in s.scalars(select(Person))}
        wife, husband = people[couple["wife"]], people[couple["husband"]]
        others = [p for pid, p in people.items() if pid not in (couple["wife"], couple["husband"])][:4]
        if len(others) < 4:
            raise CorrectnessError("the demo population is too small for a family of six")
        wife.father_id, wife.mother_id = others[0].id, others[1].id
        for child in others[2:]:
            child.father_id, child.mother_id = husband.id, wife.id
        agency = s.scalars(select(Agency)).first()
        kinds = ["marriage-certificate", "birth-certificate", "marital-status-certificate", "death-certificate"]
        for i in range(STORED_RESULTS - 1):  # plus the marriage certificate the demo already holds
            r = Result(number=f"{i + 1}/2020/BENCH", procedure_id="marriage-registration", procedure_version=1,
                       result_key="bench", evidence_type=kinds[i % len(kinds)], issuer_agency_id=agency.id,
                       issued_at=dt.datetime(2020, 1, 1) + dt.timedelta(days=i), status="valid",
                       data={"note": f"bench {i}"}, issue_attempts=0)
            r.holders = [ResultHolder(personal_id=wife.personal_id)]
            s.add(r)
        uow.commit()
    with services.uow(write=False) as uow:
        held = uow.session.execute(select(ResultHolder).where(ResultHolder.personal_id == couple["wife"])).all()
        if len(held) != STORED_RESULTS:
            raise CorrectnessError(f"expected {STORED_RESULTS} stored results, found {len(held)}")
    return couple["wife"]


def _timings(services: Any, username: str, count: int) -> tuple[list[float], int]:
    actor = services.accounts.actor_for(username)
    services.prefill.prefill_for(PROCEDURE, actor)  # warm-up
    out, prefilled = [], 0
    for _ in range(count):
        started = time.perf_counter()
        view = services.prefill.prefill_for(PROCEDURE, actor)
        out.append((time.perf_counter() - started) * 1000)
        prefilled = view.counts["prefilled"]
    return out, prefilled


def _summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"median_ms": round(statistics.median(ordered), 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 2), "n": len(ordered)}


def run(backend: Backend, url: str, workdir: Path, *, seconds: float, procs: list[int], dossiers: int) -> dict:
    services = _services(url, workdir)
    demo = seed_demo(services, people=120)
    family_applicant = _family_of_six(services, demo)
    single = next(p["personal_id"] for p in demo["scenarios"]["single_adults"])
    count = max(50, int(seconds * 40))
    family_ms, family_prefilled = _timings(services, family_applicant, count)
    single_ms, single_prefilled = _timings(services, single, count)
    if family_prefilled < 15:
        raise CorrectnessError(f"the family applicant got only {family_prefilled} fields prefilled")
    family, baseline = _summary(family_ms), _summary(single_ms)
    services.engine.dispose()
    return {
        "name": f"{NAME}.{backend.name}", "unit": "ms",
        "figures": {**family, "prefilled_fields": family_prefilled, "stored_results": STORED_RESULTS, "family": 6},
        "baseline": {**baseline, "prefilled_fields": single_prefilled, "stored_results": 0, "family": 1},
        "ratio": round(family["median_ms"] / baseline["median_ms"], 3) if baseline["median_ms"] else None,
    }


def format_text(result: dict) -> str:
    f, b = result["figures"], result["baseline"]
    return (f"{result['name']}: 50 stored results + family of 6: median {f['median_ms']} ms, p95 {f['p95_ms']} ms "
            f"({f['prefilled_fields']} fields prefilled, n={f['n']}); single adult, nothing stored: median "
            f"{b['median_ms']} ms, p95 {b['p95_ms']} ms; ratio {result['ratio']}")


def profile(backend: Backend, url: str, workdir: Path, *, seconds: float, dossiers: int, top: int = 15) -> str:
    import cProfile
    import io
    import pstats

    services = _services(url, workdir)
    demo = seed_demo(services, people=120)
    username = _family_of_six(services, demo)
    prof = cProfile.Profile()
    prof.enable()
    _timings(services, username, max(20, int(seconds * 20)))
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(top)
    services.engine.dispose()
    return out.getvalue()
