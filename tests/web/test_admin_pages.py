"""The administration page: the agency's KPIs as percentages with their meaning, the declared-field cut
per procedure, the period filter, and who may see it."""
from __future__ import annotations

import io
import re

import pytest

from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database


@pytest.fixture
def received_birth(demo, api_as):
    """One birth registration filed online by the mother and received by the clerk (2 March 2026)."""
    couple = demo["scenarios"]["married_couple"]
    citizen = api_as(couple["wife"])
    did = citizen.post("/api/v1/dossiers", json={"procedure": "birth-registration", "data": birth_form(couple)}).get_json()["id"]
    r = citizen.post(f"/api/v1/dossiers/{did}/documents",
                     data={"requirement": "medical_birth_notice", "file": (io.BytesIO(PDF), "giay-chung-sinh.pdf")},
                     content_type="multipart/form-data")
    assert r.status_code == 201
    citizen.act(did, "submit")
    return api_as("clerk").act(did, "receive")


def kpi_value(html: str, kpi: str) -> str:
    card = html[html.index(f'id="kpi-{kpi}"'):]
    return re.search(r'<p class="value[^"]*">([^<]+)</p>', card).group(1)


def test_the_admin_page_shows_the_kpis_as_percentages_and_the_cut_per_procedure(received_birth, web_as, services):
    r = web_as("admin").get("/admin/")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    # one dossier received, online, its marriage certificate taken from the store, not finished yet
    assert "Số hồ sơ tiếp nhận trong kỳ: 1." in html
    assert kpi_value(html, "online_rate") == "100,0%"
    assert kpi_value(html, "reuse_rate") == "100,0%"
    assert kpi_value(html, "satisfaction") == "100,0%"
    assert kpi_value(html, "on_time_rate") == "Chưa có dữ liệu"  # nothing finished yet
    assert "Tỷ lệ giải quyết đúng hạn" in html and "trên tổng số hồ sơ đã tiếp nhận" in html
    kpis = services.indicators.kpis(services.accounts.actor_for("admin"))
    overall = f"{kpis['declared_field_cut']['overall'] * 100:.1f}".replace(".", ",") + "%"
    assert kpi_value(html, "declared_field_cut") == overall
    # the cut per procedure: every procedure of the catalogue, with its numbers
    table = html[html.index('<table class="list cuts"'):html.index("</table>")]
    cuts = {c.id: c for c in services.indicators.procedure_cuts()}
    assert table.count("<tr>") == len(cuts) + 1
    birth = cuts["birth-registration"]
    row = table[table.index("Đăng ký khai sinh"):]
    row = row[:row.index("</tr>")]
    cells = re.findall(r'data-label="([^"]+)" class="num">(?:<span[^>]*>)?([^<]+)', row)
    assert cells == [("Số trường", str(birth.fields)), ("Điền sẵn được", str(birth.prefillable)),
                     ("Tỷ lệ theo định nghĩa", f"{birth.definition_cut * 100:.1f}".replace(".", ",") + "%"),
                     ("Tỷ lệ thực tế", f"{birth.measured_cut * 100:.1f}".replace(".", ",") + "%"),
                     ("Số hồ sơ", "1")]
    marriage = table[table.index("Đăng ký kết hôn"):]
    assert "chưa có hồ sơ" in marriage[:marriage.index("</tr>")]


def test_the_period_filter_counts_only_the_dossiers_received_in_it(received_birth, web_as):
    admin = web_as("admin")
    html = admin.text(admin.get("/admin/?from=2026-01-01&to=2026-01-31"))
    assert "Kỳ báo cáo 01/01/2026 – 31/01/2026" in html
    assert "Số hồ sơ tiếp nhận trong kỳ: 0." in html and kpi_value(html, "online_rate") == "Chưa có dữ liệu"
    html = admin.text(admin.get("/admin/?from=2026-03-02&to=2026-03-02"))  # the day of receipt, whole
    assert "Số hồ sơ tiếp nhận trong kỳ: 1." in html


def test_bad_dates_give_a_message_not_an_error(demo, web_as):
    admin = web_as("admin")
    r = admin.get("/admin/?from=2026-13-45&to=hôm-nay")
    html = admin.text(r)
    assert r.status_code == 422
    assert html.count("Không phải ngày hợp lệ") == 2 and 'aria-invalid="true"' in html
    assert 'id="kpi-online_rate"' in html  # the default period is still shown
    r = admin.get("/admin/?from=2026-03-02&to=2026-01-01")
    assert r.status_code == 422 and "Ngày bắt đầu kỳ phải trước ngày kết thúc." in admin.text(r)


@pytest.mark.parametrize(("who", "status"), [("admin", 200), ("leader", 200), ("clerk", 403), ("specialist", 403),
                                            ("records", 403)])
def test_only_administrators_and_leaders_see_the_indicators(demo, web_as, who, status):
    assert web_as(who).get("/admin/").status_code == status


def test_a_citizen_gets_forbidden_and_a_visitor_is_sent_to_sign_in(demo, web_as):
    citizen = web_as(demo["scenarios"]["married_couple"]["wife"])
    assert citizen.get("/admin/").status_code == 403
    visitor = web_as(None).get("/admin/")
    assert visitor.status_code == 302 and "/login" in visitor.headers["Location"]
