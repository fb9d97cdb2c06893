"""A person edits campaign.xlsx: each cell is imported only as the web form would take it, and a
reviewed row is not changed at all (lib.external_edits through a real LocalStore and the shipped forms)."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path

import openpyxl
import pytest

from lib import review
from lib.core.records import Actor
from lib.external_edits import FormEditRules, rule_on_edit
from lib.forms import check_answers, load_catalog, parse_form
from lib.forms.columns import sheet_spec
from lib.forms.types import credit_code_check_char
from lib.store.factory import open_store
from lib.store.local.store import LocalStore
from lib.submissions import save_draft, submit, withdraw
from tests.forms.inline import DEMO_HEAD

FORMS_DIR = Path(__file__).resolve().parents[1] / "forms"
PROVIDER_CODE = "91440106MA59C1234" + credit_code_check_char("91440106MA59C1234")
PROVIDER = Actor("provider_yz", "provider", org="广州云智信息科技有限公司", org_code=PROVIDER_CODE)
CITY_FS = Actor("city_fs", "city", org="佛山市工业和信息化局", city="佛山")
PROVINCE = Actor("province", "province", org="广东省工业和信息化厅")
OTHER_CODE = "91440605MA4UABCD1" + credit_code_check_char("91440605MA4UABCD1")


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(FORMS_DIR)


@pytest.fixture
def store(tmp_path, catalog):
    opened = LocalStore(tmp_path / "data", background=False, edit_check=FormEditRules(FORMS_DIR))
    for form in catalog.forms():
        opened.ensure_sheet(sheet_spec(form))
    yield opened
    opened.close()


def att1(**overrides):
    answers = {
        "provider_name": PROVIDER.org, "provider_credit_code": PROVIDER_CODE, "subsidy_year": "2019",
        "client_city": "佛山", "client_district": "南海区", "client_name": "佛山市南海区宏达五金制品有限公司",
        "client_credit_code": OTHER_CODE, "voucher_no": "SYQ-2019-4406-00123", "project_name": "宏达五金ERP系统上云项目",
        "project_type": "业务系统上云", "business_area": "经营管理", "implementation_content": "部署云端ERP系统。",
        "contract_date": "2019-04-12", "contract_amount": "20.00", "paid_amount": "19.50", "subsidy_amount": "3.00",
        "acceptance_date": "2019-07-01", "usage_status": "正常使用", "monthly_active_users": "35",
        "followup_date": "2020-09-10", "followup_services": ["培训辅导"],
        "contacts": [{"contact_name": "陈伟", "contact_title": "信息部经理", "contact_phone": "13800138000"}],
    }
    return {**answers, **overrides}


def att3(**overrides):
    answers = {
        "city": "佛山", "client_name": "佛山市南海区宏达五金制品有限公司", "client_credit_code": OTHER_CODE,
        "provider_name": PROVIDER.org, "project_name": "宏达五金ERP系统上云项目", "subsidy_year": "2019",
        "subsidy_amount": "3.00", "check_method": "实地检查", "check_date": "2019-11-20", "checkers": "陈伟、李静",
        "content_matches": "是", "usage_status": "正常使用", "satisfaction": "满意", "conclusion": "合格",
        "complaint": "否",
    }
    return {**answers, **overrides}


def filed(store, catalog, form_id, answers, actor, *, draft=False):
    save = save_draft if draft else submit
    result = save(store, catalog.form(form_id), answers, actor, cities=catalog.campaign.cities)
    assert result.ok, result.problems
    return result.record


def edit_in_workbook(store, catalog, record, edits):
    """Save the workbook with ``edits`` ({field key: cell value}) in the row of ``record``, as Excel would."""
    assert store.flush_workbook()
    labels = {c.key: c.label for c in sheet_spec(catalog.form(record.form_id)).columns}
    wb = openpyxl.load_workbook(store.workbook_path)
    for ws in wb.worksheets:
        headers = [c.value for c in ws[1]]
        for row in ws.iter_rows(min_row=2):
            if row[0].value == record.id:
                for key, value in edits.items():
                    row[headers.index(labels[key])].value = value
    wb.save(store.workbook_path)
    assert store.flush_workbook()
    return store.audit()[-1].note


F7 = {"paid_amount": 9999, "provider_name": "\u202e另一家公司", "client_city": "深圳"}  # the finding's edit


def test_an_approved_row_edited_in_the_workbook_is_not_changed(store, catalog):
    rec = filed(store, catalog, "att1", att1(), PROVIDER)
    review.approve(store, catalog.form("att1"), PROVINCE, {rec.id: rec.rev})
    approved = store.get("att1", rec.id)

    note = edit_in_workbook(store, catalog, rec, {**F7, "project_name": "一个无害的新名称"})

    assert store.get("att1", rec.id) == approved  # not one cell, still 已通过, same revision
    assert not [e for e in store.audit(row_id=rec.id) if e.action == "外部编辑"]
    assert f"记录保持原样：记录 {rec.id}（状态为「已通过」" in note


def test_a_withdrawn_row_is_not_changed_either(store, catalog):
    rec = filed(store, catalog, "att1", att1(), PROVIDER)
    gone = withdraw(store, catalog.form("att1"), rec.id, PROVIDER, base_rev=rec.rev)
    note = edit_in_workbook(store, catalog, rec, {"project_name": "撤回后在表格里改"})
    assert store.get("att1", rec.id) == gone
    assert f"记录 {rec.id}（状态为「已撤回」" in note


def test_a_submitted_row_takes_only_the_cells_the_form_accepts(store, catalog):
    rec = filed(store, catalog, "att1", att1(), PROVIDER)

    note = edit_in_workbook(store, catalog, rec, {**F7, "project_name": "宏达五金ERP系统上云项目（二期）"})

    now = store.get("att1", rec.id)
    assert now.values == {**rec.values, "project_name": "宏达五金ERP系统上云项目（二期）"}
    assert (now.rev, now.status, now.updated_by) == (2, "已提交", "外部编辑")
    assert check_answers(catalog.form("att1"), now.values, cities=catalog.campaign.cities).ok
    assert "已导入 1 行的修改" in note and "这些单元格不符合表单的填报规则，未导入：" in note
    assert f"记录 {rec.id}「服务商名称」（这一项由填报单位的账号决定" in note
    assert f"记录 {rec.id}「实际支付金额（万元）」（「实际支付金额」应不低于合同金额的 90%" in note
    assert f"记录 {rec.id}「企业所在地市」（该地市的企业不在“上云上平台”服务券奖补范围内（深圳市另有政策）" in note
    assert "\u202e" not in note  # the hostile value is named, not echoed


def test_an_edit_is_judged_together_with_the_rest_of_the_row(store, catalog):
    rec = filed(store, catalog, "att1", att1(), PROVIDER)
    # Alone, a lower contract amount breaks the paid amount's rule (reported on 实际支付金额): refused.
    note = edit_in_workbook(store, catalog, rec, {"contract_amount": 10})
    assert store.get("att1", rec.id) == rec
    assert f"记录 {rec.id}「合同金额（万元）」（「实际支付金额」应不低于合同金额的 90%" in note
    # Both figures changed together agree with each other: both imported, as the form would store them.
    edit_in_workbook(store, catalog, rec, {"contract_amount": 40, "paid_amount": "39.5", "contract_date": dt.datetime(2019, 5, 6)})
    now = store.get("att1", rec.id)
    assert (now.values["contract_amount"], now.values["paid_amount"]) == (40.0, 39.5)
    assert now.values["contract_date"] == dt.date(2019, 5, 6)


def test_a_draft_row_is_checked_as_a_draft_save(store, catalog):
    rec = filed(store, catalog, "att1", {"project_name": "还没填完的项目", "contract_amount": "20"}, PROVIDER, draft=True)
    note = edit_in_workbook(store, catalog, rec, {"paid_amount": 99999, "implementation_content": "\u202e倒过来的说明"})
    now = store.get("att1", rec.id)
    assert now.values["paid_amount"] == 99999  # a draft may break the bounds until it is submitted ...
    assert now.values.get("implementation_content") is None  # ... but not the type check
    assert f"记录 {rec.id}「实施内容」（「实施内容」含有改变文字方向的不可见字符" in note


def test_a_field_the_account_answers_keeps_the_filers_value(store, catalog):
    rec = filed(store, catalog, "att1", att1(), PROVIDER)
    # Retyped with other widths and spacing: the same organisation, so nothing to import or report.
    edit_in_workbook(store, catalog, rec, {"provider_name": " 广州云智信息科技有限公司  "})
    assert store.get("att1", rec.id) == rec
    # The credit code is not on the row: the stored one stands for the account's.
    note = edit_in_workbook(store, catalog, rec, {"provider_credit_code": OTHER_CODE})
    assert store.get("att1", rec.id) == rec
    assert f"记录 {rec.id}「服务商统一社会信用代码」（这一项由填报单位的账号决定" in note


def test_a_city_bureaus_row_cannot_be_moved_to_another_city_in_the_file(store, catalog):
    rec = filed(store, catalog, "att3", att3(), CITY_FS)
    note = edit_in_workbook(store, catalog, rec, {"city": "广州", "checkers": "陈伟、李静、王强"})
    now = store.get("att3", rec.id)
    assert (now.values["city"], now.values["checkers"]) == ("佛山", "陈伟、李静、王强")
    assert f"记录 {rec.id}「填报地市」（这一项由填报单位的账号决定" in note


def test_dates_are_judged_on_the_campaign_clock(tmp_path, catalog):
    """With the clock set (setting campaign_today) a follow-up date after it is refused from the
    workbook as the fill page refuses it; one before it is taken, though the real date plays no part."""
    clock = dt.date(2020, 9, 20)
    with LocalStore(tmp_path / "data", background=False, edit_check=FormEditRules(FORMS_DIR, today=clock)) as store:
        for form in catalog.forms():
            store.ensure_sheet(sheet_spec(form))
        rec = filed(store, catalog, "att1", att1(), PROVIDER)
        note = edit_in_workbook(store, catalog, rec, {"followup_date": dt.datetime(2021, 3, 1)})
        assert store.get("att1", rec.id) == rec
        assert f"记录 {rec.id}「回访日期」（「回访日期」不能晚于今天" in note
        edit_in_workbook(store, catalog, rec, {"followup_date": dt.datetime(2020, 9, 15)})
        assert store.get("att1", rec.id).values["followup_date"] == dt.date(2020, 9, 15)


def test_the_app_wiring_reaches_the_background_writer(tmp_path, catalog):
    """As lib.ui.context opens it: open_store with the rules, background writer on."""
    store = open_store("local", data_dir=tmp_path / "data", edit_check=FormEditRules(FORMS_DIR), debounce=0.1)
    try:
        for form in catalog.forms():
            store.ensure_sheet(sheet_spec(form))
        rec = filed(store, catalog, "att1", att1(), PROVIDER)
        review.approve(store, catalog.form("att1"), PROVINCE, {rec.id: rec.rev})
        approved = store.get("att1", rec.id)
        note = edit_in_workbook(store, catalog, rec, F7)  # flush_workbook: the child imports, then writes
        assert store.get("att1", rec.id) == approved
        assert f"记录 {rec.id}（状态为「已通过」" in note
    finally:
        store.close()


# --- the rules alone, on inline forms --------------------------------------------------------------

HEAD = DEMO_HEAD + """      - {key: planned, label: 计划投资, type: money, required: true}
      - {key: spent, label: 已支出, type: money, constraint: "spent <= planned", constraint_message: 已支出不能超过计划投资}
      - {key: ratio, label: 支出比例, type: percent, calculation: "spent / planned * 100"}
      - {key: delayed, label: 是否延期, type: boolean}
      - {key: reason, label: 延期原因, type: text, relevant: "delayed"}
