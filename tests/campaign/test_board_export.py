"""The board's Excel exports: one number format per column (money 0.00 whatever the value, times with
seconds even at midnight), and every board column of numbers or times declares its kind."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pandas as pd

from lib.campaign.board.export import COLUMN_KINDS, workbook
from lib.campaign.board.figures import Board, compute_board

from .conftest import att1, frame, voucher

AS_OF = dt.date(2020, 9, 25)


def board(calendar) -> Board:
    """Amounts 3, 12.5 and 10 (two of them whole), one filing at midnight, each against a register entry."""
    register = pd.DataFrame([voucher("V-1", amount=5.0), voucher("V-2", amount=12.5), voucher("V-3", amount=10.5)])
    rows = frame(att1("V-1", amount=3.0, created="2020-09-10"), att1("V-2", amount=12.5, created="2020-09-10 09:30"),
                 att1("V-3", amount=10.0, created="2020-09-11 14:00:05"))
    return compute_board({"att1": rows, "att2": frame(), "att3": frame()}, register, None, calendar, AS_OF)


def formats(data: bytes, header: str) -> list[tuple]:
    """(value, number format) of each cell below ``header`` in the first sheet of ``data``."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    col = [c.value for c in sheet[1]].index(header) + 1
    return [(c.value, c.number_format) for c in next(sheet.iter_cols(min_col=col, max_col=col, min_row=2))]


def test_a_money_column_has_two_decimals_whatever_its_values(calendar):
    b = board(calendar)
    got = formats(workbook({"附件1记录": b.project_rows}, b.kinds), "奖补金额（万元）")
    assert sorted(v for v, _ in got) == [3, 10, 12.5] and {f for _, f in got} == {"0.00"}
    issues = formats(workbook({"核对问题": b.issues}), "填报奖补金额")
    assert sorted(v for v, _ in issues) == [3, 10] and {f for _, f in issues} == {"0.00"}  # whole amounts that differ
    assert {f for _, f in formats(workbook({"核对问题": b.issues}), "台账奖补金额")} == {"0.00"}


def test_a_filing_time_keeps_its_time_at_midnight(calendar):
    got = [(v, f) for v, f in formats(workbook({"进度明细": board(calendar).units}), "填报时间") if v is not None]
    assert {f for _, f in got} == {"yyyy-mm-dd hh:mm:ss"} and len(got) == 3


def test_every_board_column_of_numbers_or_times_declares_its_kind(calendar):
    """A column left undeclared would be formatted value by value again."""
    def numbers_or_times(values: pd.Series) -> bool:
        return any((isinstance(v, float) and v == v) or isinstance(v, dt.date) for v in values.tolist())

    b = board(calendar)
    tables = {name: t for name, t in vars(b).items() if isinstance(t, pd.DataFrame)}
    assert tables["project_rows"]["填报时间"].notna().all() and tables["issues"]["填报奖补金额"].notna().any()  # the figures have values
    for name, table in tables.items():
        for col in table.columns:
            assert col in COLUMN_KINDS or col in b.kinds or not numbers_or_times(table[col]), (name, col)
    assert b.kinds["奖补金额（万元）"] == "money"  # the projects form's subsidy field, by its label and type
