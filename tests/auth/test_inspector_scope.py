"""An inspector reads and writes only its assignment (issue 13, outcome 4): the rows placed in its
group's city, and of every form with a voucher (the projects, the checks …) only the rows of the
projects sampled there; nothing without an assignment. The forbidden cases beside the other roles'
are in test_policy.CASES; writing the inspection and forum records: test_inspection_filing."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from lib import submissions
from lib.auth import Forbidden
from lib.auth.policy import CREATE, EDIT, READ, Assignments, Reach, authorize, can, comparable, reach, row_city
from lib.auth.scope import get_record, visible_records
from lib.campaign.board.scope import scope_for
from lib.core.statuses import FILED

from .conftest import GZ, INSPECTOR, VOUCHER_KEYS, denials

CITY = "广州"


@pytest.fixture
def sampled(store):
    """Two filed 附件1 rows placed in 广州 are the city's sample (one voucher written otherwise: case and width)."""
    first, second = [r for r in store.records("att1") if r.values["client_city"] == CITY and r.status in FILED][:2]
    return first, second


@pytest.fixture
def assigned(sampled):
    vouchers = frozenset(comparable(r.values["voucher_no"]) for r in sampled)
    return Assignments({INSPECTOR.account: (CITY,)}, {CITY: vouchers, "佛山": frozenset({"NOT-A-VOUCHER"})}, VOUCHER_KEYS)


def test_inside_its_assignment_an_inspector_reads_the_sampled_projects_and_the_citys_rows(store, catalog, sampled, assigned):
    att1 = visible_records(store, INSPECTOR, catalog.form("att1"), assignments=assigned)
    assert {r.id for r in att1} == {r.id for r in sampled}
    att2 = catalog.form("att2")  # no voucher: the rows placed in its city
    rows = visible_records(store, INSPECTOR, att2, assignments=assigned)
    assert {r.id for r in rows} == {r.id for r in store.records("att2") if row_city(att2, r) == CITY and r.status in FILED}
    # 附件3 carries a voucher: only the checks of the sampled projects (attack K10), none of the city's others
    checks = [r for r in store.records("att3") if row_city(catalog.form("att3"), r) == CITY and r.status in FILED]
    assert checks, "the demo files 附件3 in 广州"
    mine = assigned_with(assigned, checks[0].values["voucher_no"])
    read = [r.id for r in visible_records(store, INSPECTOR, catalog.form("att3"), assignments=mine)]
    assert checks[0].id in read and read == [r.id for r in store.records("att3")
                                             if comparable(r.values["voucher_no"]) in mine.sampled[CITY] and r.status in FILED]
    assert get_record(store, INSPECTOR, catalog.form("att1"), sampled[0].id, assignments=assigned).id == sampled[0].id
    assert denials(store) == []


def assigned_with(assigned: Assignments, voucher: str) -> Assignments:
    """``assigned`` with ``voucher`` sampled in its city too."""
    return replace(assigned, sampled={**assigned.sampled, CITY: assigned.sampled[CITY] | {comparable(voucher)}})


def test_a_sampled_voucher_is_read_as_written_otherwise_and_wherever_its_row_places_it(store, catalog, sampled, assigned):
    form = catalog.form("att1")
    row = sampled[0]
    shouting = row.values["voucher_no"].lower().replace("-", "－")  # full-width dash, other case: the same voucher
    moved = {**row.values, "voucher_no": f" {shouting} ", "client_city": "佛山"}
    assert can(INSPECTOR, READ, form, replace(row, values=moved), assigned)


def test_outside_its_assignment_an_inspector_reads_nothing_and_each_refusal_is_audited(store, catalog, sampled, assigned):
    form = catalog.form("att1")
    other = next(r for r in store.records("att1") if r.values["client_city"] == CITY and r.id not in {s.id for s in sampled})
    with pytest.raises(Forbidden) as refused:
        get_record(store, INSPECTOR, form, other.id, assignments=assigned)
    assert refused.value.code == "forbidden" and CITY in str(refused.value) and other.id in str(refused.value)
    elsewhere = next(r for r in store.records("att3") if row_city(catalog.form("att3"), r) != CITY)
    with pytest.raises(Forbidden):
        get_record(store, INSPECTOR, catalog.form("att3"), elsewhere.id, assignments=assigned)
    someone_else = Assignments({"ins_other": (CITY,)}, assigned.sampled, VOUCHER_KEYS)
    with pytest.raises(Forbidden) as unassigned:  # the assignment in force names other inspectors only
        visible_records(store, INSPECTOR, form, assignments=someone_else)
    assert "没有检查任务" in str(unassigned.value)
    assert [e.row_id for e in denials(store)] == [other.id, elsewhere.id, ""]


