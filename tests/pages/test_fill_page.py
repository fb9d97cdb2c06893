"""AppTest of pages/fill.py: submit a valid and an invalid 附件1 row, drafts, corrections, conflicts."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.demo.seed import generate
from lib.ui import state
from lib.ui.widgets import to_widget_value

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]

PAGE = str(ROOT / "pages" / "fill.py")


@pytest.fixture
def att1_row(catalog):
    """A valid 附件1 answer and the provider who files it, from the demo generator."""
    row = next(r for r in generate(catalog, rows=40, seed=7)["att1"] if r.values.get("usage_status") == "正常使用")
    return row


def start(actor, form_id="att1", **query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    sign_in(at, actor)
    at.query_params["form"] = form_id
    for k, v in query.items():
        at.query_params[k] = v
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
                    at.session_state[f"{state.table_data_key(form.id, spec.key)}:{i}:{sub.key}"] = to_widget_value(sub, row.get(sub.key))
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
