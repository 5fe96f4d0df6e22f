"""``signing``: the cost of signing a result, against rendering it alone, in one process.

A :class:`~signing.issuer.DocumentIssuer` with a fresh development PKI (an agency seal and a leader
officer, through ``ensure_parties``) and a font cache, both in a temporary folder (no database),
renders the real birth-certificate template of ``procedures/birth-registration`` with the context
the engine passes (``engine.usecases.issuance._result_job``: result, agency, data with every key of the
result's data mapping, signers; the issuer adds qr_svg and verify_url) and the result JSON as the
attachment. Each round, after 2 warm-up rounds, times in turn:

* ``render``: ``DocumentIssuer.render`` alone (the baseline);
* ``render_sign_bb``: render, then sign B-B in order (leader, then agency) with
  ``signing.pades.sign_in_order(..., timestamper=None)``, the signers looked up as ``issue`` does;
* ``render_sign_bt``: ``DocumentIssuer.issue`` (render + sign in order, each signature with a token
  from the in-process timestamp service);
* ``verify_bt``: the public QR page's check of that round's B-T file as a result of our own store
  (``Verification.verification_page`` on a temporary SQLite database: the verdict kept when the file
  was issued, re-checked for revocation and certificate validity);
* ``verify_full``: the full cryptographic check of the same file (``DocumentIssuer.verify``), what an
  upload of unknown bytes gets;
* ``pdfsig``: poppler's ``pdfsig`` on the same file (a subprocess, an NSS database holding our root),
  the verification peer;
* ``upgrade_lta``: ``DocumentIssuer.upgrade`` of that round's B-T file.

Rounds interleave the steps, so a slow spell of a shared machine hits all steps alike. Every signed
file (B-B, B-T, B-LTA, warm-ups included) must verify valid, with the expected fields and
timestamps; that is asserted, not timed. A fresh interpreter then measures the cold start once:
importing ``signing.issuer`` and the first render (font cache already warm).
"""
from __future__ import annotations

import contextlib
import cProfile
import datetime as dt
import io
import json
import math
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import CorrectnessError, note

NAME = "signing"
UNIT = "ms"
NEEDS_DATABASE = False  # runs in a temporary folder of its own (python -m bench skips the database)
WARMUP_ROUNDS = 2
GOAL_RATIO = 1.25  # render + sign B-T at most 25 % more than render alone
GOAL_VERIFY_RATIO = 2.0  # verifying a result of our own store at most twice poppler's pdfsig on the same file

ROOT = Path(__file__).resolve().parent.parent
PROCEDURE_DIR = ROOT / "procedures" / "birth-registration"
RESULT_KEY = "birth-certificate"

# The demo agency (engine/demo.py): invented code in the shape of the Circular 01/2018 codes.
AGENCY = {"name": "Ủy ban nhân dân phường Ba Đình", "code": "000.00.25.H26",
          "address": "Số 25 phố Quán Thánh, phường Ba Đình, thành phố Hà Nội"}
LEADER = {"username": "leader", "name": "Lê Văn D", "title": "Chủ tịch"}  # placeholder name
RESIDENCE = "Số 1 phố Đội Cấn, phường Ba Đình, thành phố Hà Nội"
ISSUED_AT = dt.datetime(2026, 3, 5, 10, 15)
NUMBER = "125/2026/TP-KS"
DOSSIER_CODE = "000.00.25.H26-260302-0001"
PUBLIC_URL = "http://127.0.0.1:8000"
RESULT_ID = "5eed0000-0000-4000-8000-000000000125"  # a fixed, invented UUID4-shaped id

