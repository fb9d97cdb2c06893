"""Excel export keeps text as text and numbers typed with their column's format; reading keeps Excel row numbers."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.core.values import text
from lib.office.excel import CUT_MARK, MAX_CELL_CHARS, read_workbook, to_xlsx
from lib.xlsx.bounds import ExcelReadError
from lib.xlsx.names import sheet_name

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
    assert sheet["B2"].value == dt.datetime(2020, 9, 18, 10, 30) and sheet["B2"].number_format == "yyyy-mm-dd hh:mm:ss"
    assert sheet["C2"].value == 12.5 and sheet["C2"].number_format == "0.00" and sheet["C3"].value is None
    assert sheet["D3"].value == 4 and sheet["D3"].number_format == "General"
    assert sheet["E2"].value == "培训辅导；项目维保" and (sheet["F2"].value, sheet["F3"].value) == ("是", "否")
    assert sheet.freeze_panes == "A2"


def test_declared_kinds_give_the_number_format():
    """A money or percent column is 0.00 for every number (a whole sum too), a declared decimal
    column is not (1.2345 keeps its digits on screen), dates at any time of day stay datetimes."""
    frame = pd.DataFrame({"金额": [3, 12.5], "比例": [50.0, 0.5], "系数": [1.2345, 2.0],
                          "提交时间": [pd.Timestamp("2020-09-18 00:00"), pd.Timestamp("2020-09-18 10:30:05")],
                          "检查日期": [dt.date(2020, 9, 1), None]})
    kinds = {"明细": {"金额": "money", "比例": "percent", "系数": "number", "提交时间": "datetime", "检查日期": "date"}}
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"明细": frame}, kinds))).active
    assert [(c.value, c.data_type, c.number_format) for c in sheet["A"][1:]] == [(3, "n", "0.00"), (12.5, "n", "0.00")]
    assert {c.number_format for c in sheet["B"][1:]} == {"0.00"}
    assert [(c.value, c.number_format) for c in sheet["C"][1:]] == [(1.2345, "General"), (2, "General")]
    assert [c.number_format for c in sheet["D"][1:]] == ["yyyy-mm-dd hh:mm:ss"] * 2
    assert sheet["E2"].is_date and sheet["E2"].number_format == "yyyy-mm-dd"


def test_times_are_beijing_wall_time_cut_to_the_second():
    """An aware time (pandas, an API) is written as Beijing wall time, not refused; microseconds are cut
    as every text of the time cuts them, so 23:59:59.999999 stays on its day."""
    utc = pd.Timestamp("2020-09-10 02:30:00", tz="UTC")
    frame = pd.DataFrame({"时间": [pd.Timestamp("2020-09-10 10:30:05", tz="Asia/Shanghai"), utc],
                          "末秒": [dt.datetime(2020, 9, 10, 23, 59, 59, 999_999), dt.datetime(2020, 9, 10, 10, 1, 0, 999_999)],
                          "带时区": [dt.datetime(2020, 9, 10, 16, 0, tzinfo=dt.UTC), None]})
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": frame}))).active
    assert [c.value for c in sheet["A"][1:]] == [dt.datetime(2020, 9, 10, 10, 30, 5), dt.datetime(2020, 9, 10, 10, 30)]
    assert [c.value for c in sheet["B"][1:]] == [dt.datetime(2020, 9, 10, 23, 59, 59), dt.datetime(2020, 9, 10, 10, 1)]
    assert [text(v) for v in frame["末秒"]] == [c.value.strftime("%Y-%m-%d %H:%M:%S") for c in sheet["B"][1:]]
    assert sheet["C2"].value == dt.datetime(2020, 9, 11) and sheet["C2"].number_format == "yyyy-mm-dd"


def test_a_decimal_is_a_number_and_a_money_column_shows_it_with_two_decimals():
    frame = pd.DataFrame({"金额": [Decimal("12.345"), Decimal("3"), 10**20, Decimal("NaN")],
                          "系数": [Decimal("1.5"), Decimal("2"), 12345678901234567891, None]})
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": frame}, {"a": {"金额": "money"}}))).active
    assert [(c.value, c.data_type, c.number_format) for c in sheet["A"][1:3]] == [(12.345, "n", "0.00"), (3, "n", "0.00")]
    assert sheet["A4"].value == "100000000000000000000.00" and sheet["A5"].value is None  # exact digits, as text
    assert [(c.value, c.number_format) for c in sheet["B"][1:3]] == [(1.5, "0.00"), (2, "General")]
    assert sheet["B4"].value == "12345678901234567891"
    huge = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": pd.DataFrame({"金额": [10**5000]}, dtype=object)}))).active
    assert huge["A2"].data_type == "s"  # a number Python will not print is a cell, not a failed download


def test_the_smallest_int64_keeps_its_digits_as_text():
    """Attack 18 #4: the 15-digit check took ``abs()``, which stays negative for -2**63 in int64, so that number
    went out as -9.22E+18 instead of its exact digits."""
    frame = pd.DataFrame({"n": pd.Series([-(2**63), 7], dtype="int64")})
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": frame}))).active
    assert [sheet["A2"].value, sheet["A3"].value] == [str(-(2**63)), 7]  # its exact digits as text


def test_a_text_longer_than_a_cell_is_cut_with_a_visible_marker():
    long = "长" * 40_000
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx({"a": pd.DataFrame({"备注": [long, "短"]})}))).active
    cut = sheet["A2"].value
    assert len(cut) <= MAX_CELL_CHARS and cut.startswith("长" * 32_000)
    assert cut.endswith(CUT_MARK.format(shown=cut.index("…"), total=40_000)) and sheet["A3"].value == "短"


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
    assert sheet_name("a" * 40) == "a" * 31
    assert sheet_name("x" * 31, {"x" * 31}) == "x" * 29 + "~2"
    assert sheet_name("核对/问题[清单]") == "核对问题清单"
    # Excel compares sheet names case-insensitively: "Sheet" and "sheet" are two sheets, not an error.
    data = to_xlsx({"Sheet": pd.DataFrame({"a": [1]}), "sheet": pd.DataFrame({"a": [2]})})
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames == ["Sheet", "sheet~2"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"), min_size=1, max_size=30)
                .filter(lambda v: v.strip()), min_size=1, max_size=5))
def test_text_round_trip(values):
    """Any text written by to_xlsx reads back unchanged (no formula, number or trimming)."""
    [sheet] = read_workbook(to_xlsx({"t": pd.DataFrame({"v": values})}))
    assert [r[0] for r in sheet.rows[1:]] == values
