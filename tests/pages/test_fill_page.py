"""AppTest of pages/fill.py: submit a valid and an invalid 附件1 row, drafts, corrections, conflicts."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.accounts import Account, AccountsFile
from lib.core.records import Actor
from lib.demo.seed import generate
from lib.forms.columns import sheet_spec
from lib.settings import load_settings
from lib.ui import state
from lib.ui.widgets import fit, to_widget_value

from .conftest import sign_in, unescaped

ROOT = Path(__file__).resolve().parents[2]

PAGE = str(ROOT / "pages" / "fill.py")


@pytest.fixture
def att1_row(catalog):
    """A valid 附件1 answer and the provider who files it, from the demo generator."""
    row = next(r for r in generate(catalog, rows=40, seed=7)["att1"] if r.values.get("usage_status") == "正常使用")
    return row


def start(actor, form_id="att1", *, deliberate=True, **query) -> AppTest:
    """The fill page in a new session; a ``row`` in ``query`` comes from 我的填报's 打开修改 (a
    deliberate act) unless ``deliberate`` is False (an address typed, bookmarked or gone back to)."""
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    at.query_params["form"] = form_id
    for k, v in query.items():
        at.query_params[k] = v
    if deliberate and "row" in query:
        at.session_state[state.open_key(form_id)] = query["row"]
    return at.run()


def fill_in(at: AppTest, form, values: dict) -> None:
    for spec in form.all_fields():
        if spec.calculation:
            continue
        if spec.type == "table":
            rows = values.get(spec.key) or []
            at.session_state[state.table_count_key(form.id, spec.key)] = len(rows)
            for i, row in enumerate(rows):
                for sub in spec.fields:
                    at.session_state[state.table_cell_key(form.id, spec.key, i, sub.key)] = to_widget_value(sub, row.get(sub.key))
        else:
            value = values.get(spec.key)
            at.session_state[state.field_key(form.id, spec.key)] = to_widget_value(spec, value) if value is not None else None


def click(at: AppTest, label: str) -> AppTest:
    button = next(b for b in at.button if b.label == label)
    return button.click().run()


def messages(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_valid_row_is_stored_and_confirmed_with_its_id(app_env, catalog, att1_row, reopen):
    at = start(att1_row.actor)
    assert not at.exception
    fill_in(at, catalog.form("att1"), att1_row.values)
    at = click(at.run(), "提交")
    assert not at.exception
    confirmation = messages(at.success)
    assert "提交成功" in confirmation

    stored = reopen().records("att1")
    assert len(stored) == 1
    assert stored[0].id in confirmation
    assert stored[0].status == "已提交"
    assert stored[0].owner == att1_row.actor.account
    assert stored[0].values["voucher_no"] == att1_row.values["voucher_no"]
    assert stored[0].values["paid_amount"] == att1_row.values["paid_amount"]
    # the form is blank again for the next row
    assert at.session_state[state.field_key("att1", "voucher_no")] is None


def test_invalid_row_lists_every_problem_by_field_and_writes_nothing(app_env, catalog, att1_row, reopen):
    values = dict(att1_row.values)
    values["paid_amount"] = round(values["contract_amount"] * 0.5, 2)
    values["usage_status"] = "闲置"  # now the reason is required, and it is blank
    values["reason"] = None
    values["client_credit_code"] = values["client_credit_code"][:-1] + ("0" if values["client_credit_code"][-1] != "0" else "1")
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), values)
    at = click(at.run(), "提交")
    errors = messages(at.error)
    assert "提交未成功" in errors
    assert "实际支付金额" in errors
    assert "「原因说明」为必填项" in errors
    assert "统一社会信用代码" in errors
    assert not at.success
    assert reopen().records("att1") == []


def test_reason_field_appears_only_when_usage_is_not_normal(app_env, catalog, att1_row):
    at = start(att1_row.actor)
    reason_key = state.field_key("att1", "reason")
    assert reason_key not in [w.key for w in at.text_area]
    at.session_state[state.field_key("att1", "usage_status")] = "停用"
    at.run()
    assert reason_key in [w.key for w in at.text_area]


def test_draft_is_saved_and_resumed(app_env, catalog, att1_row, reopen):
    at = start(att1_row.actor)
    at.session_state[state.field_key("att1", "project_name")] = "半成品项目"
    at = click(at.run(), "保存草稿")
    assert "草稿已保存" in messages(at.success)
    draft = reopen().records("att1")[0]
    assert draft.status == "草稿" and draft.values["project_name"] == "半成品项目"

    again = start(att1_row.actor, row=draft.id)  # a new session opens the draft from 我的填报
    assert again.session_state[state.field_key("att1", "project_name")] == "半成品项目"
    fill_in(again, catalog.form("att1"), att1_row.values)
    again = click(again.run(), "提交")
    assert "提交成功" in messages(again.success)
    final = reopen().get("att1", draft.id)
    assert final.status == "已提交" and final.rev == draft.rev + 1


def test_correction_of_a_stale_revision_is_refused_and_offers_reload(app_env, catalog, att1_row, reopen):
    other = reopen()
    for form in catalog.forms():
        from lib.forms.columns import sheet_spec

        other.ensure_sheet(sheet_spec(form))
    record = other.append("att1", att1_row.values, actor=att1_row.actor, status="已提交")

    at = start(att1_row.actor, row=record.id)
    assert f"正在修改记录 {record.id}" in messages(at.info)
    # meanwhile the same row is changed elsewhere (another tab, another officer)
    other.update("att1", record.id, base_rev=record.rev, actor=att1_row.actor, values={"remarks": "另一处的修改"})
    at.session_state[state.field_key("att1", "remarks")] = "我的修改"
    at = click(at, "重新提交")
    assert at.session_state[state.outcome_key("att1")]["kind"] == "conflict"
    assert any("重新载入" in b.label for b in at.button)
    assert reopen().get("att1", record.id).values["remarks"] == "另一处的修改"  # nothing overwritten

    at = click(at, "重新载入最新版本（放弃我的修改）")
    assert at.session_state[state.field_key("att1", "remarks")] == "另一处的修改"
    at.session_state[state.field_key("att1", "remarks")] = "我的修改"
    at = click(at.run(), "重新提交")
    assert "提交成功" in messages(at.success)
    assert reopen().get("att1", record.id).values["remarks"] == "我的修改"


def store_with(reopen, catalog):
    """A second store on the test's folder, with the forms' sheets (rows filed 'elsewhere')."""
    other = reopen()
    for form in catalog.forms():
        other.ensure_sheet(sheet_spec(form))
    return other


def notes(at: AppTest) -> str:
    """The problem notes drawn next to fields (HTML with their anchor ids)."""
    return "\n".join(m.value for m in at.markdown if 'id="problem-' in m.value)


def test_problems_are_marked_at_their_fields_and_listed_below_the_buttons_with_links(app_env, catalog, att1_row):
    values = dict(att1_row.values, voucher_no="abc", contacts=[{"contact_name": "张三", "contact_phone": "12"}])
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), values)
    at = click(at.run(), "提交")
    summary = messages(at.error)
    assert "提交未成功" in summary
    assert "(#problem-att1-voucher_no)" in summary  # a link to the note under the field
    assert "(#problem-att1-contacts-1)" in summary  # a table row's problem links to that row
    marked = notes(at)
    assert 'id="problem-att1-voucher_no"' in marked and "服务券编号" in marked
    assert 'id="problem-att1-contacts-1"' in marked and "联系电话" in marked
    # the outcome is drawn after the buttons, where the filler clicked
    kinds = [type(e).__name__ for e in at.main]
    assert kinds.index("Error") > max(i for i, e in enumerate(at.main) if type(e).__name__ == "Button" and e.label == "提交")


def test_a_refusal_replaces_the_problem_list(app_env, catalog, att1_row, reopen):
    other = store_with(reopen, catalog)
    record = other.append("att1", att1_row.values, actor=att1_row.actor, status="已提交")
    at = start(att1_row.actor, row=record.id)
    at.session_state[state.field_key("att1", "voucher_no")] = "abc"
    at = click(at.run(), "重新提交")
    assert "提交未成功" in messages(at.error) and notes(at)

    other.update("att1", record.id, base_rev=record.rev, actor=Actor("province", "province"), status="已通过")
    at.session_state[state.field_key("att1", "voucher_no")] = att1_row.values["voucher_no"]
    at = click(at.run(), "重新提交")
    shown = messages(at.error)
    assert "不能再修改" in shown and "提交未成功" not in shown
    assert not notes(at)


def test_fields_the_account_answers_are_prefilled_and_locked(app_env, catalog, att1_row):
    actor = Actor(att1_row.actor.account, "provider", att1_row.actor.org, att1_row.actor.city, org_code=att1_row.values["provider_credit_code"])
    AccountsFile(load_settings(os.environ).accounts_path).add_many(
        [Account(actor.account, actor.role, org=actor.org, city=actor.city, org_code=actor.org_code)])
    at = start(actor)
    name = at.text_input(key=state.field_key("att1", "provider_name"))
    code = at.text_input(key=state.field_key("att1", "provider_credit_code"))
    assert name.value == actor.org and name.proto.disabled
    assert code.value == actor.org_code and code.proto.disabled
    assert not at.text_input(key=state.field_key("att1", "client_name")).proto.disabled


def test_after_a_submission_the_receipt_replaces_the_form_and_the_row_is_no_longer_edited(app_env, catalog, att1_row, reopen):
    record = store_with(reopen, catalog).append("att1", att1_row.values, actor=att1_row.actor, status="已提交")
    at = start(att1_row.actor, row=record.id)
    at.session_state[state.field_key("att1", "remarks")] = "更正后的备注"
    at = click(at.run(), "重新提交")
    assert f"提交成功！记录编号 {record.id}" in messages(at.success)
    assert "row" not in at.query_params
    assert state.editing_key("att1") not in at.session_state
    labels = [b.label for b in at.button]
    assert {"新建下一条", "复制为新记录", "返回我的填报"} <= set(labels) and "重新提交" not in labels
    assert any(f"记录编号：{record.id}　版本：2" in m.value for m in at.markdown)

    at = click(at, "复制为新记录")  # same firm and facts, a new row: the project's identifying fields blank
    form = catalog.form("att1")
    assert at.session_state[state.field_key("att1", "client_name")] == att1_row.values["client_name"]
    for key in {k for group in form.unique for k in group}:
        assert at.session_state[state.field_key("att1", key)] in (None, ""), key
    at.session_state[state.field_key("att1", "voucher_no")] = "SYQ-2019-9999-00001"
    at.session_state[state.field_key("att1", "client_credit_code")] = att1_row.values["client_credit_code"]
    at.session_state[state.field_key("att1", "project_name")] = "另一个项目"
    at = click(at.run(), "提交")
    assert "提交成功" in messages(at.success), messages(at.error)
    rows = {r.id: r for r in reopen().records("att1")}
    assert len(rows) == 2 and rows[record.id].values["project_name"] == att1_row.values["project_name"]
    new = next(r for r in rows.values() if r.id != record.id)
    assert new.values["project_name"] == "另一个项目" and new.values["client_name"] == att1_row.values["client_name"]


def test_a_second_click_of_submit_on_the_same_form_files_nothing_more(app_env, catalog, att1_row, reopen):
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), att1_row.values)
    at.run()
    submit = next(b for b in at.button if b.label == "提交")
    at = submit.click().run()
    assert "提交成功" in messages(at.success)
    # a double click: the browser sends the second click for the button as it was drawn, with the
    # answers it still shows, before it has drawn the receipt
    fill_in(at, catalog.form("att1"), att1_row.values)
    at = submit.click().run()
    assert not at.exception
    assert len(reopen().records("att1")) == 1
    assert "提交成功" in messages(at.success)  # the receipt stays

    # the same while the first click's run is still under way (the button is still registered):
    # the click carries the token it was drawn with, older than the one the submission set
    at = click(at, "新建下一条")
    fill_in(at, catalog.form("att1"), att1_row.values)
    at.run()
    at.session_state[state.token_key("att1")] += 1
    at = click(at, "提交")
    assert len(reopen().records("att1")) == 1
    assert "请核对后再点" in messages(at.info)


def test_a_stored_date_the_widget_cannot_show_is_blank_with_a_warning(app_env, catalog, att1_row, reopen):
    values = dict(att1_row.values, followup_date=dt.date(1999, 12, 31))
    record = store_with(reopen, catalog).append("att1", values, actor=att1_row.actor, status="退回修改")
    at = start(att1_row.actor, row=record.id)
    assert not at.exception
    assert at.session_state[state.field_key("att1", "followup_date")] is None
    warned = messages(at.warning)
    assert "回访日期" in warned and "1999-12-31" in warned
    at.session_state[state.field_key("att1", "followup_date")] = dt.date(2020, 9, 10)  # answered again
    at.run()
    assert "回访日期" not in messages(at.warning)


def test_opening_another_row_over_unsaved_input_asks_first(app_env, catalog, att1_row, reopen):
    record = store_with(reopen, catalog).append("att1", att1_row.values, actor=att1_row.actor, status="已提交")
    at = start(att1_row.actor)
    at.session_state[state.field_key("att1", "remarks")] = "还没保存的填写"
    at.run()
    at.query_params["row"] = record.id  # 我的填报 → 打开修改
    at.run()
    assert "尚未保存" in messages(at.warning)
    assert at.session_state[state.field_key("att1", "remarks")] == "还没保存的填写"
    at = click(at, "返回当前表单")
    assert "row" not in at.query_params and at.session_state[state.field_key("att1", "remarks")] == "还没保存的填写"

    at.query_params["row"] = record.id
    at = click(at.run(), f"放弃这些内容，打开记录 {record.id}")
    assert f"正在修改记录 {record.id}" in messages(at.info)
    assert at.session_state[state.field_key("att1", "remarks")] == att1_row.values.get("remarks")


def test_answers_typed_by_one_account_are_not_shown_to_the_next_on_the_same_tab(app_env, catalog, att1_row):
    at = start(att1_row.actor)
    at.session_state[state.field_key("att1", "remarks")] = "上一个账号的填写"
    at.run()
    sign_in(at, Actor("provider_other", "provider", "另一家服务商有限公司", "广州"))  # the session expired; another account signed in
    at.run()
    assert not at.exception
    assert at.session_state[state.field_key("att1", "remarks")] is None


def test_after_a_conflict_the_filler_may_keep_the_answers_and_base_them_on_the_latest_revision(app_env, catalog, att1_row, reopen):
    other = store_with(reopen, catalog)
    record = other.append("att1", att1_row.values, actor=att1_row.actor, status="草稿")
    at = start(att1_row.actor, row=record.id)
    other.update("att1", record.id, base_rev=record.rev, actor=att1_row.actor, values={"remarks": "另一个标签页的修改"})
    at.session_state[state.field_key("att1", "remarks")] = "这个标签页的修改"
    at = click(at, "保存草稿")
    assert reopen().get("att1", record.id).values["remarks"] == "另一个标签页的修改"  # not overwritten
    assert at.session_state[state.outcome_key("att1")]["kind"] == "conflict"

    at = click(at, "保留我的修改，基于最新版本")
    assert at.session_state[state.field_key("att1", "remarks")] == "这个标签页的修改"  # nothing lost
    assert f"基于版本 {record.rev + 1}" in messages(at.info)
    at = click(at, "保存草稿")
    assert "草稿已保存" in messages(at.success)
    assert reopen().get("att1", record.id).values["remarks"] == "这个标签页的修改"


@pytest.mark.parametrize(
    ("key", "stored", "shown", "why"),
    [
        ("contract_date", dt.date(2019, 5, 10), dt.date(2019, 5, 10), ""),
        ("contract_date", "2019-05-10", dt.date(2019, 5, 10), ""),
        ("contract_date", dt.date(1999, 12, 31), None, "超出可选日期范围"),
        ("contract_date", dt.date(2036, 1, 1), None, "超出可选日期范围"),
        ("contract_date", "去年", None, "不是日期"),
        ("monthly_active_users", 12.0, 12, ""),
        ("monthly_active_users", 12.5, None, "不是整数"),
        ("contract_amount", "二十", None, "不是数字"),
        ("contract_amount", float("nan"), None, "不是数字"),
        ("usage_status", "报废", None, "不是可选项"),
        ("client_city", "广州", "广州", ""),
        ("client_city", "香港", None, "不是可选项"),
        ("followup_services", ["培训辅导", "上门喝茶"], ["培训辅导"], "含有不是可选项的内容"),
        ("client_name", 123, "123", ""),
    ],
)
def test_a_stored_value_a_widget_cannot_hold_is_blank_with_the_reason(catalog, key, stored, shown, why):
    held, reason = fit(catalog.form("att1").field(key), stored, catalog.campaign.cities)
    assert held == shown and (why in reason if why else reason == "")


def test_a_city_bureau_files_for_its_own_city_only(app_env, catalog):
    at = start(Actor("city_gz", "city", "广州市工业和信息化局", "广州"), form_id="att3")
    city = next(s for s in at.selectbox if s.key == state.field_key("att3", "city"))
    assert city.value == "广州" and city.proto.disabled


def test_a_held_answer_that_no_longer_fits_its_field_is_blank_with_a_warning(app_env, catalog, att1_row):
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, att1_row.actor)
    at.query_params["form"] = "att1"
    at.session_state[state.field_key("att1", "contract_date")] = "2019-13-45"  # e.g. the field was text before an edit
    at.run()
    assert not at.exception
    assert at.session_state[state.field_key("att1", "contract_date")] is None
    assert "合同签订日期" in messages(at.warning)


def test_going_back_to_a_submitted_row_does_not_reopen_it_and_the_next_project_is_a_new_row(app_env, catalog, att1_row, reopen):
    """Issue 9.2, bad input "pressing back after a submit": the address ``?row=`` of a row this
    session just submitted opens nothing; the filler is told and may open it deliberately."""
    form = catalog.form("att1")
    at = start(att1_row.actor)
    fill_in(at, form, att1_row.values)
    at = click(at.run(), "保存草稿")
    [draft] = reopen().records("att1")
    at = click(at, "提交")
    assert "提交成功" in messages(at.success)

    at.query_params["row"] = draft.id  # the browser's back button: the address of the draft
    at.run()
    assert not at.exception
    assert f"正在修改记录 {draft.id}" not in messages(at.info) and state.editing_key("att1") not in at.session_state
    assert "row" not in at.query_params
    assert f"记录 {draft.id} 已提交" in messages(at.warning)
    assert {f"打开修改记录 {draft.id}", "新建下一条"} <= {b.label for b in at.button}

    fill_in(at, form, dict(att1_row.values, voucher_no="SYQ-2019-9999-00002", project_name="后退后填写的下一个项目"))
    at = click(at.run(), "提交")
    assert "提交成功" in messages(at.success), messages(at.error)
    rows = {r.id: r for r in reopen().records("att1")}
    assert len(rows) == 2
    assert rows[draft.id].values["project_name"] == att1_row.values["project_name"] and rows[draft.id].rev == 2
    assert {r.values["project_name"] for r in rows.values()} == {att1_row.values["project_name"], "后退后填写的下一个项目"}

    at.query_params["row"] = draft.id  # back again, and this time the filler asks for it
    at = click(at.run(), f"打开修改记录 {draft.id}")
    assert f"正在修改记录 {draft.id}" in messages(at.info)
    assert at.session_state[state.field_key("att1", "project_name")] == att1_row.values["project_name"]


@pytest.mark.parametrize(("status", "opens"), [("草稿", True), ("退回修改", True), ("已提交", False), ("已重新提交", False)])
def test_an_address_alone_opens_only_a_row_still_being_written(app_env, catalog, att1_row, reopen, status, opens):
    record = store_with(reopen, catalog).append("att1", att1_row.values, actor=att1_row.actor, status=status)
    at = start(att1_row.actor, deliberate=False, row=record.id)  # typed, bookmarked, or reached by back
    assert not at.exception
    assert (f"正在修改记录 {record.id}" in messages(at.info)) is opens
    assert (f"记录 {record.id} 已提交（状态：{status}）" in messages(at.warning)) is not opens


def test_a_row_id_from_the_address_is_quoted_safely_and_bounded(app_env, catalog, att1_row):
    at = start(att1_row.actor, deliberate=False, row="\u202eabc")
    refused = messages(at.error)
    assert "\\[U\\+202E\\]abc" in refused and "\u202e" not in refused and "找不到记录" in refused  # shown as [U+202E]abc
    assert "row" not in at.query_params  # not retried on every rerun

    at = start(att1_row.actor, deliberate=False, row="x" * 100_000)
    refused = messages(at.error)
    assert "找不到记录" in refused and len(refused) < 300


@pytest.mark.parametrize("deliberate", [True, False], ids=["opened", "typed"])
def test_an_address_naming_another_filers_row_is_refused_on_the_page_and_shows_none_of_it(app_env, catalog, att1_row, reopen, deliberate):
    other = Actor("provider_other", "provider", "另一家服务商有限公司", "广州")
    record = store_with(reopen, catalog).append("att1", {**att1_row.values, "project_name": "别家的项目"}, actor=other, status="草稿")
    at = start(att1_row.actor, deliberate=deliberate, row=record.id)
    assert not at.exception
    assert record.id in unescaped(messages(at.error)) and "正在修改记录" not in messages(at.info)
    assert at.session_state[state.field_key("att1", "project_name")] != "别家的项目"
    assert any(e.action == "拒绝访问" and e.row_id == record.id for e in reopen().audit())


def test_an_unknown_form_in_the_address_opens_the_first_form_the_account_fills(app_env, catalog, att1_row):
    at = start(att1_row.actor, form_id="att9\u202e" + "x" * 5000)
    assert not at.exception and at.query_params["form"] == "att1"


def test_a_return_reason_is_shown_as_typed_not_as_markdown(app_env, catalog, att1_row, reopen):
    from lib import review

    store = store_with(reopen, catalog)
    record = store.append("att1", att1_row.values, actor=att1_row.actor, status="已提交")
    reason = "请核对 [点此重新登录](http://example.invalid/login) ![x](http://example.invalid/a.png) **金额**"
    review.return_for_changes(store, catalog.form("att1"), Actor("province", "province", "广东省工业和信息化厅"), {record.id: record.rev}, reason)
    at = start(att1_row.actor, row=record.id)
    [shown] = [w.value for w in at.warning if "审核意见" in w.value]
    assert "](http" not in shown and "![" not in shown and "**金额" not in shown
    assert "\\[点此重新登录\\]" in shown  # escaped: the brackets show as typed


CONFIRM = "我已核实以上提醒，确认提交"


def test_a_submit_with_warnings_needs_the_fillers_confirmation(app_env, catalog, att1_row, reopen):
    """Warnings (rules of severity ``warning``) are listed with the field named, and nothing is filed
    until the filler ticks the confirmation; the tick then files the row (issue 12, outcome 6)."""
    values = dict(att1_row.values, subsidy_amount=att1_row.values["paid_amount"])
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), values)
    at = click(at.run(), "提交")
    assert not at.exception
    listed = unescaped(messages(at.warning))
    assert "提交前请核实以下提醒" in listed and "「奖补金额（万元）」：与实际支付金额相同" in listed
    assert "(#problem-att1-subsidy_amount)" in listed  # a link to the note drawn under the field
    assert 'id="problem-att1-subsidy_amount"' in notes(at) and "与实际支付金额相同" in notes(at)
    assert reopen().records("att1") == [] and not at.success
    assert [c.label for c in at.checkbox] == [CONFIRM]

    at = click(at, "提交")  # again, without the tick: still asked, still nothing filed
    assert reopen().records("att1") == [] and [c.label for c in at.checkbox] == [CONFIRM]

    next(c for c in at.checkbox if c.label == CONFIRM).check().run()
    at = click(at, "提交")
    assert not at.exception
    assert "提交成功" in messages(at.success)
    [stored] = reopen().records("att1")
    assert stored.values["subsidy_amount"] == stored.values["paid_amount"] == att1_row.values["paid_amount"]


def test_a_tick_confirms_only_the_warnings_it_was_shown_with(app_env, catalog, att1_row, reopen):
    form = catalog.form("att1")
    values = dict(att1_row.values, subsidy_amount=att1_row.values["paid_amount"])
    at = start(att1_row.actor)
    fill_in(at, form, values)
    at = click(at.run(), "提交")
    next(c for c in at.checkbox if c.label == CONFIRM).check().run()
    away = next(c for c in catalog.campaign.cities if c not in (values["client_city"], "深圳"))
    at.session_state[state.field_key("att1", "client_city")] = away  # a second warning appears
    at = click(at.run(), "提交")
    assert reopen().records("att1") == []
    assert "「企业统一社会信用代码」" in unescaped(messages(at.warning))
    assert [c.value for c in at.checkbox if c.label == CONFIRM] == [False]


def test_a_draft_with_warnings_is_saved_without_asking(app_env, catalog, att1_row, reopen):
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), dict(att1_row.values, subsidy_amount=att1_row.values["paid_amount"]))
    at = click(at.run(), "保存草稿")
    assert "草稿已保存" in messages(at.success) and not at.checkbox
    assert [r.status for r in reopen().records("att1")] == ["草稿"]


def test_a_submit_is_checked_against_the_campaign_clock(app_env, catalog, att1_row, reopen, monkeypatch):
    """today() in the forms' rules is the campaign clock (setting campaign_today): a follow-up dated
    after it has not happened yet."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-09-15")
    at = start(att1_row.actor)
    fill_in(at, catalog.form("att1"), dict(att1_row.values, followup_date=dt.date(2020, 9, 16)))
    at = click(at.run(), "提交")
    assert "「回访日期」不能晚于今天" in messages(at.error)
    assert reopen().records("att1") == []
    fill_in(at, catalog.form("att1"), dict(att1_row.values, followup_date=dt.date(2020, 9, 15)))
    at = click(at.run(), "提交")
    assert "提交成功" in messages(at.success)
