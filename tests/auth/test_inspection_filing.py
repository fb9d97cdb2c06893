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
from lib.auth.policy import CREATE, EDIT, READ, Assignments, can, comparable, row_city
from lib.auth.scope import editable_records, get_record, visible_records
from lib.core.records import Actor
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



def test_the_city_under_inspection_reads_the_group_s_inspection_once_filed_and_never_its_forum(store, catalog, forms, sample,
                                                                                                 assigned):
    """Attack M14: the group's draft conclusion and its forum record (candid opinions naming the city
    bureau) are not read by the bureau under inspection; the filed inspection is, the forum never (its
    YAML: ``read_by: [province]``). The province reads both, drafts too; a provider reads neither."""
    inspections, forums = forms["inspections"], forms["forums"]
    draft = _file(store, catalog, inspections, {"voucher_no": sample["sampled"], "city": HOME, "conclusion": "不合格"},
                  draft=True, assignments=assigned).record
    talk = _file(store, catalog, forums, forum(HOME), assignments=assigned).record
    talk_draft = _file(store, catalog, forums, {"city": HOME, "place": "会议室"}, draft=True, assignments=assigned).record
    assert forums.read_by == ("province",) and inspections.read_by is None
    assert visible_records(store, GZ, inspections) == []
    with pytest.raises(Forbidden) as refused:
        get_record(store, GZ, inspections, draft.id)
    assert "尚未提交" in str(refused.value) and draft.id in str(refused.value)
    assert not can(GZ, READ, forums) and not can(GZ, READ, forums, talk)
    with pytest.raises(Forbidden):
        visible_records(store, GZ, forums)
    # filed, the inspection is the group's finding: the city bureau reads it (its city's only)
    filed = _file(store, catalog, inspections, inspection(inspections, sample["sampled"], HOME), assignments=assigned,
                  row_id=draft.id, base_rev=draft.rev).record
    assert [r.id for r in visible_records(store, GZ, inspections)] == [filed.id]
    assert visible_records(store, FS, inspections) == []
    assert {r.id for r in visible_records(store, PROVINCE, forums)} == {talk.id, talk_draft.id}
    assert {r.id for r in visible_records(store, INSPECTOR, forums, assignments=assigned)} == {talk.id, talk_draft.id}
    provider = Actor("p1", "provider", "某服务商")
    assert not can(provider, READ, inspections, filed) and not can(provider, READ, forums, talk)


def test_a_draft_before_the_project_is_chosen_is_refused_saying_so(store, catalog, forms, assigned):
    """Attack M13: a draft with the city and members but no 服务券编号 yet is told to choose the project
    first (code ``not_chosen``), not that "None" is outside the sample; nothing is written."""
    form = forms["inspections"]
    for answers in ({"city": HOME, "members": "张三、李四"}, {"city": HOME, "voucher_no": "", "members": "张三"}):
        with pytest.raises(Forbidden) as refused:
            _file(store, catalog, form, answers, draft=True, assignments=assigned)
        message = str(refused.value)
        assert refused.value.code == "not_chosen" and "尚未填写" in message and "None" not in message, message
        assert form.field("voucher_no").label in message and HOME in message
    assert store.records(form.id) == []


def test_after_an_inspector_redraw_the_next_group_does_not_rewrite_the_last_group_s_record(store, catalog, forms, sample):
    """Attack M10: ins02 files the inspection in 广州; the inspectors are drawn again, ins02 goes to 佛山 and
    ins07 to 广州. ins07 reads the record (its city's sampled project) but may not change or withdraw it
    (code ``other_group``, audited); a colleague in ins02's group may, as before the redraw."""
    form = forms["inspections"]
    ins02, ins07, ins09 = (Actor(a, "inspector", "省检查组") for a in ("ins02", "ins07", "ins09"))
    sampled = {HOME: frozenset({comparable(sample["sampled"])}), AWAY: frozenset({comparable(sample["away"])})}
    first = Assignments({"ins02": (HOME,), "ins09": (HOME,), "ins07": (AWAY,)}, sampled, VOUCHER_KEYS)
    done = _file(store, catalog, form, inspection(form, sample["sampled"], HOME), ins02, assignments=first)
    assert done.ok, done.problems
    record = done.record
    assert can(ins09, EDIT, form, record, first)  # the group that filed it: any of its members
    again = Assignments({"ins02": (AWAY,), "ins07": (HOME,), "ins09": (AWAY,)}, sampled, VOUCHER_KEYS)
    assert can(ins07, READ, form, record, again) and not can(ins07, EDIT, form, record, again)
    assert editable_records(store, ins07, form, assignments=again) == []
    changed = dict(record.values, conclusion="不合格")
    with pytest.raises(Forbidden) as refused:
        _file(store, catalog, form, changed, ins07, assignments=again, row_id=record.id, base_rev=record.rev)
    assert refused.value.code == "other_group" and "ins02" in str(refused.value)
    with pytest.raises(Forbidden):
        submissions.withdraw(store, form, record.id, ins07, base_rev=record.rev, assignments=again)
    assert [(r.rev, r.values["conclusion"]) for r in store.records(form.id)] == [(1, "合格")]
    assert [e.account for e in denials(store)] == ["ins07", "ins07"]
    # a group that has both (ins02 back in 广州 with ins07): the record is its group's again
    both = Assignments({"ins02": (HOME,), "ins07": (HOME,)}, sampled, VOUCHER_KEYS)
    assert can(ins07, EDIT, form, record, both)