# A value for every key of the birth certificate's data mapping (procedure.yaml, results), as the
# engine stores it: form values, the dossier's code and reception time, the agency's name.
# Placeholder names and invented 12-digit personal identification numbers.
SAMPLE_DATA: dict[str, Any] = {
    "child_full_name": "Trần Minh C",
    "child_date_of_birth": "2026-02-20",
    "child_date_of_birth_in_words": "Ngày hai mươi, tháng hai, năm hai nghìn không trăm hai mươi sáu",
    "child_sex": "male",
    "child_ethnicity": "Kinh",
    "child_nationality": "Việt Nam",
    "child_place_of_birth": "Bệnh viện Phụ sản Hà Nội, phường Đống Đa, thành phố Hà Nội",
    "child_home_town": "Xã Hải Hậu, tỉnh Ninh Bình",
    "child_personal_id": "001226000125",
    "mother_full_name": "Nguyễn Thị A",
    "mother_birth_year": 1994,
    "mother_ethnicity": "Kinh",
    "mother_nationality": "Việt Nam",
    "mother_residence": RESIDENCE,
    "mother_personal_id": "001194000001",
    "father_full_name": "Trần Văn B",
    "father_birth_year": 1992,
    "father_ethnicity": "Kinh",
    "father_nationality": "Việt Nam",
    "father_residence": RESIDENCE,
    "father_personal_id": "036092000002",
    "requester_full_name": "Nguyễn Thị A",
    "requester_personal_id": "001194000001",
    "requester_relationship": "mother",
    "registration_type": "on_time",
    "received_at": "2026-03-02T09:00:00",
    "dossier_code": DOSSIER_CODE,
    "registry": AGENCY["name"],
}

STEPS = ("render", "render_sign_bb", "render_sign_bt", "verify_bt", "verify_full", "pdfsig", "upgrade_lta")
STEP_LABELS = {
    "render": "render alone (baseline)",
    "render_sign_bb": "render + sign B-B (2 signatures)",
    "render_sign_bt": "render + sign B-T (issue)",
    "verify_bt": "verify B-T: our result (QR page)",
    "verify_full": "verify B-T: full check (upload)",
    "pdfsig": "pdfsig on the B-T file (peer)",
    "upgrade_lta": "upgrade B-T to B-LTA",
}
SIGNER_STEPS = [("leader", "officer", LEADER["username"]), ("agency", "agency", AGENCY["code"])]
FIELDS = ["Sig1-leader", "Sig2-agency"]


# --------------------------------------------------------------------------- the job


@dataclass
class Job:
    """What ``engine.usecases.issuance`` hands to ``DocumentIssuer.issue`` for one birth certificate."""

    template: Path
    context: dict[str, Any]
    attachment: dict[str, Any]
    title: str
    verify_url: str
    signers: list[tuple[str, str, str]]

    def render_kwargs(self) -> dict[str, Any]:
        return {"attachment": self.attachment, "title": self.title, "verify_url": self.verify_url}


def birth_certificate_job(secret: bytes = b"bench-secret") -> Job:
    """The birth-certificate job, its data keys taken from the procedure's result mapping."""
    import yaml

    from engine.rules.results import verification_token

    spec = yaml.safe_load((PROCEDURE_DIR / "procedure.yaml").read_text("utf-8"))["results"][RESULT_KEY]
    keys = list(spec["data"])
    missing = [k for k in keys if k not in SAMPLE_DATA]
    if missing:
        raise CorrectnessError(f"bench/signing.py has no sample value for result data keys {missing}: add them")
    data = {k: SAMPLE_DATA[k] for k in keys}
    result_id = RESULT_ID
    issued_at = ISSUED_AT.isoformat()
    signers = [{"name": LEADER["name"], "title": LEADER["title"]},
               {"name": AGENCY["name"], "title": "Chữ ký số của cơ quan"}]
    context = {"result": {"id": result_id, "number": NUMBER, "issued_at": issued_at},
               "agency": dict(AGENCY), "data": dict(data), "signers": signers}
    attachment = {"id": result_id, "number": NUMBER, "evidence_type": spec.get("evidence", RESULT_KEY),
                  "issuer": AGENCY["code"], "issued_at": issued_at,
                  "holders": [data["child_personal_id"]], "data": data}
    return Job(template=PROCEDURE_DIR / spec["template"], context=context, attachment=attachment,
               title=f"{spec['title']['vi']} {NUMBER}",
               verify_url=f"{PUBLIC_URL}/verify/{result_id}/{verification_token(secret, result_id)}",
               signers=list(SIGNER_STEPS))


