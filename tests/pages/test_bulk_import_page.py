"""AppTest of 批量导入（Excel） on pages/fill.py (lib/ui/bulk_import.py; issue 15, outcome 2): the template
downloads without the fields the account answers; a checked file shows its problems by row and column, or a
preview of what it creates and updates; nothing is written before 确认导入; another file or the other mode
needs a new check; rows land as drafts or submitted as chosen."""

from __future__ import annotations

import io
import os

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from lib.auth.accounts import Account, AccountsFile
from lib.core.records import Actor
from lib.core.statuses import DRAFT, SUBMITTED
from lib.office import bulk
from lib.office.template import header, sheet_names
from lib.settings import load_settings
from lib.ui import bulk_import, state
from tests.office.bulk_files import PROJECTS, PROVIDER, SHIPPED, TODAY, fill, project

from .test_fill_page import start
from .test_receipt import capture_downloads

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM = PROJECTS.id


@pytest.fixture(autouse=True)
def provider(app_env, monkeypatch):
    """The provider with its credit code on its account (the template leaves both of its fields out)."""
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", TODAY.isoformat())  # the forms' today(): follow-up dates are before it
    AccountsFile(load_settings(os.environ).accounts_path).add_many(
        [Account(PROVIDER.account, PROVIDER.role, org=PROVIDER.org, city=PROVIDER.city, org_code=PROVIDER.org_code)])


def rows_file(*rows: dict) -> bytes:
    return fill(PROJECTS, SHIPPED.campaign, list(rows), actor=PROVIDER)


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def upload(at: AppTest, data: bytes, name: str = "项目.xlsx") -> AppTest:
    at.file_uploader(key=state.import_key(FORM, "file")).set_value((name, data, XLSX))
    return at.run()


def check(at: AppTest) -> AppTest:
    at = at.button(key=state.import_key(FORM, "check")).click().run()
    assert not at.exception
    return at


def confirm_button(at: AppTest):
    return next((b for b in at.button if b.key == state.import_key(FORM, "confirm")), None)


def test_the_template_downloads_without_the_fields_the_account_answers(monkeypatch):
    downloads = capture_downloads(monkeypatch)
    at = start(PROVIDER)
    assert not at.exception
    assert [e.label for e in at.expander] == ["批量导入（Excel）"]
    book = openpyxl.load_workbook(io.BytesIO(downloads[bulk_import.template_name(PROJECTS)]()))
    heads = [c.value for c in book[sheet_names(PROJECTS)[0]][1]]
    answered = [header(f) for f in PROJECTS.all_fields() if f.from_account]
    assert answered and not set(answered) & set(heads)
    assert header(PROJECTS.field("voucher_no")) in heads
    assert bulk_import.template_name(PROJECTS) == f"{PROJECTS.short_title}-导入模板.xlsx"


def test_a_good_file_is_previewed_and_written_only_on_confirm(reopen, monkeypatch):
    reported = []  # what the check told the page's progress bar

    def plan_import(*args, progress, **kwargs):
        return real(*args, progress=lambda done, total: (reported.append((done, total)), progress(done, total)), **kwargs)

    real = bulk_import.plan_import
    monkeypatch.setattr(bulk, "PROGRESS_EVERY", 1)
    monkeypatch.setattr(bulk_import, "plan_import", plan_import)
    at = upload(start(PROVIDER), rows_file(project(1), project(2), project(3)))
    assert confirm_button(at) is None  # nothing checked yet
    at.radio(key=state.import_key(FORM, "mode")).set_value(bulk_import.SUBMIT)
    at = check(at.run())
    assert reported and reported[-1] == (3, 3) and not at.get("progress")  # the bar ran, and is gone once done
    assert "检查通过：3 条新增，0 条更新" in texts(at.success)
    [preview] = [d.value for d in at.dataframe if "操作" in d.value.columns]
    assert list(preview["行号"]) == [2, 3, 4] and set(preview["操作"]) == {"新增"}
    assert confirm_button(at).label == "确认导入 3 条"
    assert reopen().records(FORM) == []  # checked, not written

    confirm = confirm_button(at)
    at = confirm.click().run()
    assert not at.exception
    at = confirm.click().run()  # a double click: the second arrives for the button as it was drawn
    assert not at.exception
    stored = reopen().records(FORM)
    assert sorted(r.values["voucher_no"] for r in stored) == [project(i)["voucher_no"] for i in (1, 2, 3)]
    assert {r.status for r in stored} == {SUBMITTED} and {r.values["provider_name"] for r in stored} == {PROVIDER.org}
    assert "已导入：新增 3 条，更新 0 条" in texts(at.success)
    assert confirm_button(at) is None
    assert [b.label for b in at.button if b.key == state.import_key(FORM, "mine")] == ["查看我的填报"]
    at = at.run()  # the same file again: shown as imported, nothing more written
    assert confirm_button(at) is None and len(reopen().records(FORM)) == 3


