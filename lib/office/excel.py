"""Read an uploaded workbook into plain rows; write DataFrames to .xlsx bytes.

Reading uses python-calamine (fast; .xlsx, .xls, .ods) and keeps Excel's row numbers, so a problem
can name the row a person sees; an upload is bounded before it is parsed (``read_upload``). Writing
uses XlsxWriter with every text cell written as text: a value such as ``=HYPERLINK(...)``, ``+1`` or
``0012`` never becomes a formula, a link or a number. Numbers and dates stay typed with the number
format of their column, and everything else reads as ``lib.core.values`` renders it (是/否, "；").
A datetime is written as a person reads it everywhere (``lib.core.values.wall_time``: Beijing time,
cut to the second, so 23:59:59.999999 stays on its day). A text longer than an Excel cell holds is
cut with a marker saying so (:data:`CUT_MARK`) rather than refused: an export is a copy of what the
system shows, one long remark must not cost the whole download, and the full text stays in the system.

>>> data = to_xlsx({"表": pd.DataFrame({"编号": ["=1+1", "0012"], "金额": [1.5, None]})})
>>> [s.rows for s in read_workbook(data)]
[[['编号', '金额'], ['=1+1', 1.5], ['0012', None]]]
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pandas as pd

from lib.core.text import as_text, clipped
from lib.core.values import MAX_CELL_CHARS, NO, TWO_DECIMALS, YES, is_missing, text, wall_time, xlsx_format
from lib.xlsx.bounds import WorkbookLimits
from lib.xlsx.names import sheet_name
from lib.xlsx.reader import read_bounded, read_cells

_MAX_COL_WIDTH = 60
#: Characters an Excel cell holds.
#: Ends a text cut to fit a cell.
CUT_MARK = "…（已截断：只显示前 {shown} 字，共 {total} 字，全文见系统）"
# Excel keeps 15 significant digits: a number this large is written as its exact text.
_MAX_EXACT_NUMBER = 10**15


@dataclass(frozen=True)
class SheetRows:
    """One worksheet as rows of cell values; ``rows[i]`` is Excel row ``i + 1``.

    Blank cells are None; numbers are float or int; dates are ``datetime.date``/``datetime``.
    ``merged``: the sheet's merged ranges, ``((row, column), (last row, last column))`` from 0.
    """

    name: str
    rows: list[list[Any]]
    merged: tuple[tuple[tuple[int, int], tuple[int, int]], ...] = ()
    #: An upload's cells holding an error value (#N/A …: read as blank) and its hidden rows, 1-based.
    errors: tuple[tuple[int, int], ...] = ()
    hidden: tuple[int, ...] = ()


def read_workbook(data: bytes) -> list[SheetRows]:
    """Every sheet of a workbook this app wrote (or a test built), in workbook order, read in this
    process. Raises ExcelReadError when the bytes are not a readable workbook. An upload goes
    through ``read_upload`` instead."""
    return [SheetRows(*sheet) for sheet in read_cells(data)]


def read_upload(data: bytes, limits: WorkbookLimits) -> list[SheetRows]:
    """Every sheet of an uploaded workbook, checked against ``limits`` before it is parsed and read
    where a runaway cannot take the server down (``lib.xlsx.reader``). Raises ExcelReadError
    with a code and a Chinese message for anything it refuses."""
    return [SheetRows(*sheet) for sheet in read_bounded(data, limits)]


def column_width(header: str, values: Iterable[Any], cap: int = _MAX_COL_WIDTH) -> int:
    """A column's width in Excel's units for its header and (a sample of) its values: wide enough
    for the longest line of CJK text (1.6 units a character), at least 8 and at most ``cap``.

    >>> column_width("序号", [1, 2, 3]), column_width("实施内容", ["很长的文字" * 20], cap=40)
    (8, 40)
    """
    texts = ["" if v is None else as_text(v) for v in values]
    longest = max([len(header), *(len(line) for t in texts for line in t.split("\n"))])
    return min(cap, max(8, int(longest * 1.6) + 2))


def to_xlsx(sheets: dict[str, pd.DataFrame], kinds: Mapping[str, Mapping[str, str]] | None = None) -> bytes:
    """Workbook bytes with one sheet per frame: bold header row, frozen panes, typed cells.

    Strings stay strings (no formulas, links or numbers made of text); ``kinds`` (sheet -> column ->
    field type or column kind) gives a column its number format: money and percent ``0.00``, dates
    ``yyyy-mm-dd``, datetimes ``yyyy-mm-dd hh:mm:ss``. A column it does not declare is formatted by
    its values: a date at midnight as a date, a fraction with two decimals. Booleans read 是/否,
    lists and tables as ``lib.core.values.text``.
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
    formats = {kind: book.add_format({"num_format": xlsx_format(kind)}) for kind in ("money", "date", "datetime")}
    taken: set[str] = set()
    for name, frame in (sheets or {"Sheet1": pd.DataFrame()}).items():
        title = sheet_name(name, taken)
        taken.add(title)
        ws = book.add_worksheet(title)
        columns = list(frame.columns)
        declared = (kinds or {}).get(name, {})
        for c, col in enumerate(columns):
            ws.write_string(0, c, str(col), bold)
            ws.set_column(c, c, column_width(str(col), frame[col].head(200).tolist()))
        ws.freeze_panes(1, 0)
        for c, col in enumerate(columns):
            kind = declared.get(str(col), "")
            fmt = CellFormats(formats, number=formats["money"] if kind in TWO_DECIMALS else None, guess=not kind)
            for r, value in enumerate(frame[col].tolist(), start=1):
                write_cell(ws, r, c, value, fmt)
        if columns and len(frame):
            ws.autofilter(0, 0, len(frame), len(columns) - 1)
    book.close()
    return out.getvalue()


