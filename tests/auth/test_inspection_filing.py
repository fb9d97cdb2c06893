"""Inspectors file the on-site inspection and forum records only within their assignment (issue 13,
outcomes 4–6): an inspection for a project sampled in one of the group's cities and placed in that very
city, a forum in one of its cities; every refusal coded, in Chinese, audited, and nothing written.
An inspector reads no row of a form with a voucher (the checks included: attack K10) of a project not
sampled. The complaints are the province's to file."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from lib import submissions
from lib.auth import Forbidden
from lib.auth.policy import CREATE, READ, Assignments, can, comparable, row_city
from lib.auth.scope import get_record, visible_records
from lib.forms.columns import sheet_spec
from lib.forms.types import check_file

from .conftest import FS, GZ, INSPECTOR, PROVINCE, VOUCHER_KEYS, denials

TODAY = dt.date(2020, 10, 10)
HOME, AWAY = "广州", "佛山"  # the group inspects 广州; 佛山's sample is another group's


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def forms(store, catalog):
    """The shipped inspections, forums and complaints forms, their sheets in the store."""
    found = {kind: catalog.form(catalog.bindings.of(kind).form) for kind in ("inspections", "forums", "complaints", "checks")}
    for form in found.values():
        store.ensure_sheet(sheet_spec(form))
    return found


@pytest.fixture
def sample(store):
    """Two 附件1 projects placed in 广州 (one sampled there, one not) and one sampled in 佛山."""
    att1 = store.records("att1")
    gz = [r.values["voucher_no"] for r in att1 if r.values["client_city"] == HOME]
    fs = next(r.values["voucher_no"] for r in att1 if r.values["client_city"] == AWAY)
    return {"sampled": gz[0], "unsampled": gz[1], "away": fs}


@pytest.fixture
def assigned(sample):
    return Assignments({INSPECTOR.account: (HOME,)}, {HOME: frozenset({comparable(sample["sampled"])}),
                                                     AWAY: frozenset({comparable(sample["away"])})}, VOUCHER_KEYS,
                       {HOME: ("张三", "李四")})


def inspection(form, voucher: str, city: str) -> dict:
    """A complete inspection record (合格, so the findings section is not asked) with a photo."""
    return {"voucher_no": voucher, "city": city, "client_name": "某企业", "provider_name": "某服务商",
            "inspection_date": "2020-10-09", "members": "张三、李四", "lead_present": True, "site_visited": True,
            "usage_status": "正常使用", "satisfaction": "满意", "conclusion": "合格", "integrity_confirmed": True,
            "provider_absent": True, "evidence": [check_file(form.field("evidence"), "现场.png", _png())]}


def forum(city: str) -> dict:
    return {"city": city, "forum_date": "2020-10-09", "place": "市工信局会议室",
            "participants": [{"participant_name": "王五", "participant_unit": "某企业", "participant_kind": "企业"}],
            "opinions": [{"opinion_from": "企业", "opinion_content": "兑付慢", "opinion_category": "资金兑付"}]}


def _file(store, catalog, form, answers, actor=INSPECTOR, *, draft=False, assignments=None, row_id=None, base_rev=None):
    save = submissions.save_draft if draft else submissions.submit
    return save(store, form, answers, actor, cities=tuple(catalog.campaign.cities), today=TODAY, assignments=assignments,
                row_id=row_id, base_rev=base_rev)


def test_an_assigned_inspector_files_an_inspection_of_a_project_sampled_in_its_city(store, catalog, forms, sample, assigned):
    form = forms["inspections"]
    done = _file(store, catalog, form, inspection(form, sample["sampled"], HOME), assignments=assigned)
    assert done.ok, done.problems
    assert [r.values["voucher_no"] for r in store.records(form.id)] == [sample["sampled"]]
    assert [r.id for r in submissions.my_records(store, form, INSPECTOR, assignments=assigned)] == [done.record.id]
    assert denials(store) == []


@pytest.mark.parametrize("draft", [False, True])
@pytest.mark.parametrize("which, city, code", [
    ("unsampled", HOME, "not_sampled"),  # a project of its city the draw did not pick
    ("sampled", AWAY, "outside_assignment"),  # its sampled project, placed in another city
    ("away", HOME, "not_sampled"),  # a project sampled in another group's city, claimed for its own
    ("away", AWAY, "outside_assignment"),  # another group's project where it was drawn
])
def test_an_inspection_outside_the_sample_of_its_city_is_refused_audited_and_nothing_is_written(
        store, catalog, forms, sample, assigned, which, city, code, draft):
    form = forms["inspections"]
    with pytest.raises(Forbidden) as refused:
        _file(store, catalog, form, inspection(form, sample[which], city), draft=draft, assignments=assigned)
    assert refused.value.code == code
    message = str(refused.value)
    assert (sample[which] in message and "不在本组抽中的项目中" in message) if code == "not_sampled" else \
        (city in message and "不在本组检查的地市" in message and HOME in message)
    assert store.records(form.id) == []
    [denied] = denials(store)
    assert (denied.account, denied.form_id) == (INSPECTOR.account, form.id) and message in denied.note


def test_an_inspection_cannot_be_moved_out_of_the_sample_when_corrected(store, catalog, forms, sample, assigned):
    form = forms["inspections"]
    draft = _file(store, catalog, form, {"voucher_no": sample["sampled"], "city": HOME}, draft=True, assignments=assigned).record
    with pytest.raises(Forbidden) as refused:
        _file(store, catalog, form, inspection(form, sample["unsampled"], HOME), assignments=assigned, row_id=draft.id,
              base_rev=draft.rev)
    assert refused.value.code == "not_sampled"
    assert [(r.rev, r.values["voucher_no"]) for r in store.records(form.id)] == [(1, sample["sampled"])]


def test_a_forum_is_filed_only_in_a_city_of_the_group(store, catalog, forms, assigned):
    form = forms["forums"]
    assert _file(store, catalog, form, forum(HOME), assignments=assigned).ok
    for draft in (False, True):
        with pytest.raises(Forbidden) as refused:
            _file(store, catalog, form, forum(AWAY), draft=draft, assignments=assigned)
        assert refused.value.code == "outside_assignment" and AWAY in str(refused.value)
    assert [r.values["city"] for r in store.records(form.id)] == [HOME]
    assert len(denials(store)) == 2


@pytest.mark.parametrize("assignments", [None, Assignments()], ids=["not passed", "none in force"])
def test_an_inspector_without_an_assignment_files_nothing(store, catalog, forms, sample, assignments):
    for form, answers in ((forms["inspections"], inspection(forms["inspections"], sample["sampled"], HOME)),
                          (forms["forums"], forum(HOME))):
        assert not can(INSPECTOR, CREATE, form, assignments=assignments)
        for draft in (False, True):
            with pytest.raises(Forbidden) as refused:
                _file(store, catalog, form, answers, draft=draft, assignments=assignments)
            assert "没有检查任务" in str(refused.value)
        assert store.records(form.id) == []
    assert len(denials(store)) == 4


def test_an_inspector_reads_no_check_of_a_project_not_sampled(store, catalog, forms, assigned):
    """Attack K10: the checks form carries a voucher, so an assigned inspector reads the checks of its
    sampled projects only, not every row its city filed."""
    checks = forms["checks"]
    in_city = [r for r in store.records(checks.id) if row_city(checks, r) == HOME]
    assert len(in_city) >= 2, "the demo files several 附件3 rows in 广州"
    assert not any(comparable(r.values["voucher_no"]) in assigned.sampled[HOME] for r in in_city)
    assert visible_records(store, INSPECTOR, checks, assignments=assigned) == []
    with pytest.raises(Forbidden):
        get_record(store, INSPECTOR, checks, in_city[0].id, assignments=assigned)
    # its voucher sampled: that check, and no other of the city, is read (wherever else the row places itself)
    target = in_city[0]
    widened = Assignments(assigned.cities, {HOME: frozenset({comparable(target.values["voucher_no"])})}, VOUCHER_KEYS)
    assert [r.id for r in visible_records(store, INSPECTOR, checks, assignments=widened)] == [
        r.id for r in store.records(checks.id) if comparable(r.values["voucher_no"]) == comparable(target.values["voucher_no"])]
    assert get_record(store, INSPECTOR, checks, target.id, assignments=widened).id == target.id
    assert [e.row_id for e in denials(store)] == [in_city[0].id]


def test_the_province_records_complaints_and_no_other_role_can(store, catalog, forms, actors, assigned):
    form = forms["complaints"]
    answers = {"voucher_no": "SYQ-2019-4401-00001", "received_date": "2020-10-01", "source": "信访", "content": "项目未实际使用"}
    done = _file(store, catalog, form, answers, PROVINCE)
    assert done.ok, done.problems
    assert can(PROVINCE, READ, form, done.record)
    others = [(GZ, None), (FS, None), (actors["provider"], None), (actors["lead"], None), (INSPECTOR, assigned)]
    for actor, assignments in others:
        with pytest.raises(Forbidden):
            _file(store, catalog, form, answers, actor, assignments=assignments)
    assert [r.id for r in store.records(form.id)] == [done.record.id]
    assert len(denials(store)) == len(others)


def test_the_members_of_an_inspector_s_group_are_its_names():
    a = Assignments({"i1": ("甲", "乙"), "i2": ("甲",)}, {}, {}, {"甲": ("张三", "李四"), "乙": ("李四", "王五")})
    assert (a.members_of("i1"), a.members_of("i2"), a.members_of("i3")) == (("张三", "李四", "王五"), ("张三", "李四"), ())

