"""AppTest of the complaint import on pages/sampling.py (lib/ui/complaints.py): a good file is recorded,
a bad one is listed by Excel row and header with nothing recorded, the same file twice records once; a
complaint naming a voucher no project has is listed on the frame section and warned of on the fill page."""

from __future__ import annotations

import datetime as dt

import pytest
from streamlit.testing.v1 import AppTest

from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.sampling import complaints
from lib.ui import state
from tests.sampling.conftest import SHIPPED, import_vouchers
from tests.sampling.test_complaints import GOOD, REGISTER, workbook

from .conftest import ROOT, sign_in

PAGE = str(ROOT / "pages" / "sampling.py")
PROVINCE = Actor("province", "province", "广东省工业和信息化厅工业互联网处")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORM = complaints.complaint_form(SHIPPED)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setenv("APP_CAMPAIGN_TODAY", "2020-10-01")  # the form refuses a complaint received after today


@pytest.fixture(autouse=True)
def register(app_env, reopen):
    """The register the complaints name in force (a complaint's voucher is checked against it)."""
    import_vouchers(reopen(), REGISTER)


def start() -> AppTest:
    return sign_in(AppTest.from_file(PAGE, default_timeout=60), PROVINCE).run()


def upload_and_import(at: AppTest, data: bytes, name: str = "投诉.xlsx") -> AppTest:
    at.get("file_uploader")[0].upload(name, data, XLSX)
    at = at.run()
    at = at.button(key=state.SAMPLING_COMPLAINTS_IMPORT).click().run()
    assert not at.exception
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_a_good_file_is_recorded_and_the_same_file_again_records_nothing(app_env, reopen):
    at = upload_and_import(start(), workbook(GOOD, {**GOOD, "服务券编号": "V-000005"}))
    assert "已从「投诉.xlsx」登记 2 件投诉举报" in texts(at.success)
    store = reopen()
    assert [(r.values["voucher_no"], r.status) for r in store.records(FORM.id)] == [("V-000004", SUBMITTED), ("V-000005", SUBMITTED)]
    assert store.records(FORM.id)[0].values["received_date"] == dt.date(2020, 9, 20)
    at = at.button(key=state.SAMPLING_COMPLAINTS_IMPORT).click().run()  # a second click: the same complaints are recorded already
    assert "未登记任何投诉举报" in texts(at.error) and len(reopen().records(FORM.id)) == 2


def test_a_bad_file_lists_its_problems_by_row_and_header_and_records_nothing(app_env, reopen):
    late = {**GOOD, "服务券编号": "V-000006", "收到日期": dt.datetime(2020, 10, 5)}  # after the campaign clock's today
    at = upload_and_import(start(), workbook(GOOD, {**GOOD, "来源": "路边听说"}, late), name="有误.xlsx")
    assert "「有误.xlsx」有 2 处问题，未登记任何投诉举报" in texts(at.error)
    [table] = [d for d in at.dataframe if "行号" in d.value.columns]
    assert table.value.to_dict("records") == [{"行号": 3, "列": "来源", "问题": "「来源」的值「路边听说」不在可选项中"},
                                              {"行号": 4, "列": "收到日期", "问题": "「收到日期」不能晚于今天。"}]
    assert reopen().records(FORM.id) == []


def test_a_recorded_complaint_naming_no_project_is_listed_with_the_frame(app_env, reopen):
    """Attack M4: a complaint entered with a voucher no project has counted towards nobody, unseen."""
    store = reopen()
    store.ensure_sheet(sheet_spec(FORM))
    values = {f.key: GOOD[f.label] for f in complaints.importable_fields(FORM)}
    typo = store.append(FORM.id, {**values, "voucher_no": "V-00002"}, actor=PROVINCE, status=SUBMITTED)
    store.append(FORM.id, values, actor=PROVINCE, status=SUBMITTED)  # V-000004: a project of the frame
    at = start()
    assert not at.exception and "有 1 件已登记的投诉举报" in texts(at.warning)
    [table] = [d.value for d in at.dataframe if "记录" in d.value.columns]
    assert table[["记录", "服务券编号"]].values.tolist() == [[typo.id, "V-00002"]]


@pytest.mark.parametrize("typed, warned", [("V-00002", True), ("V-000002", False), ("", False)])
def test_the_fill_page_warns_of_a_voucher_no_project_has(app_env, typed, warned):
    at = AppTest.from_file(str(ROOT / "pages" / "fill.py"), default_timeout=60)
    sign_in(at, PROVINCE)
    at.query_params["form"] = FORM.id
    at.session_state[state.field_key(FORM.id, "voucher_no")] = typed or None
    at = at.run()
    assert not at.exception
    assert ("V-00002 不在" in texts(at.warning).replace("\\", "")) is warned  # plain_text escapes the markdown hyphen
