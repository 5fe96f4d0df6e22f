"""The one-stop papers: what each slip prints (from the data), who signs it in what capacity, the refusal
after appraisal, the control sheet (form 06), the log book (form 07) and the extract copies."""
from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess

import pytest
from markupsafe import Markup
from sqlalchemy import select

from engine.adapters.models import Account, Person, RegisterRead, Result, Slip
from engine.rules.handovers import EARLY, LATE, ON_TIME
from engine.usecases.log_book import COLUMNS
from signing.render import template_environment
from tests.web import test_clerk_pages as clerk_pages
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database


# --------------------------------------------------------------------------- helpers


def filed_birth(demo: dict, api_as, *, extra: dict | None = None) -> dict:
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    d = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration",
                                               "data": {**birth_form(couple), **(extra or {})}}).get_json()
    citizen.post(f"/api/v1/dossiers/{d['id']}/documents", content_type="multipart/form-data",
                 data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "gcs.pdf")})
    return citizen.act(d["id"], "submit")


def received_birth(demo: dict, api_as, **kw) -> dict:
    d = filed_birth(demo, api_as, **kw)
    return api_as("clerk").act(d["id"], "receive")


def received_certificate(demo: dict, api_as) -> dict:
    """A certificate of marital status (3 working days) filed online by a single adult and received on Monday
    09:00: due Thursday at the day's end, so an extension is still possible."""
    applicant = demo["scenarios"]["single_adults"][0]["personal_id"]
    citizen = api_as(applicant)
    d = citizen.post("/api/v1/dossiers", json={"procedure": "marital-status-certification", "data": {
        "requester_relationship": "self", "issuance_type": "first", "purpose": "Bổ sung hồ sơ vay vốn ngân hàng",
        "copies_count": 1}}).get_json()
    citizen.act(d["id"], "submit")
    return api_as("clerk").act(d["id"], "receive")


def slip_html(services, slip_id: str) -> str:
    """The slip's template rendered with the context stored for it (what the signed PDF prints)."""
    with services.uow(write=False) as uow:
        slip = uow.session.get(Slip, slip_id)
        context = dict(slip.context)
        form = slip.form
        number = slip.number
    context["slip"] = dict(context["slip"], number=number)
    context.pop("signed_by", None)
    env = template_environment(services.issuance.slips_dir)
    from engine.rules.slips import SLIP_TEMPLATES
    html = env.get_template(SLIP_TEMPLATES[form]).render(**context, qr_svg=Markup(""), verify_url="https://x/v")
    return " ".join(html.split())


def person(services, pid: str) -> Person:
    with services.uow(write=False) as uow:
        p = uow.session.execute(select(Person).where(Person.personal_id == pid)).scalar_one()
        uow.session.expunge(p)
        return p


def slip_of(d: dict, form: str) -> dict:
    return next(s for s in d["slips"] if s["form"] == form)


def signer_names(services, api, slip_id: str) -> list[str | None]:
    pdf = api.get(f"/api/v1/slips/{slip_id}/pdf")
    assert pdf.status_code == 200
    report = services.verification.verify_document(pdf.data)
    assert report.valid, report.problem
    return [s.signer_name for s in report.signatures]


def name_of(services, username: str) -> str:
    return services.accounts.actor_for(username).display_name


# --------------------------------------------------------------------------- slip contents


