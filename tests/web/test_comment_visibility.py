"""Finding 7: staff choose, per comment, whether the applicant sees it; internal by default. The
applicant's own comments, the reasons and the items to supplement always reach the applicant."""
from __future__ import annotations

import pytest

from tests.web.test_clerk_pages import couple, submitted_birth, version_of  # noqa: F401 (fixtures)

pytestmark = pytest.mark.database

INTERNAL = "Giao chuyên viên Việt thụ lý"
PUBLIC = "Hồ sơ đã đủ, mời ông bà chờ kết quả"


def test_a_comment_without_the_flag_is_internal_and_with_it_reaches_the_applicant(
        submitted_birth, couple, api_as, web_as):
    did = submitted_birth()["id"]
    clerk, citizen = api_as("clerk"), api_as(couple["wife"])
    staff_view = clerk.act(did, "receive", comment=PUBLIC, comment_public=True)
    assert staff_view["events"][-1]["comment"] == PUBLIC and staff_view["events"][-1]["comment_public"] is True
    staff_view = api_as("leader").act(did, "assign", comment=INTERNAL)
    assert staff_view["events"][-1]["comment"] == INTERNAL and staff_view["events"][-1]["comment_public"] is False

    mine = citizen.get(f"/api/v1/dossiers/{did}").get_json()
    comments = [e["comment"] for e in mine["events"]]
    assert PUBLIC in comments and INTERNAL not in comments
    assert INTERNAL not in str(mine)
    page = web_as(couple["wife"]).text(web_as(couple["wife"]).get(f"/my/dossiers/{did}"))
    assert PUBLIC in page and INTERNAL not in page

    desk = web_as("clerk")
    html = desk.text(desk.get(f"/desk/dossiers/{did}"))
    assert INTERNAL in html and PUBLIC in html
    assert html.count('class="badge internal"') == 1 and html.count('class="badge public"') == 1
    assert "Nội bộ" in html and "Người nộp hồ sơ xem được" in html


def test_the_applicants_own_comment_and_the_supplement_items_and_reason_stay_visible_to_them(
        submitted_birth, couple, api_as):
    did = submitted_birth()["id"]
    citizen = api_as(couple["wife"])
    api_as("clerk").act(did, "request_supplement", items=["Giấy chứng sinh bản rõ nét"], reason="Bản chụp bị mờ",
                        comment=INTERNAL)
    citizen.act(did, "provide_supplement", comment="Đã gửi bản rõ nét")
    events = citizen.get(f"/api/v1/dossiers/{did}").get_json()["events"]
    supplement = next(e for e in events if e["action"] == "request_supplement")
    assert supplement["items"] == ["Giấy chứng sinh bản rõ nét"] and supplement["reason"] == "Bản chụp bị mờ"
    assert supplement["comment"] is None
    assert events[-1]["comment"] == "Đã gửi bản rõ nét"


def test_the_desk_form_has_the_box_and_a_ticked_box_makes_the_comment_public(submitted_birth, couple, web_as, services):
    did = submitted_birth()["id"]
    clerk = web_as("clerk")
    html = clerk.text(clerk.get(f"/desk/dossiers/{did}"))
    assert 'name="comment_public" value="yes"' in html and "Cho người nộp hồ sơ xem ghi chú này" in html
    r = clerk.post(f"/desk/dossiers/{did}/actions/receive",
                   {"expected_version": str(version_of(services, did)), "comment": PUBLIC, "comment_public": "yes"})
    assert r.status_code == 303
    wife = services.accounts.actor_for(couple["wife"])
    assert services.dossiers.get_dossier(did, wife).events[-1].comment == PUBLIC
    # an internal note through the page: the box left alone
    leader = web_as("leader")
    r = leader.post(f"/desk/dossiers/{did}/actions/assign",
                    {"expected_version": str(version_of(services, did)), "comment": INTERNAL})
    assert r.status_code == 303
    assert services.dossiers.get_dossier(did, wife).events[-1].comment is None
    assert services.dossiers.get_dossier(did, services.accounts.actor_for("clerk")).events[-1].comment == INTERNAL


@pytest.mark.parametrize("bad", ["yes", 1, None, [], {"a": 1}])
def test_a_comment_public_that_is_not_a_boolean_is_a_422(submitted_birth, api_as, bad):
    did = submitted_birth()["id"]
    body = api_as("clerk").act(did, "receive", expect=422, comment="x", comment_public=bad)
    assert body["error"] and "comment_public" in body["fields"]
