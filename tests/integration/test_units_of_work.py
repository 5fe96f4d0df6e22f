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

    def uow(write: bool = True):
        opened["write" if write else "read"] += 1
        return real(write=write)

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
