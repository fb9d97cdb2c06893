"""Read an uploaded workbook into plain rows; write DataFrames to .xlsx bytes.

Reading uses python-calamine (fast; .xlsx, .xls, .ods) and keeps Excel's row numbers, so a problem
can name the row a person sees; an upload is bounded before it is parsed (``read_upload``). Writing
uses XlsxWriter with every text cell written as text: a value such as ``=HYPERLINK(...)``, ``+1`` or
``0012`` never becomes a formula, a link or a number.

>>> data = to_xlsx({"表": pd.DataFrame({"编号": ["=1+1", "0012"], "金额": [1.5, None]})})
>>> [s.rows for s in read_workbook(data)]
[[['编号', '金额'], ['=1+1', 1.5], ['0012', None]]]
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from lib.xlsx.bounds import WorkbookLimits
from lib.xlsx.reader import read_bounded, read_cells

#: Characters Excel forbids in a sheet name.
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_COL_WIDTH = 60


@dataclass(frozen=True)
class SheetRows:
    """One worksheet as rows of cell values; ``rows[i]`` is Excel row ``i + 1``.

    Blank cells are None; numbers are float or int; dates are ``datetime.date``/``datetime``.
    """

    name: str
    rows: list[list[Any]]


def read_workbook(data: bytes) -> list[SheetRows]:
    """Every sheet of a workbook this app wrote (or a test built), in workbook order, read in this
    process. Raises ExcelReadError when the bytes are not a readable workbook. An upload goes
    through ``read_upload`` instead."""
    return [SheetRows(name, rows) for name, rows in read_cells(data)]


def read_upload(data: bytes, limits: WorkbookLimits) -> list[SheetRows]:
    """Every sheet of an uploaded workbook, checked against ``limits`` before it is parsed and read
    where a runaway cannot take the server down (``lib.xlsx.reader``). Raises ExcelReadError
    with a code and a Chinese message for anything it refuses."""
    return [SheetRows(name, rows) for name, rows in read_bounded(data, limits)]


def sheet_title(name: str, taken: set[str] | None = None) -> str:
    """A valid, unique Excel sheet name made from ``name``.

    >>> sheet_title("核对/问题[清单]")
    '核对_问题_清单_'
    >>> sheet_title("Sheet", {"Sheet"})
    'Sheet (2)'
    """
    base = _SHEET_NAME_BAD.sub("_", name).strip("'") or "Sheet"
    base = base[:31]
    title, n = base, 2
    while taken and title in taken:
        suffix = f" ({n})"
        title, n = base[: 31 - len(suffix)] + suffix, n + 1
    return title


def _text_of(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            return "\n".join("；".join(f"{k}：{v}" for k, v in row.items() if v not in (None, "")) for row in value)
        return "、".join(str(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}：{v}" for k, v in value.items())
    return str(value)


def _width(series: pd.Series, header: str) -> int:
    sample = series.head(200).map(lambda v: "" if v is None else str(v))
    longest = max([len(header), *(len(s) for s in sample)]) if len(sample) else len(header)
    return min(_MAX_COL_WIDTH, max(8, int(longest * 1.6) + 2))


def to_xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    """Workbook bytes with one sheet per frame: bold header row, frozen panes, typed cells.

    Strings stay strings (no formulas, links or numbers made of text), dates are real dates
    (``YYYY-MM-DD``), floats keep two decimals, lists are joined with 、.
    """
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(
        out,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "nan_inf_to_errors": False,
        },
    )
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    date_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    time_fmt = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money_fmt = book.add_format({"num_format": "0.00"})
    taken: set[str] = set()
    for name, frame in (sheets or {"Sheet1": pd.DataFrame()}).items():
        title = sheet_title(name, taken)
        taken.add(title)
        ws = book.add_worksheet(title)
        columns = list(frame.columns)
        for c, col in enumerate(columns):
            ws.write_string(0, c, str(col), bold)
            ws.set_column(c, c, _width(frame[col], str(col)))
        ws.freeze_panes(1, 0)
        for c, col in enumerate(columns):
            for r, value in enumerate(frame[col].tolist(), start=1):
                _write(ws, r, c, value, date_fmt, time_fmt, money_fmt)
        if columns and len(frame):
            ws.autofilter(0, 0, len(frame), len(columns) - 1)
    book.close()
    return out.getvalue()


def _write(ws, r: int, c: int, value: Any, date_fmt, time_fmt, money_fmt) -> None:
    if value is None or value is pd.NaT:
        return
    if isinstance(value, str):
        if value:
            ws.write_string(r, c, value)
    elif isinstance(value, bool):
        ws.write_string(r, c, "是" if value else "否")
    elif isinstance(value, int):
        ws.write_number(r, c, value)
    elif isinstance(value, float):
        if not math.isnan(value) and not math.isinf(value):
            ws.write_number(r, c, value, None if value.is_integer() else money_fmt)
    elif isinstance(value, dt.datetime):  # pd.Timestamp is a datetime
        if value.hour or value.minute or value.second:
            ws.write_datetime(r, c, value.to_pydatetime() if hasattr(value, "to_pydatetime") else value, time_fmt)
        else:
            ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt)
    elif hasattr(value, "item"):  # numpy scalar
        _write(ws, r, c, value.item(), date_fmt, time_fmt, money_fmt)
    else:
        ws.write_string(r, c, _text_of(value))