"""


def demo_row(store, status="已提交", **values):
    store.ensure_sheet(sheet_spec(parse_form(HEAD, "demo.yaml")))
    return store.append("demo", {"planned": 100.0, "spent": 50.0, "ratio": 50.0, "delayed": False, **values},
                        actor=PROVIDER, status=status)


def test_a_calculated_field_follows_the_edit_and_cannot_be_typed_over(tmp_path, catalog):
    with LocalStore(tmp_path, background=False) as store:
        row = demo_row(store)
    ruling = rule_on_edit(parse_form(HEAD, "demo.yaml"), catalog.campaign, row, {"spent": 80.0, "ratio": 12.0})
    assert ruling.values == {"spent": 80.0, "ratio": 80.0}
    assert ruling.refused == {"ratio": "这一项由表单公式计算得出，不能直接修改"}


def test_an_answer_the_form_does_not_ask_for_is_refused(tmp_path, catalog):
    with LocalStore(tmp_path, background=False) as store:
        row = demo_row(store)
    form = parse_form(HEAD, "demo.yaml")
    assert rule_on_edit(form, catalog.campaign, row, {"reason": "材料未到"}).refused == {
        "reason": "按表单规则，这一项在本条记录中不用填写"}
    assert rule_on_edit(form, catalog.campaign, row, {"reason": "材料未到", "delayed": True}).values == {
        "reason": "材料未到", "delayed": True}
    assert rule_on_edit(form, catalog.campaign, row, {"gone": "删掉的字段"}).refused == {"gone": "当前表单中已没有这一项，不能修改"}


def test_problems_the_row_already_had_are_not_held_against_an_edit(tmp_path, catalog):
    with LocalStore(tmp_path, background=False) as store:
        row = demo_row(store, spent=150.0)  # stored before the rule existed
    ruling = rule_on_edit(parse_form(HEAD, "demo.yaml"), catalog.campaign, row, {"delayed": True, "reason": "材料未到"})
    assert ruling.values == {"delayed": True, "reason": "材料未到"} and ruling.refused == {}


def test_the_rules_pickle_as_their_folder_and_say_when_a_form_is_unknown(tmp_path, catalog):
    rules = pickle.loads(pickle.dumps(FormEditRules(FORMS_DIR)))
    with LocalStore(tmp_path, background=False) as store:
        row = demo_row(store)
    assert rules(row, {"spent": 60.0}).locked == "找不到表单「demo」的有效定义，无法按表单规则检查"
    assert len(pickle.dumps(rules)) < 500  # the folder, not the catalog
    # the clock travels with the folder to the store's writer process, which reads no settings
    clocked = pickle.loads(pickle.dumps(FormEditRules(FORMS_DIR, today=dt.date(2020, 9, 20))))
    with LocalStore(tmp_path / "att1", background=False) as store:
        store.ensure_sheet(sheet_spec(catalog.form("att1")))
        row = store.append("att1", att1(), actor=PROVIDER, status="已提交")
    assert "「回访日期」不能晚于今天" in clocked(row, {"followup_date": dt.date(2021, 3, 1)}).refused["followup_date"]


def test_a_city_field_the_account_does_not_answer_still_stays_in_the_filers_city(tmp_path, catalog):
    form = parse_form(HEAD.replace("filled_by: provider", "filled_by: city") + """      - {key: where, label: 项目地市, type: city}
