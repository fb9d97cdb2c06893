"""Importing complaints from .xlsx (lib.sampling.complaints): every row checked as the fill page checks it,
problems by Excel row and header, nothing stored unless every row passes, and what is stored counts
towards the frame's complaints (the shipped campaign binds a complaint form; the other campaign none)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest

from lib.auth import Forbidden
from lib.core.records import Actor
from lib.core.statuses import SUBMITTED
from lib.forms.columns import sheet_spec
from lib.office.excel import read_workbook
from lib.sampling import complaints
from lib.sampling.frame import build_frame

from .conftest import ENTRIES, OTHER, PROVINCE, SHIPPED, import_vouchers

FORM = complaints.complaint_form(SHIPPED)
TODAY = dt.date(2020, 10, 1)
LABELS = [f.label for f in complaints.importable_fields(FORM)]
#: One complaint per row, by the shipped form's labels (收到日期 as Excel gives a date cell).
GOOD = {"服务券编号": "V-000004", "收到日期": dt.datetime(2020, 9, 20), "来源": "信访", "投诉举报内容": "服务商未按合同提供服务",
        "处理情况": None}


def sheet(*lines: list) -> bytes:
    """An .xlsx of one sheet holding ``lines`` as its rows (a header may repeat: a person's file may)."""
    book = openpyxl.Workbook()
    for line in lines:
        book.active.append(line)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def workbook(*rows: dict, headers: list[str] | None = None) -> bytes:
    headers = headers or LABELS
    return sheet(headers, *[[r.get(h) for h in headers] for r in rows])


#: The register the complaints name: ENTRIES (V-000000 … V-000008) and V-000009.
REGISTER = [*ENTRIES, ("V-000009", "广州", "服务商1", 6.0)]


@pytest.fixture
def ready(store):
    """The complaint form's sheet, and the register REGISTER in force (a complaint names one of its projects)."""
    store.ensure_sheet(sheet_spec(FORM))
    import_vouchers(store, REGISTER)
    return store


def stored(store) -> list:
    return store.records(FORM.id)


def test_the_template_is_the_forms_cell_fields_by_label():
    [sheet] = read_workbook(complaints.template_xlsx(FORM))
    assert sheet.rows == [LABELS]
    assert LABELS == ["服务券编号", "收到日期", "来源", "投诉举报内容", "处理情况"]


def test_a_good_file_is_stored_as_filed_rows_and_counts_towards_the_frame(ready):
    found = complaints.import_complaints(ready, SHIPPED, workbook(GOOD, {**GOOD, "服务券编号": "V-000005", "来源": "12345热线"}),
                                         PROVINCE, today=TODAY)
    assert found.ok and found.checked == 2 and not found.problems
    rows = stored(ready)
    assert [r.status for r in rows] == [SUBMITTED, SUBMITTED] and rows[0].owner == PROVINCE.account
    assert rows[0].values["received_date"] == dt.date(2020, 9, 20) and rows[1].values["source"] == "12345热线"
    projects = pd.DataFrame([{"voucher": v, "city": c, "provider": p, "firm": f"企业{v}", "subsidy": s} for v, c, p, s in ENTRIES])
    frame = build_frame(projects, ready.snapshot, SHIPPED.bindings, SHIPPED.campaign.sampling)
    assert frame.rows.loc[frame.rows["complaint"], "voucher"].tolist() == ["V-000004", "V-000005"]


def test_problems_are_listed_by_excel_row_and_header_and_nothing_is_stored(ready):
    data = workbook(GOOD, {**GOOD, "收到日期": "2020-13-01", "服务券编号": "V-000005"},
                    {**GOOD, "来源": "路边听说", "投诉举报内容": None, "服务券编号": "V-000006"},
                    {**GOOD, "收到日期": dt.datetime(2020, 10, 2), "服务券编号": "V-000007"})  # after the campaign clock's today
    found = complaints.import_complaints(ready, SHIPPED, data, PROVINCE, today=TODAY)
    assert not found.ok and stored(ready) == []
    assert [(p.row, p.header, p.code) for p in found.problems] == [
        (3, "收到日期", "not_date"), (4, "来源", "not_choice"), (4, "投诉举报内容", "required"), (5, "收到日期", "constraint")]
    table = found.table()
    assert table.columns.tolist() == ["行号", "列", "问题"] and table["行号"].tolist() == [3, 4, 4, 5]


@pytest.mark.parametrize("headers, code", [
    ([*LABELS, "备注"], "unknown_header"),
    ([h for h in LABELS if h != "来源"], "missing_header"),
    ([*LABELS, "来源"], "header_twice"),
    (["甲", "乙"], "no_header"),
])
def test_headers_that_are_not_the_forms_are_refused(ready, headers, code):
    found = complaints.import_complaints(ready, SHIPPED, workbook(GOOD, headers=headers), PROVINCE, today=TODAY)
    assert [p.code for p in found.problems] == [code] and stored(ready) == []


def test_a_title_above_the_header_and_a_required_mark_are_read(ready):
    data = sheet(["2020年投诉举报登记"], [f"{h}*" if h == "服务券编号" else h for h in LABELS], [GOOD[h] for h in LABELS])
    found = complaints.import_complaints(ready, SHIPPED, data, PROVINCE, today=TODAY)
    assert found.ok and len(stored(ready)) == 1


def test_more_rows_than_allowed_are_refused_before_any_is_checked(ready, monkeypatch):
    monkeypatch.setattr(complaints, "MAX_ROWS", 2)
    found = complaints.import_complaints(ready, SHIPPED, workbook(*[{**GOOD, "服务券编号": f"V-00000{i}"} for i in range(3)]),
                                         PROVINCE, today=TODAY)
    assert [p.code for p in found.problems] == ["too_many_rows"] and stored(ready) == []


def test_a_complaint_recorded_already_or_twice_in_the_file_is_refused(ready):
    assert complaints.import_complaints(ready, SHIPPED, workbook(GOOD), PROVINCE, today=TODAY).ok
    again = complaints.import_complaints(ready, SHIPPED, workbook({**GOOD, "服务券编号": "V-000009"}, GOOD), PROVINCE, today=TODAY)
    assert [(p.row, p.code) for p in again.problems] == [(3, "already_recorded")] and len(stored(ready)) == 1
    twice = complaints.import_complaints(ready, SHIPPED, workbook({**GOOD, "服务券编号": "V-000009"}, {**GOOD, "服务券编号": "V-000009", "投诉举报内容": "服务商未按合同提供服务 "}),
                                         PROVINCE, today=TODAY)
    assert [(p.row, p.code) for p in twice.problems] == [(3, "repeated_row")] and len(stored(ready)) == 1


@pytest.mark.parametrize("typed", ["V-999999", "V-00002"])  # no such project; a typo of V-000002 the form's pattern lets through
def test_a_voucher_no_project_has_is_refused_by_excel_row(ready, typed):
    """Attack M4: it was stored silently and counted towards nobody (the project meant was not taken)."""
    found = complaints.import_complaints(ready, SHIPPED, workbook(GOOD, {**GOOD, "服务券编号": typed}), PROVINCE, today=TODAY)
    assert [(p.row, p.header, p.code) for p in found.problems] == [(3, "服务券编号", "voucher_not_in_frame")]
    assert typed in found.problems[0].message and stored(ready) == []
    assert complaints.import_complaints(ready, SHIPPED, workbook({**GOOD, "服务券编号": "Ｖ－０００００２"}), PROVINCE, today=TODAY).ok  # folded as the frame folds


def test_before_any_project_is_known_a_complaint_cannot_be_checked_and_is_refused(store):
    store.ensure_sheet(sheet_spec(FORM))
    found = complaints.import_complaints(store, SHIPPED, workbook(GOOD), PROVINCE, today=TODAY)
    assert [(p.code, p.row) for p in found.problems] == [("no_projects", None)] and stored(store) == []


def test_the_complaints_that_match_no_project_of_a_frame_are_listed(ready):
    assert complaints.import_complaints(ready, SHIPPED, workbook(GOOD, {**GOOD, "服务券编号": "V-000009"}), PROVINCE, today=TODAY).ok
    entered = ready.append(FORM.id, {**{f.key: GOOD[f.label] for f in complaints.importable_fields(FORM)}, "voucher_no": "V-00002"},
                           actor=PROVINCE, status=SUBMITTED)  # entered on the fill page: the form's pattern lets it through
    table = complaints.unmatched(ready, SHIPPED, {"V-000004", "V-000002"})
    assert table["记录"].tolist() == [r.id for r in stored(ready) if r.values["voucher_no"] == "V-000009"] + [entered.id]
    assert table["服务券编号"].tolist() == ["V-000009", "V-00002"]
    assert complaints.unmatched(ready, OTHER, set()).empty  # the other campaign binds no complaint form


def test_no_other_role_imports_and_the_refusal_is_audited(ready):
    city = Actor("city_gz", "city", "广州市工业和信息化局", "广州")
    with pytest.raises(Forbidden):
        complaints.import_complaints(ready, SHIPPED, workbook(GOOD), city, today=TODAY)
    assert stored(ready) == []
    assert [(e.account, e.action, e.form_id) for e in ready.audit()][-1] == (city.account, "拒绝访问", FORM.id)


def test_a_file_that_is_no_workbook_is_one_problem(ready):
    found = complaints.import_complaints(ready, SHIPPED, b"not a workbook", PROVINCE, today=TODAY)
    assert [(p.code, p.row) for p in found.problems] == [("unreadable", None)] and found.problems[0].message
    assert stored(ready) == []


def test_a_campaign_without_a_complaint_form_has_nothing_to_import_into(store):
    with pytest.raises(complaints.ComplaintsUnbound) as info:
        complaints.import_complaints(store, OTHER, workbook(GOOD), PROVINCE)
    assert info.value.code == "complaints_unbound"
