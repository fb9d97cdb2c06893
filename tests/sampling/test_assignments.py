"""The inspector draw recorded in the store and what it lets inspectors read (issue 13, outcome 4)."""

from __future__ import annotations

import datetime as dt

import pytest

from lib.auth.accounts import Account
from lib.auth.errors import Forbidden
from lib.auth.policy import READ, Assignments, can
from lib.auth.scope import get_record, visible_records
from lib.core import roles
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.forms.errors import FormDefinitionError
from lib.forms.loader import parse_campaign
from lib.forms.spec import Sampling
from lib.sampling import assignments as asg
from lib.sampling.assignments import ASSIGNMENTS, MEMBERS, assignments_in_force, current_assignment, draw_inspectors
from lib.sampling.draw import SeedInvalid
from lib.sampling.inspectors import InspectorDrawError, draw_groups, pool, refusal
from lib.sampling.parties import Known, places, sampled_parties
from lib.sampling.record import DRAW_ROWS, freeze, record_draw

from .conftest import CITY, OTHER, PROVINCE, ROOT, SHIPPED

DAY = dt.date(2020, 9, 23)
HOMES = ("广州", "广州", "佛山", "佛山", "汕头", "汕头", "深圳", "深圳", "珠海", "珠海", "东莞", "东莞")


def inspectors(homes=HOMES, *, declared=dt.date(2020, 9, 20)) -> list[Account]:
    return [Account(f"ins{n:02d}", roles.INSPECTOR, org=f"检查单位{n}", name=f"检查员{n}", city=home,
                    health_declared_on=declared.isoformat() if declared else "")
            for n, home in enumerate(homes)]


@pytest.mark.parametrize("size, code", [(0, "group_size_below_one"), (-2, "group_size_below_one"), (True, "int_type"),
                                        ("3", "int_type"), (2.5, "int_type")])
def test_the_group_size_is_a_whole_number_of_at_least_one(size, code):
    with pytest.raises(ValueError) as refused:
        Sampling(ratio=0.2, inspector_group_size=size)
    assert [e["type"] for e in refused.value.errors()] == [code]


def test_each_campaign_declares_its_group_size_and_a_size_of_zero_in_yaml_names_its_line():
    assert (SHIPPED.campaign.sampling.inspector_group_size, OTHER.campaign.sampling.inspector_group_size) == (3, 2)
    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")
    old = "  inspector_group_size: 3  #"
    assert text.count(old) == 1
    text = text.replace(old, "  inspector_group_size: 0  #", 1)
    with pytest.raises(FormDefinitionError) as refused:
        parse_campaign(text)
    [found] = refused.value.problems
    line = next(n for n, t in enumerate(text.splitlines(), 1) if t.startswith("  inspector_group_size: 0"))
    assert (found.code, found.where) == ("invalid_definition", f"campaign.yaml 第 {line} 行")
    assert "inspector_group_size" in found.message and "greater" not in found.message  # the model's Chinese words, not pydantic's


def _counts(store) -> dict[str, int]:
    return {sheet.form_id: len(store.records(sheet.form_id)) for sheet in asg.SHEETS}


@pytest.fixture
def drawn(stocked):
    """The stocked store frozen and drawn: 广州 2 projects, 佛山 1, 汕头 1."""
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    done = record_draw(stocked, SHIPPED, info.frame_id, "20200922", PROVINCE)
    return stocked, info, done


def _parties(store) -> dict[str, list[str]]:
    return sampled_parties([r.values for r in store.records(DRAW_ROWS.form_id)], Known.of(store, SHIPPED), places(SHIPPED))