""", "demo.yaml")
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(sheet_spec(form))
        row = store.append("demo", {"planned": 100.0, "spent": 50.0, "where": "佛山"}, actor=CITY_FS, status="已提交")
    ruling = rule_on_edit(form, catalog.campaign, row, {"where": "广州", "spent": 60.0})
    assert ruling.refused == {"where": "改后的值超出填报单位的范围（如其他地市），不能在工作簿中修改"}
    assert ruling.values == {"spent": 60.0, "ratio": 60.0}


@pytest.mark.parametrize("status, moved", [("已提交", False), ("退回修改", False), ("草稿", True)])
def test_the_field_that_picks_the_reviewer_is_not_changed_in_the_workbook_after_submission(tmp_path, catalog, status, moved):
    """附件2 is reviewed by the bureau of its city: once submitted, the file cannot hand it to another
    city's reviewer (as a correction on the page cannot); a draft may still change its city."""
    form = catalog.form("att2")
    lead = Actor("lead_001", "lead_unit", org="清远市某某科技有限公司")
    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(sheet_spec(form))
        row = store.append("att2", {"project_name": "某标杆项目", "city": "清远"}, actor=lead, status=status)
    ruling = rule_on_edit(form, catalog.campaign, row, {"city": "广州"})
    if moved:
        assert "city" not in ruling.refused
    else:
        assert ruling.refused == {"city": "这一项决定由哪个地市审核，记录提交后不能修改；如填错，请撤回后重新填报"}
        assert "city" not in ruling.values