def test_problems_are_listed_by_excel_row_and_column_and_nothing_is_written(reopen):
    bad = [project(1), project(2, usage_status="报废"), project(3), project(4, contract_date=project(4)["contract_date"].replace(year=2017))]
    at = upload(start(PROVIDER), rows_file(*bad))
    at.radio(key=state.import_key(FORM, "mode")).set_value(bulk_import.SUBMIT)  # a draft leaves rules unchecked
    at = check(at.run())
    assert "有 2 处问题，未导入任何数据" in texts(at.error)
    [table] = [d.value for d in at.dataframe if "问题" in d.value.columns]
    assert list(table.columns) == ["行号", "工作表", "列", "问题"]
    assert [(r["行号"], r["列"]) for r in table.to_dict("records")] == [
        (3, PROJECTS.field("usage_status").label), (5, PROJECTS.field("contract_date").label)]
    assert confirm_button(at) is None and reopen().records(FORM) == []


def test_another_file_or_the_other_mode_needs_a_new_check(reopen):
    at = check(upload(start(PROVIDER), rows_file(project(1), project(2))))
    assert confirm_button(at).label == "确认导入 2 条"
    at = upload(at, rows_file(project(1), project(2), project(3)))  # the file changed after the check
    assert confirm_button(at) is None and "检查通过" not in texts(at.success)
    at = check(at)
    assert confirm_button(at).label == "确认导入 3 条"
    at.radio(key=state.import_key(FORM, "mode")).set_value(bulk_import.SUBMIT)
    at = at.run()
    assert confirm_button(at) is None  # checked as drafts: a submit is checked again
    assert reopen().records(FORM) == []


def test_drafts_land_as_drafts_and_a_second_import_updates_them(reopen):
    at = check(upload(start(PROVIDER), rows_file(project(1), project(2))))
    at = confirm_button(at).click().run()
    first = {r.id: r for r in reopen().records(FORM)}
    assert {r.status for r in first.values()} == {DRAFT}

    at = check(upload(at, rows_file(project(1, remarks="已补充"), project(2, remarks="已补充")), name="更正.xlsx"))
    assert "检查通过：0 条新增，2 条更新" in texts(at.success)
    [preview] = [d.value for d in at.dataframe if "操作" in d.value.columns]
    assert set(preview["操作"]) == {"更新"} and set(preview["记录编号"]) == set(first)
    at = confirm_button(at).click().run()
    assert "已导入：新增 0 条，更新 2 条" in texts(at.success)
    again = {r.id: r for r in reopen().records(FORM)}
    assert set(again) == set(first) and {r.values["remarks"] for r in again.values()} == {"已补充"}
    assert all(again[i].rev == first[i].rev + 1 for i in first)


def test_a_file_that_is_no_workbook_is_refused_with_a_message(reopen):
    at = check(upload(start(PROVIDER), "凭证号,项目\n1,2\n".encode(), name="改了扩展名.xlsx"))
    assert "未导入任何数据" in texts(at.error) and confirm_button(at) is None
    assert reopen().records(FORM) == []


def test_the_complaint_form_points_to_its_own_import_instead_of_this_one():
    province = Actor("province", "province", "广东省工业和信息化厅")
    complaints = SHIPPED.bindings.of("complaints").form
    at = start(province, complaints)
    assert not at.exception
    assert "批量导入（Excel）" not in [e.label for e in at.expander]
    assert not [u for u in at.get("file_uploader") if u.key == state.import_key(complaints, "file")]
    assert "随机抽查" in texts(at.caption)

