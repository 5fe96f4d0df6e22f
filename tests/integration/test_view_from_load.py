"""A dossier's view built from the one SELECT that reads the row with its documents, latest events and
slips (plus what the transition wrote) is the view the separate reads give: after every action of a
lifecycle, after 25 supplement rounds (older events paged, the latest 20 slips and the once-only ones),
for staff and for the applicant."""
from __future__ import annotations

import pytest

from engine.adapters import queries
from tests.web.test_lifecycle_api import PDF, birth_form, in_appraisal

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
    d, citizen, specialist = in_appraisal(services, demo)
    for round_ in range(25):
        answer = services.actions.perform_action(d.id, "request_supplement", specialist, items=[f"Bản {round_}"])
        _same_three_ways(services, answer, d.id, specialist, citizen)
        answer = services.actions.perform_action(d.id, "provide_supplement", citizen)
    _same_three_ways(services, answer, d.id, citizen, specialist)
    assert len(answer.events) == 20 and answer.events_before == answer.events[0].seq
    forms = [s.form for s in answer.slips]
    assert forms[0] == "01" and forms.count("02") == 20 and len(forms) == 21  # the receipt stays listed


def test_the_answer_is_built_after_the_commit_without_a_statement(services, demo):
    """The answer of a transition whose view needs no read is built once the transaction has committed:
    the write lock (SQLite) and the dossier's row lock (PostgreSQL) are not held while it is built, and
    nothing is sent after the COMMIT."""
    from sqlalchemy import event

    d, citizen, specialist = in_appraisal(services, demo)
    services.actions.perform_action(d.id, "request_supplement", specialist, items=["Giấy chứng sinh"])
    sent: list[str] = []  # the next action issues no document (one would be signed after the commit here)
    built: list[int] = []
    real_view = services.dossiers.view

    def statement(_conn, _cursor, text, *_args):
        sent.append(text.split()[0].upper())

    def commit(_conn):
        sent.append("COMMIT")

    def view(*args, **kwargs):
        built.append(len(sent))
        return real_view(*args, **kwargs)

    event.listen(services.engine, "before_cursor_execute", statement)
    event.listen(services.engine, "commit", commit)
    services.dossiers.view = view  # type: ignore[method-assign]
    try:
        answer = services.actions.perform_action(d.id, "provide_supplement", citizen)
    finally:
        del services.dossiers.view
        event.remove(services.engine, "before_cursor_execute", statement)
        event.remove(services.engine, "commit", commit)
    # one commit, last; on SQLite the decision's snapshot ends before the first write (COMMIT of a
    # transaction that wrote nothing) and the writing one begins holding the lock, the version checked
    snapshot = ["BEGIN", "SELECT", "COMMIT", "BEGIN", "SELECT"] if services.engine.dialect.name == "sqlite" else []
    assert sent[:len(snapshot)] == snapshot, " ".join(sent)
    assert sent[-1] == "COMMIT" and sent[len(snapshot):].count("COMMIT") == 1, " ".join(sent)
    assert built == [len(sent)]  # built once, after everything was sent and committed
    assert answer.state == "processing_appraise" and answer.events[-1].action == "provide_supplement"
    _same_three_ways(services, answer, d.id, citizen, specialist)