def test_the_receipt_slip_prints_register_contacts_every_document_the_log_book_reference_and_the_place(
        demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    d = received_birth(demo, api_as)
    wife = person(services, couple["wife"])
    html = slip_html(services, slip_of(d, "01")["id"])
    assert wife.current_address or wife.permanent_address
    assert (wife.current_address or wife.permanent_address) in html
    if wife.phone:
        assert wife.phone in html
    if wife.email:
        assert wife.email in html
    # the declaration itself, then each document received, with how it was given and how many
    assert "Tờ khai đăng ký khai sinh" in html and "Giấy chứng sinh" in html and "Bản điện tử" in html
    for doc in d["documents"]:
        if doc["by"] == "result":
            number = api_as(couple["wife"]).get(f"/api/v1/results/{doc['result_id']}").get_json()["number"]
            assert f"số {number}" in html and "Khai thác từ cơ sở dữ liệu" in html
    assert d["log_entry"] == 1
    assert "Vào Sổ theo dõi hồ sơ: <span class=\"value\">Sổ năm 2026, số thứ tự 01</span>" in html
    assert "09 giờ 00 phút, ngày 02 tháng 3 năm 2026" in html  # received (the fake clock's Monday 09:00)
    assert "Hà Nội, ngày 02 tháng 3 năm 2026" in html  # agencies.place_name on the date line
    assert "Người tiếp nhận hồ sơ" in html and name_of(services, "clerk") in html
    assert d["code"] in html


def test_a_slip_falls_back_to_the_date_alone_without_a_place_name_and_to_dotted_lines_without_contacts(
        demo, api_as, services):
    with services.uow() as uow:
        from engine.adapters.models import Agency
        agency = uow.session.get(Agency, services.accounts.actor_for("clerk").agency_id)
        agency.place_name = None
        uow.commit()
    couple = demo["scenarios"]["married_couple"]
    with services.uow() as uow:
        p = uow.session.execute(select(Person).where(Person.personal_id == couple["wife"])).scalar_one()
        p.phone = p.email = None
        uow.commit()
    d = received_birth(demo, api_as)
    html = slip_html(services, slip_of(d, "01")["id"])
    assert "Ngày 02 tháng 3 năm 2026" in html and "Hà Nội, ngày" not in html
    assert "Số điện thoại: …………&emsp;Email: …………" in html


def test_the_supplement_and_refusal_slips_name_the_applicant_with_address_and_phone(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    wife = person(services, couple["wife"])
    d = filed_birth(demo, api_as)
    d = api_as("clerk").act(d["id"], "request_supplement", items=["Giấy chứng sinh bản rõ nét"])
    html = slip_html(services, slip_of(d, "02")["id"])
    assert (wife.current_address or wife.permanent_address) in html and "Giấy chứng sinh bản rõ nét" in html
    assert "Người hướng dẫn" in html and name_of(services, "clerk") in html
    api_as(couple["wife"]).act(d["id"], "provide_supplement")
    d = api_as("clerk").act(d["id"], "refuse", reason="Không thuộc thẩm quyền")
    html = slip_html(services, slip_of(d, "03")["id"])
    assert (wife.current_address or wife.permanent_address) in html and "Không thuộc thẩm quyền" in html
    assert "Người tiếp nhận hồ sơ" in html
    assert signer_names(services, api_as("clerk"), slip_of(d, "03")["id"])[0] == name_of(services, "clerk")


# --------------------------------------------------------------------------- refusal after appraisal


def test_reject_after_appraisal_issues_a_signed_refusal_with_its_reasons_as_the_dossiers_result(
        demo, api_as, services, web_as):
    couple = demo["scenarios"]["married_couple"]
    d = received_birth(demo, api_as)
    api_as("leader").act(d["id"], "assign")
    api_as("specialist").act(d["id"], "appraise")
    d = api_as("leader").act(d["id"], "reject", reason="Giấy chứng sinh không khớp với dữ liệu cơ sở y tế")
    assert d["state"] == "rejected" and d["results"] == []
    refusal = slip_of(d, "TC")
    assert refusal["status"] == "valid" and refusal["number"] == "0001/TCGQ"
    assert refusal["title"] == "Phiếu từ chối giải quyết hồ sơ"
    assert d["outcome"] == {"type": "refusal", "slip": refusal["id"], "number": "0001/TCGQ",
                            "title": "Phiếu từ chối giải quyết hồ sơ", "status": "valid"}
    html = slip_html(services, refusal["id"])
    assert "Giấy chứng sinh không khớp với dữ liệu cơ sở y tế" in html
    assert "PHIẾU TỪ CHỐI GIẢI QUYẾT HỒ SƠ" in html and "Mẫu số" not in html  # no numbered form
    assert "Chủ tịch" in html and "TL." not in html
    # signed by the head (the leader who decided), then sealed; the citizen and the staff both see it
    assert signer_names(services, api_as(couple["wife"]), refusal["id"])[0] == name_of(services, "leader")
    assert api_as(couple["wife"]).get(f"/api/v1/dossiers/{d['id']}").get_json()["outcome"]["type"] == "refusal"
    page = web_as(couple["wife"]).get(f"/my/dossiers/{d['id']}")
    assert page.status_code == 200 and "0001/TCGQ" in page.get_data(as_text=True)
    desk = web_as("clerk").get(f"/desk/dossiers/{d['id']}")
    assert desk.status_code == 200 and "0001/TCGQ" in desk.get_data(as_text=True)
    # the indicators count it as a result with a signed file
    kpis = api_as("leader").get("/api/v1/kpis").get_json()
    assert kpis["e_result_rate"] == 1.0


def test_reject_without_a_reason_issues_nothing(demo, api_as, services):
    d = received_birth(demo, api_as)
    api_as("leader").act(d["id"], "assign")
    api_as("specialist").act(d["id"], "appraise")
    r = api_as("leader").post(f"/api/v1/dossiers/{d['id']}/actions/reject", json={})
    assert r.status_code in (409, 422)
    with services.uow(write=False) as uow:
        assert uow.session.scalars(select(Slip).where(Slip.dossier_id == d["id"], Slip.form == "TC")).all() == []


# --------------------------------------------------------------------------- signers of forms 04 and 05


def test_the_apology_is_signed_by_the_head_when_the_leader_extends(demo, api_as, services):
    d = received_certificate(demo, api_as)
    d = api_as("leader").act(d["id"], "extend_due", reason="Cần xác minh thêm", new_due_at="2026-03-10")
    apology = slip_of(d, "04")
    assert signer_names(services, api_as("leader"), apology["id"]) == [name_of(services, "leader"),
                                                                      None] or \
        signer_names(services, api_as("leader"), apology["id"])[0] == name_of(services, "leader")
    html = slip_html(services, apology["id"])
    assert '<div class="role">Chủ tịch</div>' in html and "TL." not in html
    assert name_of(services, "leader") in html


def test_the_apology_made_by_a_clerk_is_signed_on_the_heads_behalf_with_the_clerk_named(demo, api_as, services):
    d = received_certificate(demo, api_as)
    d = api_as("clerk").act(d["id"], "extend_due", reason="Cần xác minh thêm", new_due_at="2026-03-10")
    apology = slip_of(d, "04")
    html = slip_html(services, apology["id"])
    assert '<div class="role">TL. Chủ tịch</div>' in html
    assert "Công chức tiếp nhận và trả kết quả" in html and name_of(services, "clerk") in html
    assert signer_names(services, api_as("clerk"), apology["id"])[0] == name_of(services, "clerk")


def test_the_stop_notice_is_signed_by_the_leader(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    d = received_birth(demo, api_as)
    api_as(couple["wife"]).act(d["id"], "request_withdrawal")
    d = api_as("leader").act(d["id"], "stop", reason="Theo đề nghị của người nộp hồ sơ")
    notice = slip_of(d, "05")
    assert signer_names(services, api_as("leader"), notice["id"])[0] == name_of(services, "leader")
    html = slip_html(services, notice["id"])
    assert '<div class="role">Chủ tịch</div>' in html and "Mẫu số 05" in html


# --------------------------------------------------------------------------- form 06: the control sheet


def test_the_control_sheet_has_a_row_per_hand_over_with_its_verdict(demo, api_as, services, clock):
    d = received_certificate(demo, api_as)  # Monday 09:00; three working days: due Thursday at the day's end
    api_as("leader").act(d["id"], "assign")
    clock.advance(days=3, hours=7)  # Thursday 16:00: the appraisal (0.7 of the time) is late
    api_as("specialist").act(d["id"], "appraise")
    api_as("leader").act(d["id"], "approve")
    sheet = services.control_sheets.control_sheet(d["id"], services.accounts.actor_for("clerk"))
    assert [r.action for r in sheet.rows] == ["receive", "assign", "appraise", "approve"]
    receive, assign, appraise, approve = sheet.rows
    assert (receive.from_unit, receive.from_role) == ("Bộ phận Tiếp nhận và Trả kết quả", "clerk")
    assert "Lãnh đạo cơ quan" in receive.to_unit  # the head assigns next
    assert assign.to_roles == ("specialist",) and appraise.to_roles == ("leader",)
    assert receive.verdict == EARLY and assign.verdict == EARLY
    assert appraise.verdict == LATE and appraise.due < appraise.at  # against its share, not the due date
    assert approve.verdict == ON_TIME and approve.due == sheet.due_at  # no share: the dossier's due date
    assert [r.no for r in sheet.rows] == [1, 2, 3, 4]


def test_the_control_sheet_pdf_is_for_the_agencys_staff_only(demo, api_as, services, clock, web_as):
    couple = demo["scenarios"]["married_couple"]
    d = received_birth(demo, api_as)
    for who in ("clerk", "specialist", "leader", "records"):
        r = api_as(who).get(f"/api/v1/dossiers/{d['id']}/control-sheet.pdf")
        assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF"), who
    assert api_as(couple["wife"]).get(f"/api/v1/dossiers/{d['id']}/control-sheet.pdf").status_code == 403
    assert api_as("agency").get(f"/api/v1/dossiers/{d['id']}/control-sheet.pdf").status_code == 403
    clerk_pages.add_staff(services, clock, "otherclerk", ["clerk"], "000.00.99.XTN")
    assert api_as("otherclerk").get(f"/api/v1/dossiers/{d['id']}/control-sheet.pdf").status_code == 404
    assert api_as("clerk").get("/api/v1/dossiers/nope/control-sheet.pdf").status_code == 404
    page = web_as("clerk").get(f"/desk/dossiers/{d['id']}")
    assert f"/desk/dossiers/{d['id']}/control-sheet.pdf" in page.get_data(as_text=True)
    assert web_as("clerk").get(f"/desk/dossiers/{d['id']}/control-sheet.pdf").status_code == 200


# --------------------------------------------------------------------------- form 07: the log book


def _csv(response) -> list[list[str]]:
    text = response.data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_the_log_book_numbers_entries_continuously_across_days_and_restarts_each_year(demo, api_as, services, clock):
    clock.set(dt.datetime(2026, 12, 30, 9, 0))  # tokens live 90 days: the whole story within a week
    born = {"child_date_of_birth": "2026-12-20"}  # registered on time
    first = received_birth(demo, api_as, extra=born)
    clock.advance(days=1)
    second = received_birth(demo, api_as, extra=born)
    assert (first["log_entry"], second["log_entry"]) == (1, 2)
    clerk = api_as("clerk")
    rows = _csv(clerk.get("/api/v1/log-book?from=2026-12-30&to=2026-12-31&format=csv"))
    assert rows[0] == [label for _, label in COLUMNS]
    assert [(r[0], r[1]) for r in rows[1:]] == [("01", first["code"]), ("02", second["code"])]
    entry = dict(zip([k for k, _ in COLUMNS], rows[1]))
    assert entry["procedure"] == "Đăng ký khai sinh" and entry["sets"] == "01"
    assert entry["applicant"] == first["applicant"]["name"] and entry["received_at"] == "09:00 30/12/2026"
    assert entry["lead_agency"] == "Ủy ban nhân dân phường Ba Đình" and entry["appointment"].endswith("30/12/2026")
    wife = person(services, demo["scenarios"]["married_couple"]["wife"])
    assert (wife.current_address or wife.permanent_address) in entry["contact"]
    # one day only
    assert [r[0] for r in _csv(clerk.get("/api/v1/log-book?from=2026-12-31&format=csv"))[1:]] == ["02"]
    # a new year opens a new book
    clock.set(dt.datetime(2027, 1, 4, 9, 0))
    third = received_birth(demo, api_as, extra=born)
    assert third["log_entry"] == 1
    rows = _csv(clerk.get("/api/v1/log-book?from=2026-12-01&to=2027-01-04&format=csv"))
    assert [r[0] for r in rows[1:]] == ["01", "02", "01"]
    pdf = clerk.get("/api/v1/log-book?from=2026-12-30&to=2026-12-31")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_reading_the_log_book_is_logged_for_each_applicant_listed(demo, api_as, services):
    couple = demo["scenarios"]["married_couple"]
    received_birth(demo, api_as)
    assert api_as("clerk").get("/api/v1/log-book?format=csv").status_code == 200
    with services.uow(write=False) as uow:
        reads = uow.session.scalars(select(RegisterRead).where(RegisterRead.basis == "log_book")).all()
        assert [(r.personal_id, r.reader_name) for r in reads] == [(couple["wife"], name_of(services, "clerk"))]
    log = api_as(couple["wife"]).get("/api/v1/me/access-log").get_json()["entries"]
    assert any(e["basis"] == "log_book" for e in log)


def test_the_log_book_is_refused_to_citizens_clients_and_bad_ranges(demo, api_as, services, clock):
    couple = demo["scenarios"]["married_couple"]
    received_birth(demo, api_as)
    assert api_as(couple["wife"]).get("/api/v1/log-book?format=csv").status_code == 403
    assert api_as("agency").get("/api/v1/log-book?format=csv").status_code == 403
    assert api_as(None).get("/api/v1/log-book?format=csv").status_code == 401
    clerk = api_as("clerk")
    for query in ("from=2026-03-05&to=2026-03-01", "from=yesterday", "from=2025-01-01&to=2026-03-02",
                  "format=xml"):
        r = clerk.get(f"/api/v1/log-book?{query}")
        assert r.status_code == 422 and " / " in r.get_json()["message"], query
    # another agency's clerk sees an empty book of their own agency, not ours
    clerk_pages.add_staff(services, clock, "otherclerk", ["clerk"], "000.00.99.XTN")
    assert _csv(api_as("otherclerk").get("/api/v1/log-book?format=csv"))[1:] == []


def test_motcua_logbook_writes_csv_for_an_agency(demo, api_as, services, tmp_path, settings, monkeypatch):
    from click.testing import CliRunner

    from motcua import cli

    received_birth(demo, api_as)
    monkeypatch.setattr(cli, "_services", lambda settings=None: services)
    out = tmp_path / "book.csv"
    agency = services.accounts.agency_of(services.accounts.actor_for("clerk")).code
    result = CliRunner().invoke(cli.main, ["logbook", "--agency", agency, "--from", "2026-03-02", "--to",
                                           "2026-03-02", "--format", "csv", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 2 and rows[1][0] == "01"
    bad = CliRunner().invoke(cli.main, ["logbook", "--agency", "NOPE", "--format", "csv", "--out", str(out)])
    assert bad.exit_code == 1 and "NOPE" in bad.output


# --------------------------------------------------------------------------- extract copies


def test_extract_copies_are_issued_signed_and_numbered_with_their_fee_line(demo, api_as, services, tmp_path):
    couple = demo["scenarios"]["married_couple"]
    d = received_birth(demo, api_as, extra={"copies_requested": True, "copies_count": 2})
    assert d["fees"] == [{"item": "copies", "result": "birth-certificate",
                          "label": {"vi": "Bản sao trích lục khai sinh", "en": "Copy of the birth extract"},
                          "quantity": 2, "unit_amount": 8000, "amount": 16000, "currency": "VND"}]
    api_as("leader").act(d["id"], "assign")
    api_as("specialist").act(d["id"], "appraise")
    d = api_as("leader").act(d["id"], "approve")
    original, *copies = d["results"]
    assert [c["number"] for c in copies] == [f"{original['number']}/BS1", f"{original['number']}/BS2"]
    for c in [original, *copies]:
        assert c["status"] == "valid" and c["holders"] == original["holders"]
        pdf = api_as(couple["wife"]).get(f"/api/v1/results/{c['id']}/pdf")
        report = services.verification.verify_document(pdf.data)
        assert report.valid, report.problem
    assert copies[0]["data"]["copy"] == {"no": 1, "of": 2, "original": original["number"]}
    if shutil.which("pdftotext"):
        path = tmp_path / "copy.pdf"
        path.write_bytes(api_as(couple["wife"]).get(f"/api/v1/results/{copies[1]['id']}/pdf").data)
        text = " ".join(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout.split())
        assert "BẢN SAO TRÍCH LỤC KHAI SINH" in text and "Bản sao số 2/2" in text


def test_no_copies_without_the_request(demo, api_as, services):
    d = received_birth(demo, api_as, extra={"copies_requested": False, "copies_count": 3})
    assert d["fees"] == []
    api_as("leader").act(d["id"], "assign")
    api_as("specialist").act(d["id"], "appraise")
    d = api_as("leader").act(d["id"], "approve")
    assert len(d["results"]) == 1


def test_the_submission_tells_when_the_code_comes_and_the_code_shows_once_given(demo, api_as):
    couple = demo["scenarios"]["married_couple"]
    d = filed_birth(demo, api_as)
    assert d["code"] is None and "tiếp nhận" in d["code_note"]["vi"] and "receives" in d["code_note"]["en"]
    d = api_as("clerk").act(d["id"], "receive")
    seen = api_as(couple["wife"]).get(f"/api/v1/dossiers/{d['id']}").get_json()
    assert seen["code"] == d["code"] and seen["code"].endswith("-260302-0001") and seen["code_note"] is None