@dataclass(frozen=True)
class CellFormats:
    """The cell formats of one column: ``shared`` the workbook's ``money``, ``date`` and ``datetime``
    formats; ``number`` for its numbers (None: General); ``guess``: a column no kind declares, whose
    fractions get two decimals and whose midnight datetimes are dates; ``text`` for its texts and
    blank cells (None: General, and a blank cell is left unwritten)."""

    shared: dict[str, Any]
    number: Any = None
    guess: bool = False
    text: Any = None


def write_cell(ws, r: int, c: int, value: Any, fmt: CellFormats) -> None:
    """Write ``value`` at (``r``, ``c``) of the XlsxWriter sheet ``ws`` as the module docstring says:
    text as text (cut to fit a cell), numbers and dates typed in ``fmt``'s formats, blank as blank."""
    if is_missing(value):
        if fmt.text is not None:
            ws.write_blank(r, c, None, fmt.text)
        return
    if isinstance(value, str):
        ws.write_string(r, c, clipped(value, MAX_CELL_CHARS, CUT_MARK), fmt.text)
    elif isinstance(value, bool):
        ws.write_string(r, c, YES if value else NO, fmt.text)
    elif isinstance(value, (int, float, Decimal)):
        _write_number(ws, r, c, value, fmt)
    elif isinstance(value, dt.datetime):  # pd.Timestamp is a datetime
        value = wall_time(value)
        if fmt.guess and value.time() == dt.time(0):
            ws.write_datetime(r, c, value, fmt.shared["date"])
        else:
            ws.write_datetime(r, c, value, fmt.shared["datetime"])
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), fmt.shared["date"])
    elif hasattr(value, "item"):  # numpy scalar
        write_cell(ws, r, c, value.item(), fmt)
    else:
        ws.write_string(r, c, text(value), fmt.text)


def _write_number(ws, r: int, c: int, value: int | float | Decimal, fmt: CellFormats) -> None:
    """A number typed, in its column's format; blank when not finite; an int or Decimal too long for
    Excel's 15 digits as its exact text (a float has no more digits to lose)."""
    if not isinstance(value, int) and not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
        if fmt.text is not None:
            ws.write_blank(r, c, None, fmt.text)
        return
    if not isinstance(value, float) and not abs(value) < _MAX_EXACT_NUMBER:
        ws.write_string(r, c, text(value, "money" if fmt.number else ""), fmt.text)
        return
    guessed = fmt.shared["money"] if fmt.guess and value != int(value) else None
    ws.write_number(r, c, float(value) if isinstance(value, Decimal) else value, fmt.number or guessed)