def parties() -> list[dict[str, str]]:
    """The records ``engine.usecases.issuance`` passes to ``ensure_parties`` for these two signers."""
    return [
        {"kind": "agency", "key": AGENCY["code"], "common_name": AGENCY["name"], "organization": AGENCY["name"]},
        {"kind": "officer", "key": LEADER["username"], "common_name": LEADER["name"],
         "organization": AGENCY["name"], "title": LEADER["title"]},
    ]


@contextlib.contextmanager
def scratch_folder() -> Iterator[Path]:
    """A temporary data dir (PKI, fonts, passphrase), removed on the way out, error or not."""
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-signing-"))
    try:
        yield workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _issuer(workdir: Path) -> tuple[Any, dict[str, float]]:
    """A DocumentIssuer with a fresh PKI and a warm font cache under ``workdir``; set-up times in ms."""
    from signing.fonts import ensure_fonts
    from motcua.bootstrap import make_issuer
    from motcua.settings import Settings

    # the environment is left out: a fresh PKI and an empty font cache under workdir, whatever is configured
    issuer = make_issuer(Settings.from_environment({"DATA_DIR": str(workdir / "instance")}, environ={}))
    t0 = time.perf_counter()
    ensure_fonts(issuer.font_cache_dir)  # subsets the system font once, into the empty cache
    t1 = time.perf_counter()
    issuer.ensure_parties(parties())
    t2 = time.perf_counter()
    return issuer, {"font_cache_build_ms": _ms(t1 - t0), "pki_setup_ms": _ms(t2 - t1)}


def _font_family(font_cache_dir: Path) -> str | None:
    from fontTools.ttLib import TTFont

    from signing.fonts import ensure_fonts

    font = TTFont(ensure_fonts(font_cache_dir)["regular"], lazy=True)
    try:
        return font["name"].getBestFamilyName()
    finally:
        font.close()


# --------------------------------------------------------------------------- the steps


class Steps:
    """The timed operations on one issuer and job; each returns what it produced. ``store`` (our own
    store, for ``verify_bt``) and ``nss_dir`` (for ``pdfsig``) are optional: without them those steps
    are skipped."""

    def __init__(self, issuer: Any, job: Job, store: OwnStore | None = None, nss_dir: Path | None = None):
        self.issuer = issuer
        self.job = job
        self.store = store
        self.nss_dir = nss_dir

    def render(self) -> bytes:
        return self.issuer.render(self.job.template, self.job.context, **self.job.render_kwargs())

    def render_sign_bb(self) -> bytes:
        from signing.pades import sign_in_order

        pdf = self.render()
        steps = [(label, self.issuer.pki.signer(kind, key)) for label, kind, key in self.job.signers]
        return sign_in_order(pdf, steps, timestamper=None)

    def render_sign_bt(self) -> bytes:
        return self.issuer.issue(self.job.template, self.job.context, signers=self.job.signers,
                                 **self.job.render_kwargs())

    def verify(self, pdf: bytes) -> dict[str, Any]:
        return self.issuer.verify(pdf)

    def verify_own(self) -> Any:
        return self.store.page()

    def pdfsig(self, path: Path) -> str:
        return subprocess.run(["pdfsig", "-nssdir", f"sql:{self.nss_dir}", str(path)], capture_output=True,
                              text=True, check=True, timeout=60).stdout

    def upgrade(self, pdf: bytes) -> bytes:
        return self.issuer.upgrade(pdf)


