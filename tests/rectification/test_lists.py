"""The lists the office works from (issue 14 outcome 4), worked by hand on a real store: 问题清单, 任务清单,
责任清单, the overdue items and each viewer's own part of them (a city its city's, an organisation its own),
narrowed by city, status and category; an item's history as its audit trail."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import pytest

from lib.auth.errors import Forbidden
from lib.core.records import Actor
from lib.forms import load_catalog
from lib.rectification import lists as rl
from lib.rectification.generate import PARTY_WORDS as WORD
from lib.rectification.records import CANCELLED, CLOSED, IN_PROGRESS, ITEMS, PENDING, SUBMITTED
from lib.store.factory import open_store

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "forms")
PROVINCE = Actor("province", "province", "省厅")
CITY_GZ = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
CITY_FS = Actor("city_fs", "city", "佛山市工业和信息化局", "佛山")
YUNZHI = Actor("p1", "provider", "云智科技有限公司", "广州")
LEAD = Actor("lead", "lead_unit", "标杆牵头单位", "佛山")
TODAY = dt.date(2020, 10, 25)


def item(item_id, city, party_kind, party, actor_org, category, due, steps=(), **more):
    return {"item_id": item_id, "rule": "r", "source_kind": "projects", "source_form": "f", "source_row": item_id,
            "category": category, "city": city, "party_kind": party_kind, "party": party, "party_code": "",
            "actor_org": actor_org, "voucher": f"V-{item_id}", "project": f"项目{item_id}", "finding": f"问题{item_id}",
            "due": due, "steps": [{"step": s, "done": True, "text": ""} for s in steps], "evidence": [], "reason": "",
            "violations": [], **more}


# (values, status): 广州 two (a provider's own, a firm's its provider acts on), 佛山 two (one closed)
ITEMS_VALUES = [
    (item("ZG-1", "广州", "provider", "云智科技有限公司", "云智科技有限公司", "usage", dt.date(2020, 10, 31), ["resume_note"]), PENDING),
    (item("ZG-2", "广州", "firm", "甲制造有限公司", "云智科技有限公司", "inspection", dt.date(2020, 10, 20),
          ["rectify_report", "rectify_photos", "firm_letter"]), IN_PROGRESS),
    (item("ZG-3", "佛山", "provider", "另一服务商", "另一服务商", "check_failed", dt.date(2020, 10, 20)), CLOSED),
    (item("ZG-4", "佛山", "lead_unit", "标杆牵头单位", "标杆牵头单位", "benchmark", dt.date(2020, 11, 30), ["plan"]), SUBMITTED),
]


def stocked(folder):
    s = open_store("local", data_dir=folder / "data", background=False)
    s.ensure_sheet(ITEMS)
    s.append_batch([(ITEMS.form_id, v, status) for v, status in ITEMS_VALUES], actor=PROVINCE)
    return s


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    s = stocked(tmp_path_factory.mktemp("lists"))
    yield s
    s.close()


def lists(store, actor, today=TODAY, **narrowing):
    """Every list of ``actor`` on ``today``, by its key (``rl.LISTS``)."""
    items = rl.items_for(store, actor, rl.Narrowing(**narrowing))
    return SimpleNamespace(**{name: rl.office_list(name, items, CATALOG, actor, today) for name in rl.LISTS})


@pytest.mark.parametrize("actor, ids", [
    (PROVINCE, ["ZG-1", "ZG-2", "ZG-3", "ZG-4"]),
    (CITY_GZ, ["ZG-1", "ZG-2"]),
    (CITY_FS, ["ZG-3", "ZG-4"]),
    (YUNZHI, ["ZG-1", "ZG-2"]),  # its own item and the firm's it acts on
    (LEAD, ["ZG-4"]),
])
def test_the_problem_list_holds_one_row_per_item_the_viewer_may_see(store, actor, ids):
    assert lists(store, actor).problems[rl.ITEM_ID].tolist() == ids


def test_a_problem_row_names_category_city_party_project_finding_status_overdue_and_due(store):
    problems = lists(store, PROVINCE).problems.set_index(rl.ITEM_ID)
    assert list(problems.reset_index().columns) == ["整改编号", "整改类别", "督办地市", "责任主体", "项目/服务券", "发现的问题", "状态", "逾期",
                                                    "整改期限"]
    assert problems.loc["ZG-2"].tolist() == ["现场检查发现问题", "广州", "甲制造有限公司", "项目ZG-2（V-ZG-2）", "问题ZG-2", IN_PROGRESS, "逾期",
                                             dt.date(2020, 10, 20)]
    # past its due date but closed: not overdue; due later: not yet
    assert problems.loc[["ZG-1", "ZG-3", "ZG-4"], "逾期"].tolist() == ["", "", ""]


def test_overdue_is_judged_on_the_day_given(store):
    assert lists(store, PROVINCE).overdue[rl.ITEM_ID].tolist() == ["ZG-2"]
    assert lists(store, PROVINCE, dt.date(2020, 11, 1)).overdue[rl.ITEM_ID].tolist() == ["ZG-1", "ZG-2"]
    assert lists(store, PROVINCE, dt.date(2020, 10, 20)).overdue.empty  # the due day itself is in time


def test_the_task_list_has_each_step_of_each_open_item_with_the_evidence_it_needs(store):
    tasks = lists(store, PROVINCE).tasks
    assert [tuple(r) for r in tasks[[rl.ITEM_ID, rl.STEP, rl.EVIDENCE, rl.DONE]].itertuples(index=False)] == [
        ("ZG-1", "恢复使用情况说明", "文字说明", "是"),
        ("ZG-1", "近一个月活跃数据截图", "上传文件", "否"),
        ("ZG-1", "企业确认函", "上传文件", "否"),
        ("ZG-2", "整改情况报告", "上传文件", "是"),
        ("ZG-2", "整改后现场照片", "上传文件", "是"),
        ("ZG-2", "企业确认函", "上传文件", "是"),
        # ZG-3 is closed: no task left
        ("ZG-4", "整改计划及验收时间安排", "文字说明", "是"),
        ("ZG-4", "整改或专项审计报告", "上传文件", "否"),
    ]
    assert lists(store, LEAD).tasks[rl.ITEM_ID].tolist() == ["ZG-4", "ZG-4"]


def test_the_responsibility_list_counts_each_partys_items_by_status_and_overdue(store):
    parties = lists(store, PROVINCE).parties  # sorted by city, then the party kind's word, then the party
    shown = parties[[rl.CITY, rl.PARTY_KIND, rl.PARTY, PENDING, IN_PROGRESS, SUBMITTED, CLOSED, rl.LATE, rl.TOTAL]]
    assert [tuple(r) for r in shown.itertuples(index=False)] == [
        ("佛山", WORD["provider"], "另一服务商", 0, 0, 0, 1, 0, 1),
        ("佛山", WORD["lead_unit"], "标杆牵头单位", 0, 0, 1, 0, 0, 1),
        ("广州", WORD["firm"], "甲制造有限公司", 0, 1, 0, 0, 1, 1),
        ("广州", WORD["provider"], "云智科技有限公司", 1, 0, 0, 0, 0, 1),
    ]
    assert lists(store, CITY_GZ).parties[rl.PARTY].tolist() == ["甲制造有限公司", "云智科技有限公司"]


@pytest.mark.parametrize("actor, waiting", [
    (YUNZHI, [("ZG-1", "办理整改"), ("ZG-2", "办理整改、提交整改材料")]),  # every step of ZG-2 ticked: it may submit
    (CITY_FS, [("ZG-4", "核实整改材料")]),
    (CITY_GZ, []),  # its items wait for their provider
    (LEAD, []),  # submitted: the city's turn
    (PROVINCE, []),  # nothing verified to close
])
def test_the_waiting_list_holds_the_items_on_which_the_viewer_has_something_to_do(store, actor, waiting):
    shown = lists(store, actor).waiting
    assert [tuple(r) for r in shown[[rl.ITEM_ID, rl.ACTIONS]].itertuples(index=False)] == waiting


@pytest.mark.parametrize("narrowing, ids", [
    ({"city": "佛山"}, ["ZG-3", "ZG-4"]),
    ({"status": PENDING}, ["ZG-1"]),
    ({"category": "inspection"}, ["ZG-2"]),
    ({"city": "广州", "status": CLOSED}, []),
])
def test_every_list_narrows_by_city_status_and_category(store, narrowing, ids):
    narrowed = lists(store, PROVINCE, **narrowing)
    assert narrowed.problems[rl.ITEM_ID].tolist() == ids
    assert sorted(set(narrowed.tasks[rl.ITEM_ID])) == [i for i in ids if i != "ZG-3"]
    assert narrowed.parties[rl.TOTAL].sum() == len(ids)


def test_an_inspector_sees_no_item_and_the_refusal_is_audited(store):
    inspector = Actor("ins", "inspector", "检查组", "广州")
    with pytest.raises(Forbidden):
        rl.items_for(store, inspector)
    assert store.audit()[-1].account == "ins"


def test_a_city_narrowed_to_another_city_sees_nothing(store):
    assert lists(store, CITY_GZ, city="佛山").problems.empty


def test_an_items_history_is_its_audit_trail(tmp_path):
    store = stocked(tmp_path)
    try:
        [first] = [r for r in store.records(ITEMS.form_id) if r.values["item_id"] == "ZG-1"]
        moved = store.update(ITEMS.form_id, first.id, base_rev=first.rev, actor=YUNZHI, status=IN_PROGRESS)
        shown = rl.history(store, moved)
        assert shown["账号"].tolist() == ["province", "p1"]
        assert shown["变更内容"].tolist() == ["新增记录（19 个字段）", f"状态：{PENDING} → {IN_PROGRESS}"]
    finally:
        store.close()


def test_the_lists_name_the_categories_and_steps_of_the_campaign_served(tmp_path):
    """The other campaign (tests/campaigns/other): its own category, steps and evidence words, nothing of 2020's."""
    other = load_catalog(ROOT / "tests" / "campaigns" / "other")
    store = open_store("local", data_dir=tmp_path / "data", background=False)
    try:
        store.ensure_sheet(ITEMS)
        store.append(ITEMS.form_id, item("RT-1", "珠海", "firm", "乙企业", "丙服务商", "check_issue", dt.date(2021, 11, 15), ["city_review"]),
                     actor=PROVINCE, status=IN_PROGRESS)
        items = rl.items_for(store, PROVINCE)
        tasks = rl.office_list("tasks", items, other, PROVINCE, dt.date(2021, 11, 16))
        assert [tuple(r) for r in tasks[[rl.CATEGORY, rl.STEP, rl.EVIDENCE, rl.DONE]].itertuples(index=False)] == [
            ("地市核查未通过", "问题整改报告", "上传文件", "否"), ("地市核查未通过", "地市复查确认", "勾选确认", "是")]
        assert rl.office_list("overdue", items, other, PROVINCE, dt.date(2021, 11, 16))[rl.ITEM_ID].tolist() == ["RT-1"]
    finally:
        store.close()


def test_a_cancelled_item_is_counted_apart_never_overdue_and_has_no_task(tmp_path):
    s = stocked(tmp_path)
    s.append(ITEMS.form_id, item("ZG-5", "广州", "provider", "云智科技有限公司", "云智科技有限公司", "usage", dt.date(2020, 10, 1),
                                 ["resume_note"]), actor=PROVINCE, status=CANCELLED)
    seen = lists(s, PROVINCE, status=CANCELLED)
    assert seen.problems[rl.ITEM_ID].tolist() == ["ZG-5"] and seen.problems[rl.LATE].tolist() == [""]
    assert seen.overdue.empty and seen.tasks.empty and seen.waiting.empty
    row = seen.parties.iloc[0]
    assert (row[CANCELLED], row[CLOSED], row[rl.LATE], row[rl.TOTAL]) == (1, 0, 0, 1)
    s.close()
