"""The demo: a synthetic world (an agency, its staff, families in the register, their results in the
store; see ``world``) and a working morning in the queue, filed and carried forward through the
ordinary use cases. The engine knows nothing of it."""
from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import random
from collections.abc import Callable
from typing import Any

from sqlalchemy import or_, select

from engine.adapters.models import Account, Agency, Person
from engine.usecases.services import Services
from motcua.demo import world
from signing import detached


def hospital_key(seed: int = 2026) -> str:
    """The demo hospital's private signing key (Ed25519, PEM), derived from the demo's seed: synthetic
    data only. ``motcua init --demo`` writes it to the data dir so that deposits can be tried."""
    return detached.ed25519_private_pem(hashlib.sha256(f"motcua-demo-hospital/{seed}".encode()).digest())


def deposit_signed(services: Services, username: str, private_key: str, body: dict) -> Any:
    """Deposit ``body`` as the agency client ``username``, signed like an outside issuer signs it."""
    signature = detached.sign(private_key, detached.canonical_json(body))
    return services.deposits.deposit_result(services.accounts.actor_for(username), body, signature)


def seed_notices(services: Services, scenarios: dict, seed: int) -> int:
    """The hospital's signed notices the demo scenarios need: the birth notice of the newborn
    scenario's child (held by its mother) and the death notice of the recent-death scenario. Deposited
    through the API's use case, once; returns how many were deposited."""
    now = services.clock()
    today = now.date()
    rng = random.Random(f"{seed}/notices")
    key = hospital_key(seed)
    place = f"{world.HOSPITAL_NAME_VI}, {world.CITY}"
    done = 0
    newborn = scenarios.get("newborn")
    if newborn and not newborn.get("birth_notice"):
        born = today - dt.timedelta(days=5)
        deposit_signed(services, world.HOSPITAL_USERNAME, key, {
            "evidence_type": "medical-birth-notice", "number": f"{rng.randrange(1, 9999):04d}/GCS-{born.year}",
            "issued_at": dt.datetime.combine(born + dt.timedelta(days=1), dt.time(10, 30)).isoformat(),
            "holders": [newborn["mother"]],
            "data": {"date_of_birth": born.isoformat(), "time_of_birth": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
                     "sex": rng.choice(("female", "male")), "place_of_birth": place,
                     "weight": rng.randrange(2700, 3900, 10), "mother_personal_id": newborn["mother"],
                     "issued_by": world.HOSPITAL_NAME_VI},
        })
        done += 1
    death = scenarios.get("recent_death")
    if death and not death.get("death_notice"):
        died = today - dt.timedelta(days=2)
        number = f"{rng.randrange(1, 9999):04d}/GBT-{died.year}"
        deposit_signed(services, world.HOSPITAL_USERNAME, key, {
            "evidence_type": "death-notice", "number": number,
            "issued_at": dt.datetime.combine(died + dt.timedelta(days=1), dt.time(9, 15)).isoformat(),
            "holders": [death["deceased"]],
            "data": {"date_of_death": died.isoformat(), "time_of_death": f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
                     "place_of_death": place, "cause_of_death": "Suy tim cấp", "notice_number": number,
                     "issued_by": world.HOSPITAL_NAME_VI, "issued_on": (died + dt.timedelta(days=1)).isoformat()},
        })
        done += 1
    return done


def seed_demo(services: Services, *, people: int = 1200, seed: int = 2026) -> dict[str, Any]:
    """Seed the synthetic world (idempotent) and describe it for demo.json."""

    def mapper(procedure_id: str, result_id: str) -> Callable[[dict], dict] | None:
        proc = services.catalogue.latest(procedure_id)
        spec = next((r for r in proc.results if r.id == result_id), None) if proc else None
        if spec is None:
            return None
        refs = [(key, ref.partition(".")[2]) for key, ref in spec.data if ref.startswith("form.")]
        return lambda form: {key: form.get(field_id) for key, field_id in refs}

    with services.uow() as uow:
        summary = world.seed_demo(
            uow.session, services.clock(), people=people, seed=seed,
            marriage_result_data=mapper("marriage-registration", "marriage-certificate"),
            birth_result_data=mapper("birth-registration", "birth-certificate"),
            hospital_public_key=detached.public_pem(hospital_key(seed)),
        )
        agency = uow.session.execute(select(Agency).where(Agency.code == summary.agency_code)).scalar_one()
        uow.commit()
    if seed_notices(services, summary.scenarios, seed):
        with services.uow(write=False) as uow:
            scenarios = world.demo_scenarios(uow.session, agency.id, services.clock().date())
        summary = dataclasses.replace(summary, scenarios=scenarios)
    return {
        "password": summary.password,
        "agency": {"code": agency.code, "name": agency.name_vi},
        "staff": {username: username for username in summary.staff},
        "staff_names": dict(summary.staff),
        "agency_client": summary.agency_client,
        "hospital_client": world.HOSPITAL_USERNAME,
        "people": summary.people,
        "scenarios": summary.scenarios,
    }