class OwnStore:
    """A temporary SQLite database wired like the application (``bootstrap``) on the benchmark's data dir,
    with one birth-certificate result whose stored file is set to each round's B-T file (its verdict kept
    as the issuing worker keeps it); ``page`` is what the result's QR code opens."""

    def __init__(self, workdir: Path):
        from motcua.bootstrap import bootstrap, upgrade_database
        from motcua.settings import Settings

        url = f"sqlite:///{workdir / 'bench.db'}"
        upgrade_database(url)
        settings = Settings.from_environment({"DATA_DIR": str(workdir / "instance"), "DATABASE_URL": url,
                                              "PUBLIC_URL": PUBLIC_URL, "SECRET_KEY": "bench-secret"}, environ={})
        self.services = bootstrap(settings, clock=lambda: ISSUED_AT)
        self.services.procedures.publish_procedures()
        self.token = self.services.links.verify_url(RESULT_ID).rsplit("/", 1)[1]
        self._insert_result()

    def _insert_result(self) -> None:
        from engine.adapters.models import Agency, Result, ResultHolder

        with self.services.uow() as uow:
            s = uow.session
            agency = Agency(code=AGENCY["code"], name_vi=AGENCY["name"], name_en="Ba Dinh ward", level="commune",
                            address=AGENCY["address"])
            s.add(agency)
            s.flush()
            version = next(p.version for p in self.services.catalogue.current() if p.id == "birth-registration")
            job = birth_certificate_job()
            result = Result(id=RESULT_ID, number=NUMBER, procedure_id="birth-registration", procedure_version=version,
                            result_key=RESULT_KEY, evidence_type=job.attachment["evidence_type"],
                            issuer_agency_id=agency.id, issued_at=ISSUED_AT, status="valid",
                            data=dict(job.attachment["data"]), signers=[])
            result.holders = [ResultHolder(personal_id=SAMPLE_DATA["child_personal_id"])]
            s.add(result)
            uow.commit()

    def issue(self, pdf: bytes) -> None:
        """Untimed: the round's B-T file becomes the result's stored file, its verdict kept (as at issue)."""
        from sqlalchemy import update

        from engine.adapters.models import Result

        digest = self.services.issuance.record_verdict(pdf)
        with self.services.uow() as uow:
            uow.session.execute(update(Result).where(Result.id == RESULT_ID).values(pdf_sha256=digest,
                                                                                      signed_sha256=digest))
            uow.commit()

    def page(self) -> Any:
        return self.services.verification.verification_page(RESULT_ID, self.token)

    def close(self) -> None:
        engine = getattr(self.services, "engine", None)
        if engine is not None:
            engine.dispose()


def nss_database(workdir: Path, root_pem: bytes) -> Path | None:
    """An NSS database holding our root and nothing else, for pdfsig; None when poppler-utils or
    libnss3-tools are missing."""
    if not (shutil.which("pdfsig") and shutil.which("certutil")):
        return None
    folder = workdir / "nssdb"
    folder.mkdir()
    (workdir / "root.pem").write_bytes(root_pem)
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    subprocess.run(["certutil", "-A", "-d", f"sql:{folder}", "-n", "root", "-t", "CT,C,C", "-i",
                    str(workdir / "root.pem")], check=True, capture_output=True)
    return folder


def _check_pdfsig(out: str, what: str) -> None:
    """pdfsig exits 0 whatever it finds: both signatures must read valid and trusted."""
    blocks = out.split("Signature #")[1:]
    if len(blocks) != len(FIELDS) or not all("Signature is Valid." in b and "Certificate is Trusted." in b
                                             for b in blocks):
        raise CorrectnessError(f"{what}: pdfsig does not find {len(FIELDS)} valid, trusted signatures:\n{out}")


