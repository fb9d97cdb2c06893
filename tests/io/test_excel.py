"""Excel export keeps text as text; reading keeps Excel row numbers."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.office.excel import read_workbook, sheet_title, to_xlsx
from lib.xlsx.bounds import ExcelReadError

TRICKY = ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2", "@x", "0012", "1e5", "http://example.com", "TRUE"]


def test_text_cells_stay_text_in_excel():
    data = to_xlsx({"导出": pd.DataFrame({"文本": TRICKY})})
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [sheet.cell(row=i + 2, column=1) for i in range(len(TRICKY))]
    assert [c.value for c in cells] == TRICKY
    assert {c.data_type for c in cells} == {"s"}


def test_types_dates_lists_and_blanks():
    frame = pd.DataFrame({
        "日期": [dt.date(2020, 9, 18), None], "时间": [pd.Timestamp("2020-09-18 10:30"), pd.NaT],
        "金额": [12.5, float("nan")], "数量": [3, 4], "多选": [["培训辅导", "项目维保"], None], "布尔": [True, False],
    })
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": frame}))).active
    assert sheet["A2"].value == dt.datetime(2020, 9, 18) and sheet["A2"].number_format == "yyyy-mm-dd"
    assert sheet["B2"].value == dt.datetime(2020, 9, 18, 10, 30)
    assert sheet["C2"].value == 12.5 and sheet["C3"].value is None and sheet["D3"].value == 4
    assert sheet["E2"].value == "培训辅导、项目维保" and sheet["F2"].value == "是"
    assert sheet.freeze_panes == "A2"


def test_read_keeps_excel_row_numbers_and_blank_cells():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["B3"] = "表头"
    sheet["C4"] = 2019
    out = io.BytesIO()
    book.save(out)
    [rows] = read_workbook(out.getvalue())
    assert rows.rows[2][1] == "表头" and rows.rows[3][2] == 2019 and rows.rows[0] == [None, None, None]


def test_unreadable_bytes():
    with pytest.raises(ExcelReadError, match="无法读取"):
        read_workbook(b"PK\x03\x04 not really")


def test_sheet_titles_are_valid_and_unique():
    assert sheet_title("a" * 40) == "a" * 31
    assert sheet_title("x" * 31, {"x" * 31}) == "x" * 27 + " (2)"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30)
                .filter(lambda v: v.strip()), min_size=1, max_size=5))
def test_text_round_trip(values):
    """Any text written by to_xlsx reads back unchanged (no formula, number or trimming)."""
    [sheet] = read_workbook(to_xlsx({"t": pd.DataFrame({"v": values})}))
    assert [r[0] for r in sheet.rows[1:]] == values
