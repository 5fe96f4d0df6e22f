"""How many units of work a use case opens: an action is one write transaction (plus, for the
caller that wants the dossier back, at most one read), its documents signed apart from it."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.adapters.uow import uow_factory
from engine.usecases.services import build_services
from tests.web.test_lifecycle_api import PDF, birth_form

pytestmark = pytest.mark.database


@pytest.fixture
def counted(services):
    """The same use cases over a unit-of-work factory that counts what it opens, signing deferred."""
    opened: Counter[str] = Counter()
    real = uow_factory(services.engine)

    def uow(write: bool = True, one_statement: bool = False, optimistic: bool = False):
        opened["write" if write else "read"] += 1
        return real(write=write, one_statement=one_statement, optimistic=optimistic)

    wired = build_services(
        uow=uow, clock=services.clock, catalogue=services.catalogue, calendars=services.deadlines.calendars,
        blobs=services.blobs, issuer=services.issuance.issuer, prefiller=services.prefill.prefiller,
        links=services.links, slips_dir=services.issuance.slips_dir, max_upload_mb=20, issue_inline=False,
        personal_ids=services.personal_ids, queue=services.tasks.queue, engine=services.engine)
    return wired, opened


def test_each_action_opens_one_write_unit_of_work_and_no_other(counted, demo):
    svc, opened = counted
    couple = demo["scenarios"]["married_couple"]
    actor = svc.accounts.actor_for
    citizen, clerk, leader, specialist = (actor(couple["wife"]), actor("clerk"), actor("leader"), actor("specialist"))
    d = svc.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    svc.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    svc.actions.perform_action(d.id, "submit", citizen)
    steps = [("receive", clerk), ("assign", leader), ("appraise", specialist), ("approve", leader)]
    for action, who in steps:
        opened.clear()
        view = svc.actions.perform_action(d.id, action, who)
        assert dict(opened) == {"write": 1}, (action, dict(opened))
        assert view.events[-1].action == action
    assert [r.status for r in view.results] == ["pending"]  # signed later, outside the transition
    assert svc.issuance.issue_pending().issued == 2  # the receipt and the certificate
    opened.clear()
    outcome = svc.actions.fire_action(d.id, "return_result", clerk)
    assert dict(opened) == {"write": 1} and outcome.state == "returned"


def _tables_read(services, action):
    """The statements ``action()`` sends, as (verb, first table) pairs."""
    import re

    from sqlalchemy import event

    seen: list[tuple[str, str]] = []

    def record(conn, cursor, statement, *args):
        verb = statement.split(None, 1)[0].upper()
        table = re.search(r"\b(?:FROM|INTO|UPDATE)\s+(\w+)", statement)
        seen.append((verb, table.group(1) if table else ""))

    event.listen(services.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(services.engine, "before_cursor_execute", record)
    return seen


def test_a_transition_reads_what_it_needs_with_the_dossier_and_its_statements_do_not_grow_with_history(counted, demo):
    """The eligibility check, the applicant's contacts and notification preferences come with the dossier's
    row; the answer's reads are bounded (latest events, latest slips), so a supplement round on a dossier
    with a long history sends the same statements as the first round (slips signed later, by a worker)."""
    services, _ = counted
    couple = demo["scenarios"]["married_couple"]
    actor = services.accounts.actor_for
    citizen, clerk, leader, specialist = (actor(couple["wife"]), actor("clerk"), actor("leader"), actor("specialist"))
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    for action, who in (("submit", citizen), ("receive", clerk), ("assign", leader)):
        services.actions.perform_action(d.id, action, who)

    def round_trip():
        first = _tables_read(services, lambda: services.actions.perform_action(
            d.id, "request_supplement", specialist, items=["Giấy chứng sinh bản rõ nét"]))
        second = _tables_read(services, lambda: services.actions.perform_action(d.id, "provide_supplement", citizen))
        return first, second

    round_trip()  # the first supplement slip of the year also creates its numbering row
    early = round_trip()
    for _ in range(20):  # 40 more events and 20 more slips: more than a page of each
        round_trip()
    late = round_trip()
    assert late == early
    view = services.dossiers.get_dossier(d.id, specialist)
    assert len(view.events) == 20 and view.events_before is not None
    assert [s.form for s in view.slips][0] == "01" and len(view.slips) == 21  # the receipt and the latest 20

    request, provide = late
    read = {table for verb, table in request + provide if verb == "SELECT"}
    assert not read & {"people", "notification_preferences", "agencies", "accounts"}, read  # with the dossier
    assert sum(1 for verb, table in request if (verb, table) == ("SELECT", "eligibility_checks")) == 0
    assert len(request) <= 16 and len(provide) <= 12, (request, provide)