def _check_page(page: Any, full: dict[str, Any], what: str) -> None:
    """Our own result's page: answered from the stored verdict, genuine, the same signatures as the full check."""
    check = page.check
    if check is None or check.basis != "stored_verdict" or not check.valid or page.outcome != "genuine":
        raise CorrectnessError(f"{what}: the QR page did not answer from the stored verdict as genuine: "
                               f"{check and (check.basis, check.valid, check.problem)}, {page.outcome}")
    ours = [(s.field, s.intact, s.trusted, s.covers_whole_document, s.timestamp_time) for s in check.signatures]
    theirs = [(s["field"], s["intact"], s["trusted"], s["covers_whole_document"], s["timestamp_time"])
              for s in full["signatures"]]
    if ours != theirs:
        raise CorrectnessError(f"{what}: the stored verdict differs from the full check: {ours} != {theirs}")


def _timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def _check(report: dict[str, Any], what: str, *, timestamped: bool, doc_timestamps: int = 0) -> None:
    """A signed file verifies valid: both signatures in order, intact, trusted, covering the file."""
    if not report["valid"]:
        raise CorrectnessError(f"{what} does not verify: {report['problem']}; "
                               f"{[s['summary'] for s in report['signatures']]}")
    sigs = [s for s in report["signatures"] if s["kind"] == "signature"]
    docts = [s for s in report["signatures"] if s["kind"] == "document_timestamp"]
    if [s["field"] for s in sigs] != FIELDS:
        raise CorrectnessError(f"{what}: signature fields {[s['field'] for s in sigs]}, expected {FIELDS}")
    for s in sigs:
        if not (s["intact"] and s["trusted"] and s["covers_whole_document"]):
            raise CorrectnessError(f"{what}: signature {s['field']} is not intact, trusted and covering: "
                                   f"{s['summary']}")
        if timestamped != (s["timestamp_time"] is not None):
            raise CorrectnessError(f"{what}: signature {s['field']} "
                                   f"{'lacks a' if timestamped else 'has an unexpected'} timestamp")
    if len(docts) != doc_timestamps:
        raise CorrectnessError(f"{what}: {len(docts)} document timestamps, expected {doc_timestamps}")
    if report["attachment"] is None:
        raise CorrectnessError(f"{what}: the result JSON is not attached")


@dataclass
class Round:
    times: dict[str, float]  # seconds
    sizes: dict[str, int]


def _round(steps: Steps, label: str, scratch: Path) -> Round:
    """One timed pass over the steps, then the (untimed) checks of every file it signed."""
    times: dict[str, float] = {}
    plain, times["render"] = _timed(steps.render)
    bb, times["render_sign_bb"] = _timed(steps.render_sign_bb)
    bt, times["render_sign_bt"] = _timed(steps.render_sign_bt)
    page = None
    if steps.store is not None:
        steps.store.issue(bt)  # untimed: stored, its verdict kept, as the issuing worker does
        page, times["verify_bt"] = _timed(steps.verify_own)
    bt_report, times["verify_full"] = _timed(steps.verify, bt)
    pdfsig_out = None
    if steps.nss_dir is not None:
        path = scratch / "bt.pdf"
        path.write_bytes(bt)
        pdfsig_out, times["pdfsig"] = _timed(steps.pdfsig, path)
    lta, times["upgrade_lta"] = _timed(steps.upgrade, bt)

    if not plain.startswith(b"%PDF-"):
        raise CorrectnessError(f"{label}: the render did not produce a PDF")
    for signed, what in ((bb, "B-B"), (bt, "B-T"), (lta, "B-LTA")):
        if not signed.startswith(b"%PDF-") or len(signed) <= len(plain):
            raise CorrectnessError(f"{label}: the {what} file is not a signed PDF")
    _check(steps.verify(bb), f"{label} B-B file", timestamped=False)
    _check(bt_report, f"{label} B-T file", timestamped=True)
    if page is not None:
        _check_page(page, bt_report, f"{label} B-T file")
    if pdfsig_out is not None:
        _check_pdfsig(pdfsig_out, f"{label} B-T file")
    if not lta.startswith(bt):
        raise CorrectnessError(f"{label}: the B-LTA file does not extend the B-T file incrementally")
    _check(steps.verify(lta), f"{label} B-LTA file", timestamped=True, doc_timestamps=1)
    return Round(times, {"render": len(plain), "bb": len(bb), "bt": len(bt), "lta": len(lta)})


