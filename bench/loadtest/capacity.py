"""The capacity model of docs/capacity.md: from the load test's measured CPU per transition (web and
database) and per signed result (workers), the cores and nodes a province and the national burst
need, and the database and file-storage growth a year. Pure arithmetic on the figures of one run."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

WORKING_SECONDS = 250 * 8 * 3600  # 250 working days of 8 hours (shared reference, performance §1.3)
OFFICE_SHARE = 0.8  # share of the year's transitions made in office hours
BUSIEST_HOUR = 3.0  # busiest hour / average office hour
BURST = 3.0  # event burst / busiest hour
TRANSITIONS_PER_DOSSIER = 10  # 6 main steps + ~4 auxiliary (assign, supplement, payment, sync)
RESULTS_PER_DOSSIER = 1.0
UTILISATION = 0.5  # plan every tier at half its measured capacity: 2x headroom (VM noise is +-25 %)
NODE_CORES = 8  # an application node


@dataclass(frozen=True)
class Scope:
    name: str
    dossiers_per_year: float
    transitions_per_s: float  # the peak the web and database tiers must carry
    results_per_s: float  # the signing rate the workers must keep up with


def scopes() -> list[Scope]:
    def busiest(dossiers_per_year: float) -> float:
        return dossiers_per_year * OFFICE_SHARE / WORKING_SECONDS * BUSIEST_HOUR  # dossiers/s

    hcmc = 1.3e6 * 4  # 1,304,371 dossiers resolved in Q3 2025
    national = 100e6
    return [
        Scope("HCMC (1.3 M dossiers a quarter), design burst", hcmc,
              busiest(hcmc) * TRANSITIONS_PER_DOSSIER * BURST, busiest(hcmc) * RESULTS_PER_DOSSIER),
        Scope("national burst (1,000 transitions/s, 33 signed results/s)", national, 1000.0, 33.0),
    ]


def plan(measured: dict) -> dict:
    """``measured``: ``web_cpu_ms_per_transition``, ``db_cpu_ms_per_transition``,
    ``worker_cpu_s_per_result`` (a dossier's signing: its result and its receipt slip), ``db_bytes_per_dossier``,
    ``db_bytes_per_dossier_without_jobs``, ``file_bytes_per_dossier``."""
    out = []
    for s in scopes():
        web = s.transitions_per_s * measured["web_cpu_ms_per_transition"] / 1000 / UTILISATION
        db = s.transitions_per_s * measured["db_cpu_ms_per_transition"] / 1000 / UTILISATION
        workers = s.results_per_s * measured["worker_cpu_s_per_result"] / UTILISATION
        app_cores = math.ceil(web) + math.ceil(workers)
        out.append({
            **asdict(s),
            "web_cores": round(web, 2), "worker_cores": round(workers, 2), "db_cores": round(db, 2),
            "app_nodes": max(2, math.ceil(app_cores / NODE_CORES)),  # two at least: one may fail
            "db_gb_per_year": round(s.dossiers_per_year * measured["db_bytes_per_dossier"] / 1e9, 1),
            "db_gb_per_year_jobs_purged": round(s.dossiers_per_year * measured["db_bytes_per_dossier_without_jobs"] / 1e9, 1),
            "files_gb_per_year": round(s.dossiers_per_year * measured["file_bytes_per_dossier"] / 1e9, 1),
        })
    return {"assumptions": {"working_seconds": WORKING_SECONDS, "office_share": OFFICE_SHARE,
                            "busiest_hour": BUSIEST_HOUR, "burst": BURST,
                            "transitions_per_dossier": TRANSITIONS_PER_DOSSIER,
                            "results_per_dossier": RESULTS_PER_DOSSIER, "utilisation": UTILISATION,
                            "node_cores": NODE_CORES},
            "scopes": out}
