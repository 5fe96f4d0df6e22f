"""The register access rule on its own: who may see a person's register data, on what basis."""
from __future__ import annotations

import pytest

from engine.rules.access import Actor
from engine.rules.register_access import (
    COUNTER_PURPOSE,
    ReadContext,
    SubjectRead,
    decide,
    purpose_of,
    reads_by_subject,
    takes_at_counter,
)

ME, SPOUSE, STRANGER, FRIEND = "001190000001", "001090000002", "036089000003", "036089000004"
CITIZEN = Actor(10, ME, "Chị A", "citizen", frozenset({"citizen"}), personal_id=ME)


def staff(*roles: str, agency: int = 1) -> Actor:
    return Actor(1, "s", "Cán bộ", "staff", frozenset(roles), agency_id=agency)


COMMUNE = dict(channels=("online", "counter"), authority="commune")
MINE = ReadContext(applicant=ME, family=frozenset({SPOUSE}), consented=frozenset({FRIEND}), **COMMUNE)
AT_COUNTER = ReadContext(applicant=STRANGER, reader_agency_level="commune", **COMMUNE)


@pytest.mark.parametrize("reader,subject,ctx,basis", [
    (CITIZEN, ME, MINE, "self"),
    (CITIZEN, SPOUSE, MINE, "family"),
    (CITIZEN, FRIEND, MINE, "consent"),
    (CITIZEN, STRANGER, MINE, None),
    # the channel of the dossier changes nothing for a citizen
    (CITIZEN, STRANGER, ReadContext(applicant=ME, dossier_channel="counter", dossier_agency_id=1, **COMMUNE), None),
    # nor can a citizen read for a dossier that is not theirs
    (CITIZEN, SPOUSE, ReadContext(applicant=STRANGER, family=frozenset({SPOUSE}), **COMMUNE), None),
    (staff("clerk"), STRANGER, AT_COUNTER, "counter_filing"),
    (staff("clerk"), STRANGER, ReadContext(reader_agency_level="province", **COMMUNE), None),
    (staff("clerk"), STRANGER, ReadContext(reader_agency_level="commune", channels=("online",), authority="commune"), None),
    (staff("clerk"), STRANGER, ReadContext(reader_agency_level="commune", dossier_agency_id=2, **COMMUNE), None),
    (staff("clerk"), STRANGER, ReadContext(reader_agency_level="commune", dossier_agency_id=1, dossier_channel="online",
                                           **COMMUNE), None),
    (staff("clerk"), STRANGER, ReadContext(reader_agency_level="commune", dossier_agency_id=1, dossier_channel="counter",
                                           **COMMUNE), "counter_filing"),
    *[(staff(role), STRANGER, AT_COUNTER, None) for role in ("specialist", "leader", "records", "admin")],
    (Actor(5, "agency", "Công an", "agency_client", agency_id=2), STRANGER, AT_COUNTER, None),
    (CITIZEN, None, MINE, None),
])
def test_who_sees_a_persons_register_data(reader, subject, ctx, basis):
    decision = decide(reader, subject, ctx)
    assert decision.basis == basis
    assert decision.logged == (basis not in (None, "self"))


def test_an_agency_takes_at_its_counter_the_procedures_of_its_level_filed_there():
    assert takes_at_counter(("online", "counter"), "commune", "commune")
    assert not takes_at_counter(("online",), "commune", "commune")
    assert not takes_at_counter(("counter",), "province", "commune")
    assert not takes_at_counter(("counter",), "commune", None)


def test_the_purpose_is_the_stated_one_bounded_else_the_default_of_the_reader():
    assert purpose_of(staff("clerk")) == COUNTER_PURPOSE
    assert purpose_of(staff("clerk"), "  Hồ sơ\nsố 12 ") == "Hồ sơ số 12"
    assert len(purpose_of(staff("clerk"), "x" * 1000)) == 300
    assert purpose_of(CITIZEN) != COUNTER_PURPOSE


def test_reads_are_logged_per_person_by_attribute_name_and_never_for_oneself():
    reads = [SubjectRead(SPOUSE, "family", "full_name"), SubjectRead(SPOUSE, "family", "date_of_birth"),
             SubjectRead(ME, "self", "full_name")]
    assert reads_by_subject(reads) == {SPOUSE: ("family", ("date_of_birth", "full_name"))}