# --------------------------------------------------------------------------- cold start

_COLD_SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from signing.issuer import DocumentIssuer
t1 = time.perf_counter()
job = json.load(sys.stdin)
issuer = DocumentIssuer(job["pki_dir"], b"unused-by-render", job["font_cache_dir"])
pdf = issuer.render(job["template"], job["context"], attachment=job["attachment"], title=job["title"],
                    verify_url=job["verify_url"])
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_render_s": t2 - t1, "bytes": len(pdf)}))
"""


def cold_start(issuer: Any, job: Job) -> dict[str, Any]:
    """A fresh interpreter: import signing.issuer, then the first render (the font cache is warm)."""
    payload = json.dumps({"pki_dir": str(issuer.pki_dir), "font_cache_dir": str(issuer.font_cache_dir),
                          "template": str(job.template), "context": job.context, "attachment": job.attachment,
                          "title": job.title, "verify_url": job.verify_url}, ensure_ascii=False)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _COLD_SCRIPT], input=payload, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"the cold-start process failed:\n{proc.stderr[-4000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    if out["bytes"] <= 0:
        raise CorrectnessError("the cold-start render produced no PDF")
    return {"cold_import_ms": _ms(out["import_s"]), "cold_first_render_ms": _ms(out["first_render_s"]),
            "cold_process_ms": _ms(wall)}


# --------------------------------------------------------------------------- statistics


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 1)


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile (the 18th of 20 sorted values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


# --------------------------------------------------------------------------- entry points


def run(*, count: int = 20) -> dict:
    """Measure the steps ``count`` times each (after the warm-ups); return the JSON-line object."""
    if count < 1:
        raise ValueError("count must be positive")
    job = birth_certificate_job()
    with scratch_folder() as workdir:
        note("  setting up a PKI (agency seal, leader) and the font cache in a temporary folder ...")
        issuer, setup = _issuer(workdir)
        family = _font_family(issuer.font_cache_dir)
        note("  a temporary SQLite store with one result, and an NSS database with our root for pdfsig ...")
        store = OwnStore(workdir)
        nss_dir = nss_database(workdir, issuer.root_pem())
        if nss_dir is None:
            note("  pdfsig or certutil is not installed (poppler-utils, libnss3-tools): no pdfsig figures")
        try:
            steps = Steps(issuer, job, store, nss_dir)
            for i in range(WARMUP_ROUNDS):
                _round(steps, f"warm-up {i + 1}", workdir)
            note(f"  timing {count} rounds of: {', '.join(STEPS)} ...")
            samples: dict[str, list[float]] = {s: [] for s in STEPS}
            rounds: list[Round] = []
            for i in range(count):
                r = _round(steps, f"round {i + 1}", workdir)
                rounds.append(r)
                for s in STEPS:
                    if s in r.times:
                        samples[s].append(r.times[s])
        finally:
            store.close()
        note("  cold start in a fresh interpreter ...")
        cold = cold_start(issuer, job)

    figures: dict[str, Any] = {}
    for s in STEPS:
        figures[f"{s}_median_ms"] = _ms(statistics.median(samples[s])) if samples[s] else None
        figures[f"{s}_p90_ms"] = _ms(p90(samples[s])) if samples[s] else None
    render = statistics.median(samples["render"])
    bb = statistics.median(samples["render_sign_bb"])
    bt = statistics.median(samples["render_sign_bt"])
    figures["sign_bb_added_ms"] = _ms(bb - render)  # difference of medians
    figures["sign_bt_added_ms"] = _ms(bt - render)
    figures["ratio_bb"] = round(bb / render, 3)
    figures["ratio_bt"] = round(bt / render, 3)
    figures["goal_ratio_bt"] = GOAL_RATIO
    figures["goal_sign_met"] = figures["ratio_bt"] <= GOAL_RATIO
    if samples["pdfsig"]:
        peer = statistics.median(samples["pdfsig"])
        figures["ratio_verify_to_pdfsig"] = round(statistics.median(samples["verify_bt"]) / peer, 3)
        figures["ratio_verify_full_to_pdfsig"] = round(statistics.median(samples["verify_full"]) / peer, 3)
    else:
        figures["ratio_verify_to_pdfsig"] = figures["ratio_verify_full_to_pdfsig"] = None
    figures["goal_ratio_verify"] = GOAL_VERIFY_RATIO
    figures["goal_verify_met"] = (figures["ratio_verify_to_pdfsig"] is not None
                                  and figures["ratio_verify_to_pdfsig"] <= GOAL_VERIFY_RATIO)
    figures["goal_met"] = figures["goal_sign_met"] and figures["goal_verify_met"]
    last = rounds[-1].sizes
    figures.update({"pdf_bytes": last["render"], "signed_bb_bytes": last["bb"], "signed_bt_bytes": last["bt"],
                    "signed_lta_bytes": last["lta"]})
    figures["files_verified"] = 3 * (count + WARMUP_ROUNDS)  # B-B, B-T, B-LTA of every round, asserted valid
    figures["pages_checked"] = len(samples["verify_bt"]) + WARMUP_ROUNDS  # our result's QR page, from the verdict
    figures["pdfsig_checked"] = len(samples["pdfsig"]) + (WARMUP_ROUNDS if samples["pdfsig"] else 0)
    figures["signatures_per_file"] = len(SIGNER_STEPS)
    figures["timestamps_per_file"] = len(SIGNER_STEPS)  # one token per signature (see bench/README.md)
    figures.update(cold)
    figures.update(setup)
    figures["font_family"] = family
    figures["count"] = count
    figures["warmup_rounds"] = WARMUP_ROUNDS
    return {
        "name": NAME,
        "unit": UNIT,
        "figures": figures,
        "baseline": {"step": "render", "median_ms": figures["render_median_ms"], "p90_ms": figures["render_p90_ms"],
                     "verify_peer": "pdfsig", "pdfsig_median_ms": figures["pdfsig_median_ms"]},
        "ratio": figures["ratio_bt"],
    }


def format_text(result: dict) -> str:
    f = result["figures"]
    render = f["render_median_ms"]
    lines = [
        f"{result['name']}  (ms; {f['count']} rounds after {f['warmup_rounds']} warm-ups, one process; "
        f"font {f['font_family']}; {f['signatures_per_file']} signatures per file)",
        f"  {'step':<34}  {'median':>8}  {'p90':>8}  {'x render':>8}",
    ]
    for s in STEPS:
        med = f[f"{s}_median_ms"]
        if med is None:
            lines.append(f"  {STEP_LABELS[s]:<34}  {'-':>8}  {'-':>8}  {'-':>8}")
            continue
        lines.append(f"  {STEP_LABELS[s]:<34}  {med:>8.1f}  {f[f'{s}_p90_ms']:>8.1f}  {med / render:>8.2f}")
    lines.append(f"  signing adds (difference of medians): B-B {f['sign_bb_added_ms']:.1f} ms, "
                 f"B-T {f['sign_bt_added_ms']:.1f} ms")
    lines.append(f"  sizes: PDF {f['pdf_bytes']:,} B, B-B {f['signed_bb_bytes']:,} B, B-T {f['signed_bt_bytes']:,} B, "
                 f"B-LTA {f['signed_lta_bytes']:,} B")
    lines.append(f"  cold start (fresh interpreter): import signing {f['cold_import_ms']:.0f} ms + first render "
                 f"{f['cold_first_render_ms']:.0f} ms ({f['cold_process_ms']:.0f} ms for the whole process)")
    lines.append(f"  set-up: font cache {f['font_cache_build_ms']:.0f} ms, PKI {f['pki_setup_ms']:.0f} ms")
    lines.append(f"  checked: {f['files_verified']} signed files verified valid, {f['pages_checked']} QR pages "
                 f"answered from the stored verdict, {f['pdfsig_checked']} pdfsig reports valid and trusted")
    lines.append(f"  ratio B-B {f['ratio_bb']:.3f}; ratio B-T {result['ratio']:.3f} "
                 f"(goal <= {f['goal_ratio_bt']}: {'met' if f['goal_sign_met'] else 'NOT met'})")
    if f["ratio_verify_to_pdfsig"] is not None:
        lines.append(f"  verify / pdfsig: our result {f['ratio_verify_to_pdfsig']:.3f} "
                     f"(goal <= {f['goal_ratio_verify']}: {'met' if f['goal_verify_met'] else 'NOT met'}); "
                     f"full check {f['ratio_verify_full_to_pdfsig']:.3f}")
    return "\n".join(lines)


def profile(*, count: int = 20, top: int = 25) -> str:
    """cProfile of the sign step alone (``sign_in_order`` with timestamps, on an already rendered PDF)."""
    from signing.pades import sign_in_order

    job = birth_certificate_job()
    with scratch_folder() as workdir:
        issuer, _ = _issuer(workdir)
        steps = Steps(issuer, job)
        pdf = steps.render()

        def sign(timestamper: Any) -> bytes:
            signers = [(label, issuer.pki.signer(kind, key)) for label, kind, key in job.signers]
            return sign_in_order(pdf, signers, timestamper=timestamper)

        tsa = issuer.pki.timestamper()
        for _ in range(WARMUP_ROUNDS):
            sign(None)
            sign(tsa)
        bb_times = [_timed(sign, None)[1] for _ in range(count)]
        bt_times = [_timed(sign, tsa)[1] for _ in range(count)]
        prof = cProfile.Profile()
        prof.enable()
        for _ in range(count):
            signed = sign(tsa)
        prof.disable()
        _check(issuer.verify(signed), "profiled B-T file", timestamped=True)

    out = io.StringIO()
    out.write(f"{NAME} profile: sign B-T in order ({len(job.signers)} signatures) of one rendered PDF "
              f"({len(pdf):,} B), {count} times under cProfile (times under a profiler are inflated)\n")
    out.write(f"without the profiler, sign alone: B-B median {_ms(statistics.median(bb_times))} ms, "
              f"B-T median {_ms(statistics.median(bt_times))} ms\n\n")
    stats = pstats.Stats(prof, stream=out)
    out.write("Own time by package, per document (cProfile inflates code made of many small calls, "
              "such as asn1crypto):\n")
    for package, seconds in sorted(_own_time_by_package(stats).items(), key=lambda kv: -kv[1]):
        out.write(f"  {package:<24} {seconds * 1000 / count:8.1f} ms\n")
    out.write("\n")
    stats.sort_stats("cumulative")
    out.write(f"Top {top} cumulative entries (per {count} documents):\n")
    stats.print_stats(top)
    out.write(f"Top {top} entries by own time:\n")
    stats.sort_stats("tottime")
    stats.print_stats(top)
    return out.getvalue()


_PACKAGES = ("asn1crypto", "pyhanko_certvalidator", "pyhanko/pdf_utils", "pyhanko/sign", "cryptography", "asyncio",
             "signing/")


def _own_time_by_package(stats: pstats.Stats) -> dict[str, float]:
    """cProfile's own (exclusive) time summed per package: which library the sign step runs in."""
    totals: dict[str, float] = {}
    entries = stats.stats.items()  # type: ignore[attr-defined]
    for (filename, _line, _func), (_cc, _nc, tottime, _ct, _callers) in entries:
        path = filename.replace(os.sep, "/")
        if filename == "~":
            package = "built-ins (C)"
        else:
            package = next((p.rstrip("/").replace("/", ".") for p in _PACKAGES if f"/{p}" in path), "other")
        totals[package] = totals.get(package, 0.0) + tottime
    return totals