def test_groups_are_drawn_for_every_sampled_city_and_recorded(drawn):
    store, _, done = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    size = SHIPPED.campaign.sampling.inspector_group_size
    assert size == 3 and [g.city for g in got.assignment.groups] == sorted(set(done.sample.drawn["city"]))
    assert all(len(g.members) == size for g in got.assignment.groups)
    home = {a.account: a.city for a in inspectors()}
    assert all(home[m] != g.city for g in got.assignment.groups for m in g.members), "never to the home city"
    parties = _parties(store)
    people = {i.account: i for i in pool(inspectors())}
    assert all(refusal(people[m], g.city, parties[g.city], DAY, places(SHIPPED)) is None
               for g in got.assignment.groups for m in g.members)
    [record] = store.records(ASSIGNMENTS.form_id)
    assert (record.status, record.owner, record.values["draw_id"], record.values["seed"], record.values["day"]) == (
        "有效", PROVINCE.account, done.draw_id, "7", "2020-09-23")
    assert (record.values["group_size"], record.values["algorithm"], record.values["inputs_sha256"]) == (
        size, got.assignment.algorithm, got.assignment.inputs_sha256)
    members = [r.values for r in store.records(MEMBERS.form_id)]
    assert sorted((m["city"], m["account"]) for m in members) == sorted((g.city, a) for g in got.assignment.groups for a in g.members)
    assert {m["name"] for m in members} <= {a.name for a in inspectors()}
    assert {(m["seed"], m["day"], m["group_size"], m["inputs_sha256"]) for m in members} == {("7", "2020-09-23", 3, got.assignment.inputs_sha256)}
    assert current_assignment(store) == got


def test_the_same_seed_and_inputs_give_the_same_groups(drawn):
    store, _, done = drawn
    got = draw_inspectors(store, SHIPPED, inspectors(), "20200923", PROVINCE, day=DAY)
    sampled = [r.values for r in store.records(DRAW_ROWS.form_id) if r.values["draw_id"] == done.draw_id]
    again = draw_groups(pool(inspectors()), sampled_parties(sampled, Known.of(store, SHIPPED), places(SHIPPED)), 3, 20200923, DAY,
                        places(SHIPPED))
    assert again.groups == got.assignment.groups and again.inputs_sha256 == got.assignment.inputs_sha256
    assert current_assignment(store).assignment == again  # read back from the store, the same assignment


def test_a_declared_conflict_with_a_sampled_provider_keeps_the_inspector_out_of_that_city(drawn):
    store, _, done = drawn
    rows = done.sample.drawn
    provider = rows.loc[rows["city"] == "佛山", "provider"].iloc[0]
    people = inspectors()
    people[4] = Account("ins04", roles.INSPECTOR, city="汕头", health_declared_on="2020-09-20", conflict_providers=(provider,))
    got = draw_inspectors(store, SHIPPED, people, "11", PROVINCE, day=DAY)
    assert got.assignment.city_of("ins04") != "佛山"
    parties = _parties(store)
    [ins04] = [i for i in pool(people) if i.account == "ins04"]
    assert refusal(ins04, "佛山", parties["佛山"], DAY) == "利益冲突"


def test_a_redraw_needs_a_reason_and_supersedes(drawn):
    store, _, _ = drawn
    first = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    before = _counts(store)
    with pytest.raises(InspectorDrawError) as refused:
        draw_inspectors(store, SHIPPED, inspectors(), "8", PROVINCE, day=DAY, reason="  ")
    assert refused.value.code == "redraw_reason_missing" and _counts(store) == before
    second = draw_inspectors(store, SHIPPED, inspectors(), "8", PROVINCE, day=DAY, reason="检查员临时有事")
    assert second.superseded == (first.assignment_id,)
    old, new = sorted(store.records(ASSIGNMENTS.form_id), key=lambda r: r.created_at)
    assert (old.status, old.values["superseded_by"], new.status, new.values["reason"]) == (
        "已被替换", second.assignment_id, "有效", "检查员临时有事")
    assert current_assignment(store).assignment_id == second.assignment_id
    assert any("检查员临时有事" in (e.note or "") for e in store.audit())


@pytest.mark.parametrize("homes, declared, code", [
    (("广州",) * 12, dt.date(2020, 9, 20), "inspectors_short"),  # nobody may go to 广州
    (HOMES, dt.date(2020, 9, 1), "inspectors_short"),  # every health declaration is stale on the draw day
    (HOMES, None, "inspectors_short"),  # nobody declared
    (HOMES[:8], dt.date(2020, 9, 20), "inspectors_short_together"),  # 9 places, 8 inspectors
])
def test_an_impossible_pool_is_refused_naming_the_city_and_nothing_is_written(drawn, homes, declared, code):
    store, _, _ = drawn
    with pytest.raises(InspectorDrawError) as refused:
        draw_inspectors(store, SHIPPED, inspectors(homes, declared=declared), "7", PROVINCE, day=DAY)
    assert refused.value.code == code and refused.value.cities
    assert all(f"「{c}」" in str(refused.value) for c in refused.value.cities)
    assert _counts(store) == dict.fromkeys(_counts(store), 0)


