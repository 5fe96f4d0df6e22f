"""Write-back: a returned birth, marriage or death changes the population register in the approval's
transaction, and later procedures see it at once; with a remote register the change is a durable row
posted after the commit, retried by ``motcua sweep`` through an outage, applied once."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.adapters.models import Person, RegisterWrite, Result
from engine.adapters.sources import person_payload
from engine.adapters.uow import make_engine
from engine.rules.errors import ActionNotAllowedError, ConditionsNotMetError
from motcua.bootstrap import bootstrap
from motcua.settings import Settings
from tests.integration.test_cli import motcua
from tests.web.test_lifecycle_api import PDF, birth_form, marriage_form

pytestmark = pytest.mark.database


def returned(services, dossier_id: str, applicant):
    """Carry a submitted dossier through the one-stop lifecycle to the returned result."""
    act = services.actions.perform_action
    staff = {r: services.accounts.actor_for(r) for r in ("clerk", "leader", "specialist")}
    if applicant is not None:
        act(dossier_id, "submit", applicant)
    act(dossier_id, "receive", staff["clerk"])
    act(dossier_id, "assign", staff["leader"])
    act(dossier_id, "appraise", staff["specialist"])
    act(dossier_id, "approve", staff["leader"])
    return act(dossier_id, "return_result", staff["clerk"])


def person(services, pid: str):
    return services.prefill.prefiller.population.person(pid)


def file_birth(services, couple: dict):
    mother = services.accounts.actor_for(couple["wife"])
    d = services.filing.start_dossier("birth-registration", birth_form(couple), mother)
    services.filing.add_document(d.id, "medical_birth_notice", "gcs.pdf", PDF, mother)
    return d, mother


# --------------------------------------------------------------------------- the local register


def test_a_returned_birth_gives_the_child_a_personal_id_in_the_register_on_the_certificate_and_in_prefill(
        services, demo):
    couple = demo["scenarios"]["married_couple"]
    d, mother = file_birth(services, couple)
    view = returned(services, d.id, mother)
    [result] = view.results
    child_id = result.data["child_personal_id"]
    # 12 digits: Hà Nội's province code, 2 (a boy born 2000-2099), 26 (born 2026), six random digits
    assert len(child_id) == 12 and child_id.startswith("001226"), child_id
    assert sorted(result.holders) == sorted([couple["wife"], child_id])

    child = person(services, child_id)
    assert child.attributes["full_name"] == "Trần Minh Khôi" and str(child.attributes["date_of_birth"]) == "2026-02-20"
    assert (child.mother, child.father) == (couple["wife"], couple["husband"])
    wife = person(services, couple["wife"])
    assert child_id in wife.children
    assert child.attributes["current_address"] == wife.attributes["current_address"]
    assert child.attributes["current_unit"] == wife.attributes["current_unit"]

    # the signed certificate prints the id (its attached data is the result's data)
    with services.uow(write=False) as uow:
        r = uow.session.get(Result, result.id)
        assert r.status == "valid" and r.pdf_sha256 and r.data["child_personal_id"] == child_id

    # the write is logged, for the child, naming the dossier and the result
    [write] = services.writeback.list_writes(dossier_id=d.id)
    assert (write.rule, write.personal_id, write.result_id, write.status) == ("birth", child_id, result.id, "applied")
    assert write.change["create"] and write.change["links"] == {"mother": couple["wife"], "father": couple["husband"]}

    # the next procedure's prefill reads the register: the child's data by the id the mother gives
    pre = services.prefill.prefill_for("death-registration", mother, {"deceased_personal_id": child_id})
    assert pre.fields["deceased_full_name"].value == "Trần Minh Khôi"
    assert pre.fields["deceased_date_of_birth"].value == "2026-02-20"


def test_a_returned_marriage_makes_both_parties_married_to_each_other(services, demo):
    singles = demo["scenarios"]["single_adults"]
    wife = next(p["personal_id"] for p in singles if p["sex"] == "female")
    husband = next(p["personal_id"] for p in singles if p["sex"] == "male")
    actor = services.accounts.actor_for(wife)
    d = services.filing.start_dossier("marriage-registration", marriage_form(wife, husband), actor)
    view = returned(services, d.id, actor)
    assert view.state == "returned"
    w, h = person(services, wife), person(services, husband)
    assert (w.attributes["marital_status"], w.spouse) == ("married", husband)
    assert (h.attributes["marital_status"], h.spouse) == ("married", wife)
    assert {x.personal_id for x in services.writeback.list_writes(dossier_id=d.id)} == {wife, husband}
    # the next procedure sees it: her certificate of marital status is prefilled as married
    pre = services.prefill.prefill_for("marital-status-certification", actor)
    assert pre.fields["marital_status"].value == "married" and pre.fields["marital_status"].source == "population"


def test_a_returned_death_marks_the_person_deceased_locks_the_record_and_widows_the_spouse(services, demo):
    death = demo["scenarios"]["recent_death"]
    requester = services.accounts.actor_for(death["requester"])
    # everything about the death comes from the hospital's notice, the deceased from the register
    d = services.filing.start_dossier("death-registration", {
        "requester_relationship": "spouse", "deceased_personal_id": death["deceased"], "registration_type": "on_time"},
        requester)
    assert d.provenance["date_of_death"]["source"] == "results"
    view = returned(services, d.id, requester)
    assert view.state == "returned"
    dead, spouse = person(services, death["deceased"]), person(services, death["requester"])
    assert str(dead.attributes["date_of_death"]) == d.data["date_of_death"]
    assert spouse.attributes["marital_status"] == "widowed"
    assert {(w.personal_id, w.rule) for w in services.writeback.list_writes(dossier_id=d.id)} == {
        (death["deceased"], "death"), (death["requester"], "death")}

    # the record is locked: a second death registration fails its condition at submission, nothing is written
    again = services.filing.start_dossier("death-registration", {
        "requester_relationship": "spouse", "deceased_personal_id": death["deceased"], "registration_type": "on_time"},
        requester)
    with pytest.raises(ConditionsNotMetError) as refused:
        returned(services, again.id, requester)
    assert "life_status" in {c["rule"] for c in refused.value.conditions}
    assert services.dossiers.get_dossier(again.id, requester).state == "draft"
    assert len(services.writeback.list_writes(personal_id=death["deceased"])) == 1


def test_the_register_refuses_a_second_death_even_past_the_conditions(services, demo):
    """The write-back's own lock holds when the conditions were not checked (a register that was down at
    submission and receipt): the approval is refused, nothing is written."""
    death = demo["scenarios"]["recent_death"]
    requester = services.accounts.actor_for(death["requester"])
    first = services.filing.start_dossier("death-registration", {
        "requester_relationship": "spouse", "deceased_personal_id": death["deceased"], "registration_type": "on_time"},
        requester)
    again = services.filing.start_dossier("death-registration", {
        "requester_relationship": "spouse", "deceased_personal_id": death["deceased"], "registration_type": "on_time"},
        requester)
    act = services.actions.perform_action
    clerk, leader, specialist = (services.accounts.actor_for(r) for r in ("clerk", "leader", "specialist"))
    act(again.id, "submit", requester)  # both filed while he was alive in the register
    act(again.id, "receive", clerk)
    act(again.id, "assign", leader)
    act(again.id, "appraise", specialist)
    returned(services, first.id, requester)  # the first one is returned: he is deceased in the register
    with pytest.raises(ActionNotAllowedError, match="deceased"):
        act(again.id, "approve", leader)
    assert services.dossiers.get_dossier(again.id, requester).state == "awaiting_decision"
    assert len(services.writeback.list_writes(personal_id=death["deceased"])) == 1


def test_a_write_back_the_register_refuses_fails_the_approval_and_commits_nothing(services, demo):
    couple = demo["scenarios"]["married_couple"]
    d, mother = file_birth(services, couple)
    with services.uow() as uow:  # the agency has lost its province code: no personal id can be issued
        from engine.adapters.models import Agency
        uow.session.execute(Agency.__table__.update().values(province_code=None))
        uow.commit()
    with pytest.raises(ActionNotAllowedError, match="province code"):
        returned(services, d.id, mother)
    assert services.dossiers.get_dossier(d.id, mother).state == "awaiting_decision"
    with services.uow(write=False) as uow:
        assert uow.session.scalars(select(RegisterWrite)).all() == []
        assert uow.session.scalars(select(Result).where(Result.dossier_id == d.id)).all() == []


def test_issued_ids_retry_on_collision(services, demo):
    from engine.usecases.writeback import WriteBack

    taken = person(services, demo["scenarios"]["married_couple"]["wife"]).personal_id  # 001 1 91 ...
    serials = iter([int(taken[-6:]), int(taken[-6:]), 424242])
    wb = WriteBack(services.uow, services.clock, services.prefill.prefiller.population, serial=lambda: next(serials))
    from engine.rules.writeback import PersonChange

    with services.uow() as uow:
        pc = wb._with_id(uow.session, PersonChange(None, create=True, id_prefix=taken[:6]))
    assert pc.personal_id == taken[:6] + "424242"


# --------------------------------------------------------------------------- a remote register over HTTP


class FakeRegister:
    """A population register over HTTP (stdlib http.server in a thread): GET /<personal id>,
    POST /changes applied once per Idempotency-Key. ``refuse`` answers changes with 503 (an outage);
    ``lose_answer`` applies a change and then answers 500 (the acknowledgement is lost)."""

    def __init__(self, people: dict[str, dict]):
        self.people = people
        self.applied: list[str] = []
        self.posts = 0
        self.refuse = False
        self.lose_answer = False
        register = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                pid = self.path.strip("/")
                if pid in register.people:
                    self._send(200, register.people[pid])
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                register.posts += 1
                if self.path != "/changes":
                    return self._send(404, {})
                if register.refuse:
                    return self._send(503, {"error": "down for maintenance"})
                key = self.headers["Idempotency-Key"]
                if key != body["key"]:
                    return self._send(400, {})
                if key not in register.applied:
                    register.apply(body["people"])
                    register.applied.append(key)
                if register.lose_answer:
                    return self._send(500, {"error": "answer lost"})
                self._send(200, {"applied": key})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def apply(self, ops: list[dict]) -> None:
        for op in ops:
            record = self.people.setdefault(op["personal_id"], {"children": []}) if op["create"] else self.people[op["personal_id"]]
            record.update(op["set"])
            record.update(op["links"])
            for parent in ("father", "mother"):
                if op["create"] and op["links"].get(parent):
                    self.people[op["links"][parent]].setdefault("children", []).append(op["personal_id"])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def remote(services, demo, config, clock):
    """The demo's register served over HTTP, and services wired to it over the same database."""
    local = services.prefill.prefiller.population
    with services.uow(write=False) as uow:
        pids = uow.session.scalars(select(Person.personal_id)).all()
    people = {pid: person_payload(local.person(pid)) for pid in pids}
    with FakeRegister(people) as register:
        engine = make_engine(config["DATABASE_URL"])
        settings = Settings.from_environment({**config, "POPULATION_URL": register.url})
        remote_services = bootstrap(settings, engine=engine, clock=clock)
        yield register, remote_services, {f"MOTCUA_{k}": str(v) for k, v in config.items() if k != "TESTING"} | {
            "MOTCUA_POPULATION_URL": register.url}
        engine.dispose()