def test_an_inspector_writes_only_inside_its_assignment(store, catalog, sampled, assigned):
    """A form with a voucher the inspectors fill (附件3 made theirs here): a row placed in the group's
    city about a project sampled there only; a form without one (附件2 made theirs): a row placed in the
    group's city; nothing without an assignment; nothing is written when refused."""
    form = catalog.form("att3").model_copy(update={"filled_by": "inspector", "reviewed_by": "province"})
    inspector = INSPECTOR  # no city of its own: 附件3's city field answers from the account's city
    ours = sampled[0].values["voucher_no"]
    assert can(inspector, CREATE, form, None, assigned) and can(inspector, CREATE, form, {"city": CITY, "voucher_no": ours}, assigned)
    for values in ({"city": "佛山", "voucher_no": ours}, {"city": "深圳"}, {}, {"city": CITY}, {"city": CITY, "voucher_no": "NOT-A-VOUCHER"},
                   {"city": "佛山", "voucher_no": "NOT-A-VOUCHER"}):
        assert not can(inspector, CREATE, form, values, assigned), values
    assert not can(inspector, CREATE, form) and not can(inspector, CREATE, form, {"city": CITY, "voucher_no": ours})
    reports = catalog.form("att2").model_copy(update={"filled_by": "inspector", "reviewed_by": "province"})
    assert can(inspector, CREATE, reports, {"city": CITY}, assigned) and not can(inspector, CREATE, reports, {"city": "佛山"}, assigned)
    check = next(r for r in store.records("att3") if row_city(form, r) == CITY
                 and comparable(r.values["voucher_no"]) not in assigned.sampled[CITY])
    check = replace(check, owner=inspector.account)  # filed by the inspector itself (a row filed by another group: test_inspection_filing)
    assert can(inspector, EDIT, form, check, assigned_with(assigned, check.values["voucher_no"]))
    assert not can(inspector, EDIT, form, check, assigned)
    before = {r.id: r.rev for r in store.records("att3")}
    with pytest.raises(Forbidden) as refused:
        authorize(store, inspector, CREATE, form, {"city": "深圳"}, assignments=assigned)
    assert refused.value.code == "outside_assignment" and CITY in str(refused.value) and "深圳" in str(refused.value)
    with pytest.raises(Forbidden) as refused:
        authorize(store, inspector, CREATE, form, {"city": CITY, "voucher_no": "NOT-A-VOUCHER"}, assignments=assigned)
    assert refused.value.code == "not_sampled" and "NOT-A-VOUCHER" in str(refused.value)
    with pytest.raises(Forbidden):  # the filling path given no assignment: refused, nothing written
        submissions.save_draft(store, form, {"city": CITY, "voucher_no": ours}, inspector, cities=tuple(catalog.campaign.cities))
    assert {r.id: r.rev for r in store.records("att3")} == before
    assert len(denials(store)) == 3


def test_the_reach_of_an_inspector_is_its_cities_judged_row_by_row_or_over_columns(assigned):
    r = reach(INSPECTOR, assigned)
    assert (r.how, r.cities, r.narrows("att1"), r.narrows("att3"), r.narrows("att2")) == ("cities", (CITY,), True, True, False)
    assert (r.voucher_key("att3"), r.voucher_key("att2"), r.sampled_in(CITY), r.sampled_in("佛山")) == (
        "voucher_no", "", assigned.sampled[CITY], frozenset())
    cities = np.array([CITY, "佛山", "", CITY], dtype=object)
    assert r.admits(cities, cities, cities).tolist() == [True, False, False, True]
    assert Reach("cities", cities=(CITY, "佛山")).admits("佛山", "", "") and not Reach("cities").admits(CITY, "", "")
    assert reach(INSPECTOR) == Reach() and reach(INSPECTOR, Assignments()) == Reach()
    assert reach(GZ, assigned) == reach(GZ), "an assignment changes an inspector's reach only"


def test_the_board_gives_an_inspector_without_an_assignment_nothing(catalog):
    scope = scope_for(INSPECTOR, catalog.forms())
    assert scope.reach.how == "none" and scope.forms == ()
