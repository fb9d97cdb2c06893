"""待办 (issue 14, outcome 6): what waits for each role, on a real local store with the shipped campaign:
a provider's returned row, its draft and its rectification item; a lead unit that has filed nothing; a
city's rows to review and items to verify; the province's rows to review and items to close; an
inspector's assigned inspections — each with its due date, 逾期 on the campaign clock, and where it opens."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from lib.auth.accounts import Account
from lib.campaign.register import store as reg
from lib.campaign.register import upload
from lib.campaign.register.kinds import register_kinds
from lib.core import roles
from lib.core.records import Actor
from lib.core.statuses import DRAFT, RETURNED, SUBMITTED
from lib.forms import load_catalog
from lib.forms.columns import sheet_spec
from lib.forms.types import credit_code_check_char
from lib.office.excel import SheetRows
from lib.rectification.lists import LISTS
from lib.rectification.records import CLOSED, IN_PROGRESS, ITEMS, PENDING, VERIFIED
from lib.rectification.records import SUBMITTED as ITEM_SUBMITTED
from lib.sampling.assignments import assignments_in_force, current_assignment, draw_inspectors
from lib.sampling.record import draw_rows, freeze, record_draw
from lib.store.factory import open_store
from lib.todo import DRAFTED, FORM, ITEM, ITEM_QUERY, ITEMS_EACH, RETURNED_ROW, TO_INSPECT, TO_REVIEW, WAITING, todo

ROOT = Path(__file__).resolve().parents[1]
CATALOG = load_catalog(ROOT / "forms")
PROVINCE = Actor("province", roles.PROVINCE, "省厅")
CITY = Actor("city_gz", roles.CITY, "广州市工业和信息化局", "广州")
PROVIDER = Actor("provider_a", roles.PROVIDER, "服务商甲", "广州")
OTHER_PROVIDER = Actor("provider_b", roles.PROVIDER, "服务商乙", "佛山")
LEAD = Actor("lead_a", roles.LEAD_UNIT, "牵头单位甲", "广州")
DUE = CATALOG.campaign.rectification.due
BEFORE, AFTER = DUE - dt.timedelta(days=5), DUE + dt.timedelta(days=2)
ATT1_DUE = CATALOG.campaign.deadlines[CATALOG.form(CATALOG.bindings.of("projects").form).deadline]


@pytest.fixture
def store(tmp_path):
    s = open_store("local", data_dir=tmp_path / "data", background=False)
    for form in CATALOG.forms():
        s.ensure_sheet(sheet_spec(form))
    s.ensure_sheet(ITEMS)
    yield s
    s.close()


def project(store, actor: Actor, voucher: str, status: str = SUBMITTED):
    b = CATALOG.bindings.of("projects")
    values = {b.key("voucher"): voucher, b.key("firm"): f"企业{voucher}", b.key("provider"): actor.org, b.key("city"): actor.city}
    return store.append(b.form, values, actor=actor, status=status)


def benchmark(store, actor: Actor, name: str, city: str):
    b = CATALOG.bindings.of("benchmarks")
    return store.append(b.form, {b.key("project"): name, b.key("lead_unit"): actor.org, b.key("city"): city}, actor=actor, status=SUBMITTED)


def item(store, n: int, status: str, *, city="广州", org="服务商甲", due=DUE):
    values = {"item_id": f"ZG-{n:03d}", "rule": "manual", "category": CATALOG.campaign.rectification.categories[0].key, "city": city,
              "party_kind": roles.PROVIDER, "party": org, "actor_org": org, "voucher": f"V-{n}", "project": f"项目{n}",
              "finding": "停用", "due": due, "steps": [], "evidence": [], "violations": []}
    record = store.append(ITEMS.form_id, values, actor=PROVINCE, status=PENDING)
    path = (PENDING, IN_PROGRESS, ITEM_SUBMITTED, VERIFIED, CLOSED)
    for step in path[1:path.index(status) + 1]:
        record = store.update(ITEMS.form_id, record.id, base_rev=record.rev, actor=PROVINCE, status=step)
    return record


def returned(store, record, reason: str):
    return store.update(record.form_id, record.id, base_rev=record.rev, actor=PROVINCE, status=RETURNED, note=reason)


def kinds(entries) -> list[str]:
    return [e.kind for e in entries]


def test_a_provider_sees_its_returned_row_its_draft_and_its_item_with_where_each_opens(store):
    back = returned(store, project(store, PROVIDER, "V-1"), "服务券编号有误")
    draft = project(store, PROVIDER, "V-2", DRAFT)
    project(store, OTHER_PROVIDER, "V-3", DRAFT)  # another provider's: not on this list
    mine = item(store, 1, PENDING)
    item(store, 2, PENDING, org="服务商乙", city="佛山")
    entries = todo(store, CATALOG, PROVIDER, BEFORE)
    assert sorted(kinds(entries)) == sorted([RETURNED_ROW, DRAFTED, ITEM])  # it filed a row: the form is not 尚未报送
    by = {e.kind: e for e in entries}
    form = CATALOG.bindings.of("projects").form
    assert dict(by[RETURNED_ROW].query) == {"form": form, "row": back.id} and by[RETURNED_ROW].page == "fill"
    assert "服务券编号有误" in by[RETURNED_ROW].detail and by[RETURNED_ROW].due == ATT1_DUE
    assert dict(by[DRAFTED].query) == {"form": form, "row": draft.id}
    assert dict(by[ITEM].query) == {ITEM_QUERY: mine.id} and by[ITEM].page == "rectification" and by[ITEM].due == DUE
    assert "ZG-001" in by[ITEM].detail and not by[ITEM].overdue
    # the row returned and the draft are late on the campaign clock (past 附件1's deadline); the item not yet
    assert by[RETURNED_ROW].overdue and by[DRAFTED].overdue
    assert kinds(entries)[-1] == ITEM  # overdue first


def test_past_its_due_date_an_item_is_overdue_and_first_and_a_closed_or_submitted_one_waits_on_others(store):
    late = item(store, 1, IN_PROGRESS, due=BEFORE - dt.timedelta(days=40))
    item(store, 2, ITEM_SUBMITTED)  # the city's to verify now
    item(store, 3, CLOSED)
    project(store, PROVIDER, "V-1")
    entries = todo(store, CATALOG, PROVIDER, AFTER)
    assert kinds(entries) == [ITEM]
    assert entries[0].overdue and dict(entries[0].query)[ITEM_QUERY] == late.id


def test_the_board_count_of_unfiled_entries_makes_a_form_due_and_none_left_makes_it_not(store):
    project(store, PROVIDER, "V-1")
    form = CATALOG.bindings.of("projects").form
    due = todo(store, CATALOG, PROVIDER, BEFORE, unfiled={form: 3})
    assert kinds(due) == [FORM] and "3" in due[0].detail and dict(due[0].query) == {"form": form}
    assert todo(store, CATALOG, PROVIDER, BEFORE, unfiled={form: 0}) == []


def test_a_lead_unit_that_filed_nothing_is_asked_for_its_report_by_the_deadline(store):
    form = CATALOG.form(CATALOG.bindings.of("benchmarks").form)
    entries = todo(store, CATALOG, LEAD, dt.date(2020, 9, 10))
    assert [(e.kind, e.due, e.overdue) for e in entries] == [(FORM, CATALOG.campaign.deadlines[form.deadline], False)]
    assert todo(store, CATALOG, LEAD, dt.date(2020, 9, 30))[0].overdue
    benchmark(store, LEAD, "标杆项目", "广州")
    assert todo(store, CATALOG, LEAD, dt.date(2020, 9, 30)) == []


def test_a_city_sees_its_rows_to_review_and_its_items_to_verify(store):
    benchmark(store, LEAD, "广州项目一", "广州")
    benchmark(store, LEAD, "广州项目二", "广州")
    benchmark(store, LEAD, "佛山项目", "佛山")  # 佛山's bureau reviews it
    verify = item(store, 1, ITEM_SUBMITTED)
    item(store, 2, ITEM_SUBMITTED, city="佛山")
    item(store, 3, PENDING)  # the provider's to act on
    entries = todo(store, CATALOG, CITY, BEFORE)
    reviews = [e for e in entries if e.kind == TO_REVIEW]
    form = CATALOG.bindings.of("benchmarks").form
    assert [(dict(e.query), e.page) for e in reviews] == [({"form": form}, "review")] and "2" in reviews[0].detail
    assert [dict(e.query)[ITEM_QUERY] for e in entries if e.kind == ITEM] == [verify.id]
    # 附件3 is the city's to fill and it filed none: due by its deadline
    checks = CATALOG.form(CATALOG.bindings.of("checks").form)
    assert [dict(e.query)["form"] for e in entries if e.kind == FORM] == [checks.id]


def test_the_province_sees_rows_to_review_and_items_to_close(store):
    project(store, PROVIDER, "V-1")
    returned(store, project(store, PROVIDER, "V-2"), "补充材料")  # in its filer's hands: not to review
    close = item(store, 1, VERIFIED)
    item(store, 2, ITEM_SUBMITTED, city="佛山")  # the city's to verify first
    entries = todo(store, CATALOG, PROVINCE, AFTER)
    reviews = {dict(e.query)["form"]: e.detail for e in entries if e.kind == TO_REVIEW}
    assert list(reviews) == [CATALOG.bindings.of("projects").form] and "1" in reviews[CATALOG.bindings.of("projects").form]
    items = [e for e in entries if e.kind == ITEM]
    assert [dict(e.query)[ITEM_QUERY] for e in items] == [close.id] and items[0].overdue
    assert entries[0].kind == ITEM  # overdue first; a review has no due date: last


def test_many_items_waiting_for_the_same_action_are_one_entry_opening_the_waiting_list_and_a_few_stay_one_each(store):
    """Attack N11: one entry (and one button on 首页) per item cost seconds per click at 2,000 items. Beyond
    ITEMS_EACH items waiting for the same action and equally late they are one entry with their count and
    the earliest due date; the few late ones stay one entry each, each opening its item."""
    many = ITEMS_EACH + 40
    for n in range(many):
        item(store, n, ITEM_SUBMITTED, due=DUE + dt.timedelta(days=n % 3))
    late = [item(store, 100 + n, ITEM_SUBMITTED, due=BEFORE - dt.timedelta(days=n + 1)) for n in range(ITEMS_EACH)]
    entries = [e for e in todo(store, CATALOG, CITY, BEFORE) if e.kind == ITEM]
    assert len(entries) == ITEMS_EACH + 1
    assert sorted(dict(e.query)[ITEM_QUERY] for e in entries[:ITEMS_EACH]) == sorted(r.id for r in late)
    assert all(e.overdue and not e.view for e in entries[:ITEMS_EACH])  # late first, each its own
    grouped = entries[-1]
    assert f"{many:,} 项" in grouped.what and grouped.due == DUE and not grouped.overdue
    assert (grouped.page, grouped.query, grouped.view) == ("rectification", (), WAITING) and WAITING in LISTS
    assert f"{CATALOG.campaign.rectification.categories[0].name} {many:,} 项" in grouped.detail
    # the province waits for none of them yet (the city verifies first): nothing grouped for it
    assert not [e for e in todo(store, CATALOG, PROVINCE, BEFORE) if e.kind == ITEM]


def _import_register(store) -> None:
    """Five projects in 广州 and five in 佛山 (one of each drawn at the campaign's ratio)."""
    kind = register_kinds(CATALOG.campaign)["vouchers"]
    headers = [kind.column(m).header for m in ("voucher", "firm", "firm_code", "provider", "city", "year", "subsidy", "state")]
    rows = []
    for i, city in enumerate(["广州"] * 5 + ["佛山"] * 5):
        body = f"91440100MA{i:07d}"
        rows.append([f"V-{i:06d}", f"企业{i}", body + credit_code_check_char(body), f"服务商{i % 2}", city, kind.years[0], 20.0,
                     kind.in_scope[0]])
    parsed = upload.parse_register(kind, [SheetRows("S", [headers, *rows])])
    assert not parsed.problems, parsed.problems
    reg.import_register(store, parsed, PROVINCE, file_name="台账.xlsx")


def test_an_inspector_sees_the_projects_its_group_still_has_to_inspect(store):
    _import_register(store)
    frame, _ = freeze(store, CATALOG, PROVINCE)
    draw = record_draw(store, CATALOG, frame.frame_id, "20200922", PROVINCE)
    pool = [Account(f"ins{n:02d}", roles.INSPECTOR, org=f"检查单位{n}", name=f"检查员{n}", city=home, health_declared_on="2020-09-20")
            for n, home in enumerate(("汕头", "汕头", "汕头", "珠海", "珠海", "珠海", "东莞", "东莞", "东莞"))]
    draw_inspectors(store, CATALOG, pool, "7", PROVINCE, day=dt.date(2020, 9, 23))
    me = next(a for a in pool if a.account == current_assignment(store).assignment.members("广州")[0]).actor()
    assigned = assignments_in_force(store, CATALOG)
    drawn = [r for r in draw_rows(store, draw.draw_id) if r["city"] == "广州"]
    binding = CATALOG.bindings.of("inspections")
    inspection_due = CATALOG.campaign.deadlines[CATALOG.form(binding.form).deadline]
    entries = todo(store, CATALOG, me, dt.date(2020, 9, 25), assignments=assigned)
    to_inspect = [e for e in entries if e.kind == TO_INSPECT]
    assert [e.detail.split("｜")[0] for e in to_inspect] == sorted(r["voucher"] for r in drawn)
    assert {(e.due, e.page, dict(e.query)["form"]) for e in to_inspect} == {(inspection_due, "fill", binding.form)}
    forum = CATALOG.bindings.of("forums").form
    assert [dict(e.query)["form"] for e in entries if e.kind == FORM] == [forum]  # its city's forum record, not filed yet
    # inspected: no longer waiting
    store.ensure_sheet(sheet_spec(CATALOG.form(binding.form)))
    for r in drawn:
        store.append(binding.form, {binding.key("voucher"): r["voucher"], binding.key("city"): r["city"]}, actor=me, status=SUBMITTED)
    assert [e.kind for e in todo(store, CATALOG, me, dt.date(2020, 9, 25), assignments=assigned)] == [FORM]
    # without an assignment in force an inspector has no inspection waiting (and is not refused)
    assert [e.kind for e in todo(store, CATALOG, me, dt.date(2020, 9, 25))] == []


def test_the_second_campaign_is_listed_in_its_own_forms_and_words(tmp_path):
    """tests/campaigns/other (its own form ids, keys, calendar): the provider's returned row and the province's
    rows to review come from its bindings, with no code for it."""
    other = load_catalog(ROOT / "tests" / "campaigns" / "other")
    s = open_store("local", data_dir=tmp_path / "other", background=False)
    try:
        b = other.bindings.of("projects")
        s.ensure_sheet(sheet_spec(other.form(b.form)))
        row = s.append(b.form, {b.key("voucher"): "Q-1", b.key("provider"): PROVIDER.org}, actor=PROVIDER, status=SUBMITTED)
        s.append(b.form, {b.key("voucher"): "Q-2", b.key("provider"): PROVIDER.org}, actor=PROVIDER, status=SUBMITTED)
        returned(s, row, "请补充")
        mine = todo(s, other, PROVIDER, dt.date(2021, 9, 1))
        assert [(e.kind, dict(e.query)) for e in mine] == [(RETURNED_ROW, {"form": b.form, "row": row.id})]
        assert mine[0].due == other.campaign.deadlines[other.form(b.form).deadline] and other.form(b.form).title in mine[0].what
        reviews = [e for e in todo(s, other, PROVINCE, dt.date(2021, 9, 1)) if e.kind == TO_REVIEW]
        assert [dict(e.query) for e in reviews] == [{"form": b.form}] and "1 条" in reviews[0].detail
    finally:
        s.close()


def test_the_province_is_told_of_items_no_account_acts_on(store):
    """An item whose acting organisation has no account shows in nobody's 待办: the province's says how many,
    opening 全面整改 where it reassigns or cancels them (attack N1's follow-up)."""
    accounts = [PROVINCE, PROVIDER]  # 服务商甲 has an account; 云智 (typed by an inspector) has none
    item(store, 1, PENDING)
    item(store, 2, PENDING, org="云智")
    item(store, 3, IN_PROGRESS, org="云智")
    item(store, 4, CLOSED, org="云智")  # closed: nothing left to do
    told = [e for e in todo(store, CATALOG, PROVINCE, AFTER, accounts=accounts) if e.page == "rectification" and not e.query]
    assert len(told) == 1 and "2 项" in told[0].what and told[0].kind == ITEM
    assert not [e for e in todo(store, CATALOG, CITY, AFTER, accounts=accounts) if "无对应账号" in e.what]  # the province's alone
    assert not [e for e in todo(store, CATALOG, PROVINCE, AFTER, accounts=[PROVINCE, PROVIDER, Actor("p2", roles.PROVIDER, "云智")])
                if "无对应账号" in e.what]
