"""A dossier's view built from the one SELECT that reads the row with its documents, latest events and
slips (plus what the transition wrote) is the view the separate reads give: after every action of a
lifecycle, after 25 supplement rounds (older events paged, the latest 20 slips and the once-only ones),
for staff and for the applicant."""
from __future__ import annotations

import pytest

from engine.adapters import queries
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database


def _separate_reads(services, dossier_id, actor):
    """The view from the ORM row and one statement per part (the path of a dossier loaded another way)."""
    with services.uow(write=False) as uow:
        d = services.dossiers.load_visible(uow.session, dossier_id, actor)
        assert not isinstance(d, queries.DossierRow)
        return services.dossiers.view(uow.session, d, actor)


def _same_three_ways(services, answer, dossier_id, *actors):
    for actor in actors:
        read = services.dossiers.get_dossier(dossier_id, actor)
        assert read == _separate_reads(services, dossier_id, actor)
    assert answer == _separate_reads(services, dossier_id, actors[0])


def test_the_answer_of_each_action_is_the_view_read_afterwards(services, demo):
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    citizen, clerk, leader, specialist = (actor(couple["wife"]), actor("clerk"), actor("leader"), actor("specialist"))
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    steps = [("submit", citizen, {}), ("receive", clerk, {}), ("assign", leader, {}),
             ("request_supplement", specialist, {"items": ["Giấy chứng sinh"], "comment": "nội bộ"}),
             ("provide_supplement", citizen, {}), ("appraise", specialist, {"comment": "đủ điều kiện",
                                                                            "comment_public": True}),
             ("approve", leader, {})]
    for action, who, kwargs in steps:
        answer = services.actions.perform_action(d.id, action, who, **kwargs)
        assert answer.events[-1].action == action
        _same_three_ways(services, answer, d.id, who, citizen, clerk)
    assert [s.form for s in answer.slips] == ["01", "02"] and answer.results


def test_a_long_history_pages_the_same_way(services, demo):
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    citizen, specialist = actor(couple["wife"]), actor("specialist")
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    services.actions.perform_action(d.id, "submit", citizen)
    services.actions.perform_action(d.id, "receive", actor("clerk"))
    services.actions.perform_action(d.id, "assign", actor("leader"))
    for round_ in range(25):
        answer = services.actions.perform_action(d.id, "request_supplement", specialist, items=[f"Bản {round_}"])
        _same_three_ways(services, answer, d.id, specialist, citizen)
        answer = services.actions.perform_action(d.id, "provide_supplement", citizen)
    _same_three_ways(services, answer, d.id, citizen, specialist)
    assert len(answer.events) == 20 and answer.events_before == answer.events[0].seq
    forms = [s.form for s in answer.slips]
    assert forms[0] == "01" and forms.count("02") == 20 and len(forms) == 21  # the receipt stays listed