def test_no_project_draw_a_bad_seed_or_another_role_writes_nothing(stocked):
    with pytest.raises(InspectorDrawError) as refused:
        draw_inspectors(stocked, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    assert refused.value.code == "no_active_draw"
    info, _ = freeze(stocked, SHIPPED, PROVINCE)
    record_draw(stocked, SHIPPED, info.frame_id, "1", PROVINCE)
    for seed in ("", "七", "-3"):
        with pytest.raises(SeedInvalid):
            draw_inspectors(stocked, SHIPPED, inspectors(), seed, PROVINCE, day=DAY)
    with pytest.raises(Forbidden):
        draw_inspectors(stocked, SHIPPED, inspectors(), "7", CITY, day=DAY)
    assert [e.account for e in stocked.audit() if e.action == "拒绝访问"] == [CITY.account]
    assert _counts(stocked) == dict.fromkeys(_counts(stocked), 0)
    assert current_assignment(stocked) is None and assignments_in_force(stocked, SHIPPED) == Assignments()


def test_a_project_redraw_ends_the_assignment_until_inspectors_are_drawn_again(drawn):
    store, info, _ = drawn
    first = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    redone = record_draw(store, SHIPPED, info.frame_id, "99", PROVINCE, reason="种子公布有误")
    assert current_assignment(store) is None and assignments_in_force(store, SHIPPED).cities == {}
    again = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)  # a new sample: no reason needed
    assert (again.draw_id, again.superseded) == (redone.draw_id, (first.assignment_id,))
    assert current_assignment(store).assignment_id == again.assignment_id


def _file_project(store, voucher: str, city: str):
    binding = SHIPPED.bindings.of("projects")
    store.ensure_sheet(sheet_spec(SHIPPED.form(binding.form)))
    values = {binding.key("voucher"): voucher, binding.key("city"): city, binding.key("provider"): "服务商0"}
    return store.append(binding.form, values, actor=Actor("p0", roles.PROVIDER, "服务商0", city), status=SUBMITTED)


def test_an_inspector_reads_only_the_sampled_projects_of_its_group(drawn):
    store, _, done = drawn
    sampled = set(done.sample.drawn["voucher"])
    rows = {v: _file_project(store, v, "广州") for v in ("V-000000", "V-000001", "V-000002", "V-000003", "V-000004", "V-000005")}
    got = draw_inspectors(store, SHIPPED, inspectors(), "7", PROVINCE, day=DAY)
    ins_gz = Actor(got.assignment.members("广州")[0], roles.INSPECTOR, "检查单位")
    ins_fs = Actor(got.assignment.members("佛山")[0], roles.INSPECTOR, "检查单位")
    assigned = assignments_in_force(store, SHIPPED)
    form = SHIPPED.form(SHIPPED.bindings.of("projects").form)
    mine = {r.values[SHIPPED.bindings.of("projects").key("voucher")] for r in visible_records(store, ins_gz, form, assignments=assigned)}
    assert mine == {v for v in rows if v in sampled} and 0 < len(mine) < len(rows)
    outside = next(r for v, r in rows.items() if v not in sampled)
    with pytest.raises(Forbidden):
        get_record(store, ins_gz, form, outside.id, assignments=assigned)
    assert visible_records(store, ins_fs, form, assignments=assigned) == []  # 佛山's group reads none of 广州's projects
    with pytest.raises(Forbidden):
        get_record(store, ins_fs, form, rows[min(mine)].id, assignments=assigned)
    assert not can(ins_fs, READ, form, rows[min(mine)], assigned)
    with pytest.raises(Forbidden):  # without the assignment passed, an inspector reads nothing
        visible_records(store, ins_gz, form)