def test_the_app_opens_its_store_with_the_rules_on_the_campaign_clock(tmp_path, monkeypatch):
    """The wiring: the store the pages use judges workbook edits on campaign_today, as the fill page does."""
    from lib.ui import context

    monkeypatch.setenv("APP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-20")
    context.settings.clear()
    try:
        opened = context._open_store(background=False)
        try:
            assert isinstance(opened.edit_check, FormEditRules) and opened.edit_check.today == dt.date(2020, 9, 20)
        finally:
            opened.close()
    finally:
        context.settings.clear()


def test_a_row_of_a_sheet_that_is_no_form_is_locked(tmp_path):
    """The sampling records (lib.sampling) are written by the app alone: the rules lock every cell of them."""
    from lib.sampling.record import DRAW_ROWS

    with LocalStore(tmp_path, background=False) as store:
        store.ensure_sheet(DRAW_ROWS)
        row = store.append(DRAW_ROWS.form_id, {"draw_id": "D-1", "voucher": "V-1", "city": "广州"}, actor=PROVINCE, status="已抽中")
    ruling = FormEditRules(FORMS_DIR)(row, {"city": "佛山"})
    assert ruling.locked and ruling.values == {} and DRAW_ROWS.form_id in ruling.locked


@pytest.mark.parametrize("status", ["草稿", "已提交", "退回修改"])
def test_a_row_the_inspectors_file_is_locked_in_the_workbook_with_the_true_reason(store, catalog, status):
    """Attack M1: an inspection record's cells (an innocent correction of the conclusion or the members,
    another voucher, another city) are all kept, and the reason says that the group corrects its record
    in the app — not that the value is outside the filer's scope. A forum record likewise."""
    inspections = catalog.form(catalog.bindings.of("inspections").form)
    forums = catalog.form(catalog.bindings.of("forums").form)
    inspector = Actor("ins02", "inspector", org="省检查组")
    answers = {"voucher_no": "SYQ-2019-4401-00001", "city": "广州", "client_name": "某企业", "inspection_date": "2020-10-09",
               "members": "张三、李四", "usage_status": "正常使用", "conclusion": "合格"}
    row = store.append(inspections.id, answers, actor=inspector, status=status)
    for edits in ({"conclusion": "不合格"}, {"members": "王五"}, {"voucher_no": "SYQ-2019-4405-00009"}, {"city": "汕头"}):
        ruling = rule_on_edit(inspections, catalog.campaign, row, edits)
        assert ruling.values == {} and "只能由填报它的那一组在系统中修改" in ruling.locked, edits
        assert "超出填报单位的范围" not in ruling.locked
    note = edit_in_workbook(store, catalog, row, {"conclusion": "不合格"})
    assert "只能由填报它的那一组在系统中修改" in note
    assert [(r.rev, r.values["conclusion"]) for r in store.records(inspections.id)] == [(row.rev, "合格")]
    forum = store.append(forums.id, {"city": "广州", "place": "会议室"}, actor=inspector, status=status)
    assert "只能由填报它的那一组" in rule_on_edit(forums, catalog.campaign, forum, {"place": "另一处"}).locked