# What the demo's citizens ask a certificate of marital status for, in their own words.
DEMO_PURPOSES = (
    "Để bổ sung hồ sơ vay vốn mua nhà tại ngân hàng",
    "Để làm thủ tục chuyển nhượng quyền sử dụng đất",
    "Để đăng ký kết hôn tại Ủy ban nhân dân phường Ba Đình",
    "Để hoàn thiện hồ sơ xin việc",
    "Để làm thủ tục nhận con nuôi",
    "Để bổ sung hồ sơ du học",
    "Để làm hồ sơ xuất khẩu lao động",
    "Để làm thủ tục thừa kế",
)

# How far each demo dossier has come, as the actions that brought it there (and by which staff role).
DEMO_STAGES = (
    (),
    (),
    (("request_supplement", "clerk"),),
    (("receive", "clerk"),),
    (("receive", "clerk"), ("assign", "leader")),
    (("receive", "clerk"), ("assign", "leader")),
    (("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist")),
    (("receive", "clerk"), ("assign", "leader"), ("appraise", "specialist"), ("approve", "leader"),
     ("return_result", "clerk")),
)



def seed_demo_queue(services: Services, summary: dict[str, Any]) -> int:
    """A working morning for the demo agency, so that every staff role finds work in its queue:
    certificates of marital status filed online by demo citizens (never the ones the login page
    offers), each carried to a different stage through the ordinary use cases. Does nothing when
    the agency already has dossiers. Returns how many it filed."""
    actor_for = services.accounts.actor_for
    clerk = actor_for("clerk")
    if services.desk.list_dossiers(clerk).total:
        return 0
    named = {str(v) for scenario in summary.get("scenarios", {}).values()
             for v in (scenario.values() if isinstance(scenario, dict) else
                       [p.get("personal_id") for p in scenario if isinstance(p, dict)])}
    with services.uow(write=False) as uow:
        # residents of the agency's area: the procedure's conditions ask it of the person concerned
        unit = uow.session.scalar(select(Agency.unit_code).where(Agency.code == summary["agency"]["code"]))
        pids = uow.session.scalars(
            select(Account.username).join(Person, Person.personal_id == Account.personal_id)
            .where(Account.kind == "citizen", Person.date_of_death.is_(None),
                   or_(Person.permanent_unit == unit, Person.current_unit == unit))
            .order_by(Account.id)).all()
    applicants = [pid for pid in pids if pid not in named][:len(DEMO_STAGES)]
    staff = {role: actor_for(role) for role in ("clerk", "leader", "specialist")}
    perform = services.actions.perform_action
    for i, (pid, stage) in enumerate(zip(applicants, DEMO_STAGES)):
        citizen = actor_for(pid)
        form = {"requester_relationship": "self", "issuance_type": "first",
                "purpose": DEMO_PURPOSES[i % len(DEMO_PURPOSES)], "copies_count": 1 + i % 2}
        d = services.filing.start_dossier("marital-status-certification", form, citizen,
                                          idempotency_key=f"demo-queue-{pid}")
        d = perform(d.id, "submit", citizen)
        for action, role in stage:
            extra = {"items": ["Bản chụp Giấy chứng nhận kết hôn trước đây (nếu có)",
                               "Ghi rõ người dự định kết hôn và nơi đăng ký"]} if action == "request_supplement" else {}
            if action == "return_result":
                services.tasks.run_pending()  # a result is handed over once a worker has signed it
            d = perform(d.id, action, staff[role], **extra)
    services.tasks.run_pending()  # the demo opens with its slips and results signed
    return len(applicants)
