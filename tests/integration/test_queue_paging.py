"""The work queue read by keyset: every dossier exactly once and in order, the counters and totals right
without counting the agency's history, the settled dossiers' counts kept by the transitions.

The queue is filled with the benchmark's bulk loader (realistic rows: several agencies, every state,
due dates on both sides of now) and checked against a plain reading of the whole table in Python: the
order (due date, then id, the undated last) and the timeliness rule of engine.rules.timeliness.
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from bench.work_queue import World, load
from engine.adapters.models import Dossier
from engine.rules import paging
from engine.rules.errors import ValidationError
from engine.rules.timeliness import TIMELINESS, timeliness


@pytest.fixture
def filled(services, demo, clock):
    clock.now = dt.datetime(2026, 3, 2, 9, 0)
    world = World(services, intake=20)  # 40 days of an agency's work: late, due soon, settled, undated
    load(services, world, 0, 800)
    return services


def _plain(d: Dossier) -> SimpleNamespace:
    return SimpleNamespace(**{c.key: getattr(d, c.key) for c in Dossier.__table__.columns})


def _expected(services, actor, *, states=None, procedure=None, overdue=None) -> list:
    """The queue as the old code read it: every row of the agency in Python, filtered and sorted."""
    now = services.clock()
    with services.uow(write=False) as uow:
        rows = [_plain(d) for d in uow.session.scalars(select(Dossier).where(Dossier.agency_id == actor.agency_id,
                                                                             Dossier.state != "draft"))]
    out = []
    for d in rows:
        if states is not None and d.state not in states:
            continue
        if procedure and d.procedure_id != procedure:
            continue
        if overdue is not None:
            late = (d.due_at is not None and d.closed_at is None and d.decided_at is None
                    and (d.overdue or d.due_at < now))
            if late != overdue:
                continue
        out.append(d)
    out.sort(key=lambda d: (d.due_at is None, d.due_at or dt.datetime.min, d.id))
    return out


def _walk(services, actor, **filters) -> list[str]:
    ids, cursor, pages = [], None, 0
    while True:
        page = services.desk.list_dossiers(actor, cursor=cursor, **filters)
        ids += [i.id for i in page.items]
        pages += 1
        assert pages < 100
        if page.next_cursor is None:
            assert len(page.items) <= page.page_size
            return ids
        assert len(page.items) == page.page_size
        cursor = page.next_cursor


@pytest.mark.parametrize("filters", [
    {}, {"overdue": True}, {"overdue": False}, {"procedure": "birth-registration"},
    {"state": "processing_appraise"}, {"role": "clerk"}, {"role": "records"}, {"role": "clerk", "overdue": True},
])
def test_every_dossier_of_the_queue_comes_once_in_due_order_page_after_page(filled, filters):
    services = filled
    clerk = services.accounts.actor_for("clerk")
    filters = dict(filters)
    role = filters.pop("role", None)
    if role:
        filters["states"] = services.desk.queue_states(services.accounts.actor_for(role))
    expected = _expected(services, clerk, states=filters.get("states") or (
        [filters["state"]] if "state" in filters else None), procedure=filters.get("procedure"),
        overdue=filters.get("overdue"))
    assert len(expected) > 0
    walked = _walk(services, clerk, **filters)
    assert walked == [d.id for d in expected]
    first = services.desk.list_dossiers(clerk, **filters)
    assert first.total == len(expected)
    if first.total > first.page_size:  # page numbers still read the same order, by offset
        second = services.desk.list_dossiers(clerk, page=2, **filters)
        assert [i.id for i in second.items] == walked[first.page_size:2 * first.page_size]


def test_counters_match_the_timeliness_rule_row_by_row(filled):
    services = filled
    now = services.clock()
    for username, states in (("clerk", None), ("clerk", "mine"), ("records", "mine")):
        actor = services.accounts.actor_for(username)
        scope = services.desk.queue_states(actor) if states else None
        expected = dict.fromkeys(TIMELINESS, 0)
        for d in _expected(services, actor, states=scope):
            proc = services.procedures.procedure_version(d.procedure_id, d.procedure_version)
            expected[timeliness(d, now, services.deadlines.calendar(proc.calendar))] += 1
        assert services.desk.count_queue(actor, states=scope) == expected
        assert services.desk.list_dossiers(actor, states=scope).counts == expected
        for when in ("overdue", "due_soon", "on_time", "none"):
            assert expected[when] > 0 or username == "records", (username, when)


def test_a_cursor_someone_made_up_is_refused_with_a_message_in_both_languages(filled):
    services = filled
    clerk = services.accounts.actor_for("clerk")
    page = services.desk.list_dossiers(clerk)
    for bad in ("nonsense", "", "e30", "x" * 500, paging.encode(paging.Cursor("new", dt.datetime(2026, 1, 1), "a")),
                page.next_cursor[:-3] + "!!!"):
        with pytest.raises(ValidationError) as err:
            services.desk.list_dossiers(clerk, cursor=bad or "=")
        assert " / " in err.value.fields["cursor"][0]
    with pytest.raises(ValidationError):
        services.desk.list_dossiers(clerk, cursor=page.next_cursor, page=2)
    citizen = services.accounts.actor_for(_a_citizen(services))
    with pytest.raises(ValidationError):  # a staff cursor does not page a citizen's list
        services.desk.list_dossiers(citizen, cursor=page.next_cursor)


def _a_citizen(services) -> str:
    from engine.adapters.models import Account

    with services.uow(write=False) as uow:
        return uow.session.scalar(select(Account.username).join(Dossier, Dossier.applicant_account_id == Account.id)
                                  .where(Account.kind == "citizen").limit(1))


def test_a_citizen_pages_through_their_own_dossiers_newest_first(filled):
    services = filled
    username = _a_citizen(services)
    citizen = services.accounts.actor_for(username)
    with services.uow(write=False) as uow:
        mine = [_plain(d) for d in uow.session.scalars(
            select(Dossier).where(Dossier.applicant_account_id == citizen.account_id))]
    mine.sort(key=lambda d: (d.created_at, d.id), reverse=True)
    ids, cursor = [], None
    while True:
        page = services.desk.list_dossiers(citizen, cursor=cursor)
        assert page.total == len(mine) and page.counts is None
        ids += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == [d.id for d in mine]


def _recount(services) -> dict:
    with services.engine.connect() as conn:
        kept = {tuple(r[:4]): r[4] for r in conn.execute(text(
            "SELECT agency_id, procedure_id, state, timeliness, n FROM dossier_counts WHERE n <> 0"))}
        real = {tuple(r[:4]): r[4] for r in conn.execute(text(
            "SELECT agency_id, procedure_id, state, CASE WHEN due_at IS NULL THEN 'none' WHEN overdue THEN 'overdue' "
            "ELSE 'on_time' END, count(*) FROM dossiers WHERE closed_at IS NOT NULL OR decided_at IS NOT NULL "
            "GROUP BY 1, 2, 3, 4"))}
    return {"kept": kept, "real": real}


def test_transitions_keep_the_settled_counts_in_step(services, demo):
    """Deciding, returning and refusing through the real actions moves each dossier between counters;
    the counts always equal a count of the table."""
    from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

    assert _recount(services)["kept"] == _recount(services)["real"] == {}
    couple = demo["scenarios"]["married_couple"]
    act = services.actions.perform_action
    who = services.accounts.actor_for
    citizen, clerk, leader, specialist = who(couple["wife"]), who("clerk"), who("leader"), who("specialist")
    d = services.filing.start_dossier("birth-registration", birth_form(couple), citizen)
    services.filing.add_document(d.id, "medical_birth_notice", "giay-chung-sinh.pdf", PDF, citizen)
    for action, actor in (("submit", citizen), ("receive", clerk), ("assign", leader), ("appraise", specialist),
                          ("approve", leader)):
        act(d.id, action, actor)
    decided = _recount(services)
    assert decided["kept"] == decided["real"] == {(clerk.agency_id, "birth-registration", "decided", "on_time"): 1}
    records = services.desk.count_queue(who("records"), states=services.desk.queue_states(who("records")))
    assert records == {"overdue": 0, "due_soon": 0, "on_time": 1, "none": 0}
    act(d.id, "return_result", clerk)
    returned = _recount(services)
    assert returned["kept"] == returned["real"] == {(clerk.agency_id, "birth-registration", "returned", "on_time"): 1}

    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    m = services.filing.start_dossier("marriage-registration", marriage_form(wife, husband), who(wife))
    act(m.id, "submit", who(wife))
    act(m.id, "refuse", clerk, reason="Không thuộc thẩm quyền / not competent")
    refused = _recount(services)
    assert refused["kept"] == refused["real"]
    assert refused["real"][(clerk.agency_id, "marriage-registration", "refused", "none")] == 1
    assert services.desk.count_queue(clerk) == {"overdue": 0, "due_soon": 0, "on_time": 1, "none": 1}
    assert services.desk.list_dossiers(clerk).total == 2


def test_concurrent_transitions_all_count_and_never_deadlock(services, demo):
    """Eight clerks at once refuse new dossiers and hand out decided ones in the same agency: the
    transitions that settle a dossier, or move a settled one, update the same counter rows. Every one
    of them commits (no deadlock, no lost update) and the counts equal a count of the table."""
    import threading

    load(services, World(services, intake=400), 0, 12_000)
    clerk = services.accounts.actor_for("clerk")
    with services.engine.connect() as conn:
        def ids(state: str) -> list[str]:
            return list(conn.execute(text("SELECT id FROM dossiers WHERE agency_id = :a AND state = :s ORDER BY id"),
                                     {"a": clerk.agency_id, "s": state}).scalars())
        submitted, decided = ids("submitted")[:24], ids("decided")[:40]
    assert len(submitted) == 24 and len(decided) == 40
    work = [(d, "refuse") for d in submitted] + [(d, "return_result") for d in decided]
    work.sort(key=lambda w: w[0])  # refusals and hand-outs interleaved
    before = _recount(services)
    assert before["kept"] == before["real"]
    errors: list[BaseException] = []
    done: list[str] = []
    barrier = threading.Barrier(8)

    def clerk_at_work(share: list[tuple[str, str]]) -> None:
        barrier.wait()
        for did, action in share:
            try:
                kw = {"reason": "Hồ sơ không hợp lệ / not valid"} if action == "refuse" else {}
                services.actions.perform_action(did, action, clerk, **kw)
                done.append(did)
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)

    threads = [threading.Thread(target=clerk_at_work, args=(work[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == [] and sorted(done) == sorted(d for d, _ in work)
    after = _recount(services)
    assert after["kept"] == after["real"]
    moved = sum(after["real"].values()) - sum(before["real"].values())
    assert moved == len(submitted)  # refusals settle a dossier; hand-outs move one already counted
    returned = (clerk.agency_id, "returned")
    assert (sum(n for k, n in after["real"].items() if (k[0], k[2]) == returned)
            - sum(n for k, n in before["real"].items() if (k[0], k[2]) == returned)) == len(decided)