def test_a_remote_register_gets_the_birth_after_the_commit_through_an_outage_exactly_once(remote, demo, tmp_path):
    register, services, env = remote
    assert services.writeback.remote
    couple = demo["scenarios"]["married_couple"]
    d, mother = file_birth(services, couple)
    register.refuse = True  # the register reads fine but takes no changes

    view = returned(services, d.id, mother)  # the approval commits all the same
    child_id = view.results[0].data["child_personal_id"]
    [write] = services.writeback.list_writes(dossier_id=d.id)
    assert (write.status, write.attempts, write.personal_id) == ("pending", 1, child_id)
    assert child_id not in register.people and register.applied == []

    # a sweep during the outage: still pending, nothing lost
    report = services.writeback.deliver_pending()
    assert (report.sent, report.failed, report.pending) == (0, 1, 1)

    # the register applies the change but its answer is lost: we retry; it recognises the key
    register.refuse, register.lose_answer = False, True
    assert services.writeback.deliver_pending().failed == 1
    assert register.applied == [write.change_key]

    # `motcua sweep` posts it again and the register acknowledges it, without applying it twice
    register.lose_answer = False
    posts = register.posts
    result = motcua("sweep", data_dir=Path(env["MOTCUA_DATA_DIR"]), env=env)
    assert result.returncode == 0, result.stderr
    assert "register changes: 1 posted, 0 failed, 0 still pending" in result.stdout
    assert register.posts == posts + 1 and register.applied == [write.change_key]
    [write] = services.writeback.list_writes(dossier_id=d.id)
    assert write.status == "acknowledged" and write.sent_at is not None
    child = register.people[child_id]
    assert (child["full_name"], child["mother"], child["father"]) == ("Trần Minh Khôi", couple["wife"], couple["husband"])
    assert child_id in register.people[couple["wife"]]["children"]
    # a later sweep has nothing to send
    assert services.writeback.deliver_pending() .sent == 0


def test_a_remote_register_that_cannot_be_read_fails_the_approval_with_nothing_written(remote, demo):
    register, services, _ = remote
    couple = demo["scenarios"]["married_couple"]
    d, mother = file_birth(services, couple)
    register.server.shutdown()  # no answer at all now
    register.server.server_close()
    with pytest.raises(ActionNotAllowedError, match="register did not answer"):
        returned(services, d.id, mother)
    assert services.writeback.list_writes(dossier_id=d.id) == []
