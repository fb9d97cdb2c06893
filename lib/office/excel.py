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

import contextlib
import contextvars
import datetime as dt
import functools
import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import pyarrow as pa
from xlsxwriter.utility import xl_col_to_name

from lib.core.text import as_text, clipped
from lib.core.values import LIST_SEPARATOR, MAX_CELL_CHARS, NO, TWO_DECIMALS, WALL_CLOCK, YES, is_missing, text, wall_time
from lib.xlsx.bounds import WorkbookLimits
from lib.xlsx.names import sheet_name
from lib.xlsx.reader import read_bounded, read_cells

from .xlsx_package import DATE, DATETIME, HEADER, MONEY, Package, SharedStrings, cell_xml, entry_texts, number_texts, rows_xml

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

    Each column is rendered at once, :data:`CHUNK` rows at a time, straight into the file's XML
    (``lib.office.xlsx_package``): a column of numbers, texts, booleans or times by its dtype, any
    other column value by value as ``write_cell`` writes a cell. Inside ``reporting(progress)`` the
    share of rows written is reported after each chunk.
    """
    frames = sheets or {"Sheet1": pd.DataFrame()}
    out = io.BytesIO()
    package = Package(out)
    report = _progress.get()
    total, done = sum(len(frame) for frame in frames.values()), 0
    taken: set[str] = set()
    for name, frame in frames.items():
        title = sheet_name(name, taken)
        taken.add(title)
        declared = (kinds or {}).get(name, {})
        headers = [str(col) for col in frame.columns]
        columns = [frame.iloc[:, c] for c in range(len(headers))]
        widths = [column_width(h, col.head(200).tolist()) for h, col in zip(headers, columns, strict=True)]
        plans = [_plan(col, declared.get(h, ""), xl_col_to_name(c)) for c, (h, col) in enumerate(zip(headers, columns, strict=True))]

        def body(frame=frame, headers=headers, plans=plans):
            nonlocal done
            if headers:
                entries = package.strings.add(headers).tolist()
                yield '<row r="1">' + "".join(f'<c r="{xl_col_to_name(c)}1" s="{HEADER}" t="s"><v>{e}</v></c>' for c, e in enumerate(entries)) + "</row>"
            for first in range(0, len(frame) if plans else 0, CHUNK):  # rows of no columns have no cells
                rows = range(first + 2, min(first + CHUNK, len(frame)) + 2)
                yield rows_xml(rows, [cells_of(column.iloc[first:first + CHUNK], rows, package.strings) for column, cells_of in plans])
                done += len(rows)
                if report is not None:
                    report(done / total)

        package.add_sheet(title, widths, len(frame), body())
    package.close()
    return out.getvalue()


@contextlib.contextmanager
def reporting(progress: Callable[[float], None]):
    """Within the block, ``to_xlsx`` reports to ``progress`` the share of its rows written (0 to 1),
    after each chunk. Context-local: a build in another thread (another session) reports to its own."""
    token = _progress.set(progress)
    try:
        yield
    finally:
        _progress.reset(token)


_progress: contextvars.ContextVar[Callable[[float], None] | None] = contextvars.ContextVar("excel_progress", default=None)
#: Rows rendered and written at a time: progress is reported after each chunk, memory bounded by it.
CHUNK = 5_000
#: Renders a column's rows (the values, their Excel row numbers) as the XML of their cells ("" for a blank).
_Cells = Callable[[pd.Series, range, SharedStrings], "pa.Array | list[str]"]


def _plan(column: pd.Series, kind: str, letter: str) -> tuple[pd.Series, _Cells]:
    """How ``column`` (headed ``letter``) is rendered, decided once for the column: the column to render
    (converted to a dtype when its values allow) and the function that renders its rows, by dtype,
    else value by value (``_value_cells``)."""
    number_style = MONEY if kind in TWO_DECIMALS else None
    guess = not kind
    dtype = column.dtype
    numpy = isinstance(dtype, np.dtype)  # not pandas' nullable Int64, boolean …: their NA goes value by value
    if dtype == np.dtype(object):
        column, dtype = _typed_column(column, guess=guess)
    if numpy and dtype.kind == "b" or dtype is _BOOLS:
        return column, functools.partial(_bool_cells, letter=letter)
    if numpy and (dtype.kind == "f" or (dtype.kind in "iu" and not ((column >= _MAX_EXACT_NUMBER) | (column <= -_MAX_EXACT_NUMBER)).any())):
        return column, functools.partial(_number_cells, letter=letter, style=number_style, guess=guess)
    if dtype.kind == "M" and not (column.dropna() < pd.Timestamp(_SERIAL_FROM, tz=getattr(dtype, "tz", None))).any():
        return column, functools.partial(_time_cells, letter=letter, guess=guess)
    if dtype is _DATES and not (column.dropna() < _SERIAL_FROM.date()).any():
        return column, functools.partial(_date_cells, letter=letter)
    if isinstance(dtype, pd.StringDtype) or dtype is _TEXTS:
        return column, functools.partial(_text_cells, letter=letter)
    if dtype is _LISTS:
        return column, functools.partial(_list_cells, letter=letter)
    return column, functools.partial(_value_cells, letter=letter, fmt=_ValueFormat(number_style, guess))


# What an object column holds when it holds one kind of value (and blanks: None, NaN): see _typed_column.
_TEXTS, _BOOLS, _DATES, _LISTS = (pd.CategoricalDtype([name]) for name in ("texts", "booleans", "dates", "lists"))


def _typed_column(column: pd.Series, *, guess: bool) -> tuple[pd.Series, Any]:
    """An object column with the dtype its values allow: naive datetimes as datetime64, Decimals of a
    declared column (not ``guess``: no fraction to look for) within Excel's 15 digits as floats, else
    the column as it is with a marker of what it holds (texts, booleans, dates or lists, and blanks), or object."""
    values = column.tolist()
    types = set(map(type, values)) - {type(None)}
    if float in types:  # NaN is a blank; any other float makes the column mixed
        if not all(v != v for v in values if type(v) is float):
            return column, np.dtype(object)
        types.discard(float)
    if types <= {str}:
        return column, _TEXTS
    if types == {bool}:
        return column, _BOOLS
    if types == {dt.date}:
        return column, _DATES
    if types and types <= {list, tuple}:
        return column, _LISTS
    if types == {Decimal} and not guess:
        numbers = [v for v in values if type(v) is Decimal]
        if all(v.is_finite() and abs(v) < _MAX_EXACT_NUMBER for v in numbers):
            converted = pd.Series([float(v) if type(v) is Decimal else None for v in values], dtype="float64", index=column.index)
            return converted, converted.dtype
    if types <= {dt.datetime, pd.Timestamp} and all(v.tzinfo is None for v in values if isinstance(v, dt.datetime)):
        try:
            converted = pd.to_datetime(column)
        except (ValueError, OverflowError, TypeError):  # beyond what datetime64 holds: value by value
            return column, np.dtype(object)
        return converted, converted.dtype
    return column, np.dtype(object)


def _text_cells(values: pd.Series | list, rows: range, strings: SharedStrings, *, letter: str, empty: bool = False) -> list[str]:
    """Texts and blanks (None, NaN; an empty text too unless ``empty``: a list of blanks was written as one)."""
    codes, distinct = pd.factorize(values)  # a blank is code -1
    distinct = distinct.tolist()
    if distinct and max(map(len, distinct)) > _CLIP_FROM:
        distinct = [_fit(v) for v in distinct]
    entries = np.append(strings.extend(distinct), -1)
    if not empty and "" in distinct:
        entries[distinct.index("")] = -1
    entries = entries[codes]
    strings.count += int((entries >= 0).sum())
    return cell_xml(letter, rows, entry_texts(entries), _SHARED)


def _list_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str) -> list[str]:
    texts = [_list_text(v) if type(v) in (list, tuple) and v else None for v in values.tolist()]  # an empty list is blank
    return _text_cells(pd.Series(texts, dtype=object), rows, strings, letter=letter, empty=True)


def _fit(value: str) -> str:
    """``value`` cut to fit a cell, with the mark saying so."""
    return value if len(value) <= _CLIP_FROM else clipped(value, MAX_CELL_CHARS, CUT_MARK)


def _bool_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str) -> pa.Array:
    values = values.tolist()
    at = [i for i, v in enumerate(values) if type(v) is bool]
    entries = np.full(len(values), -1, dtype=np.int64)
    if at:
        entries[at] = strings.add([YES if values[i] else NO for i in at])
    return cell_xml(letter, rows, entry_texts(entries), _SHARED)


def _date_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str) -> pa.Array:
    serials = [str(v.toordinal() - _EXCEL_EPOCH_DAY + 1) if type(v) is dt.date else None for v in values.tolist()]
    return cell_xml(letter, rows, serials, _style(DATE))


def _number_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str, style: int | None, guess: bool) -> pa.Array:
    array = values.to_numpy()
    plain = _style(style)
    if not guess or array.dtype.kind in "iu":
        return cell_xml(letter, rows, number_texts(array), plain)
    with np.errstate(invalid="ignore"):
        fraction = array != np.trunc(array)
    return cell_xml(letter, rows, number_texts(array), pa.array(np.where(fraction, _style(MONEY), plain)))


def _time_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str, guess: bool) -> pa.Array:
    if values.dt.tz is not None:
        values = values.dt.tz_convert(WALL_CLOCK).dt.tz_localize(None)
    seconds = values.dt.floor("s").to_numpy("datetime64[s]")
    since = seconds.astype(np.int64) + _UNIX_EPOCH_SECONDS
    days, rest = np.divmod(since, 86_400)
    serials = days + rest / 86_400.0
    serials = np.where(np.isnat(seconds), np.nan, np.where(serials > 59, serials + 1, serials))  # NaN: a blank
    styles = np.where((rest == 0) & guess, _style(DATE), _style(DATETIME))
    return cell_xml(letter, rows, number_texts(serials), pa.array(styles))


@dataclass(frozen=True)
class _ValueFormat:
    """A column written value by value: the style of its numbers (None: General), and ``guess`` as in
    ``CellFormats``."""

    number: int | None
    guess: bool


def _value_cells(values: pd.Series, rows: range, strings: SharedStrings, *, letter: str, fmt: _ValueFormat) -> list[str]:
    values = values.tolist()
    cells = [""] * len(values)
    at: list[int] = []
    texts: list[str] = []
    for i, value in enumerate(values):
        kind = type(value)
        if kind is str or kind is list or kind is tuple:  # most cells of a column of mixed values: inline
            if not value:
                continue
            found = _fit(value) if kind is str else _list_text(value)  # a list of blanks is an empty text, as before
        else:
            found = _typed(value, fmt)
            if isinstance(found, tuple):
                style, number = found
                cells[i] = f'<c r="{letter}{rows[i]}"{_style(style)}><v>{number:.16G}</v></c>'
                continue
            if found is None:
                continue
        at.append(i)
        texts.append(found)
    for i, entry in zip(at, strings.add(texts).tolist() if texts else (), strict=True):
        cells[i] = f'<c r="{letter}{rows[i]}" t="s"><v>{entry}</v></c>'
    return cells


def _list_text(value: list | tuple) -> str:
    """``text(value)``, quick for a list of texts."""
    try:
        joined = LIST_SEPARATOR.join(value)
    except TypeError:  # not all texts: a blank among them, a number, a table's rows
        return _fit(text(value))
    return _fit(joined if "" not in value else text(value))


def _typed(value: Any, fmt: _ValueFormat) -> str | tuple[int | None, float] | None:
    """One value by ``write_cell``'s rules: the text it is written as, the style and number it is
    written as, or None for a blank cell."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return _fit(value)
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, (int, float, Decimal)):
        if not isinstance(value, int) and not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            return None
        if not isinstance(value, float) and not abs(value) < _MAX_EXACT_NUMBER:
            return text(value, "money" if fmt.number else "")
        style = fmt.number or (MONEY if fmt.guess and value != int(value) else None)
        return style, float(value) if isinstance(value, Decimal) else value
    if isinstance(value, dt.datetime):
        value = wall_time(value)
        return (DATE if fmt.guess and value.time() == dt.time(0) else DATETIME), _serial(value)
    if isinstance(value, dt.date):
        return DATE, _serial(dt.datetime(value.year, value.month, value.day))
    if hasattr(value, "item"):  # numpy scalar
        return _typed(value.item(), fmt)
    return _fit(text(value))


def _style(style: int | None) -> str:
    return f' s="{style}"' if style else ""


def _serial(value: dt.datetime) -> float:
    """Excel's number of a naive datetime, as XlsxWriter computes it (1900's phantom 29 February included)."""
    delta = value - _EXCEL_EPOCH
    serial = delta.days + (float(delta.seconds) + float(delta.microseconds) / 1e6) / 86_400
    if value.isocalendar() == (1900, 1, 1):
        serial -= 1
    return serial + 1 if serial > 59 else serial


_EXCEL_EPOCH = dt.datetime(1899, 12, 31)
_EXCEL_EPOCH_DAY = _EXCEL_EPOCH.toordinal()  # a date after 1900-02-28 is a day further (Excel's 1900-02-29)
_UNIX_EPOCH_SECONDS = (dt.datetime(1970, 1, 1) - _EXCEL_EPOCH).days * 86_400
# Times from here on are converted a column at a time; an earlier one (1900's quirks) value by value.
_SERIAL_FROM = dt.datetime(1900, 3, 2)
_SHARED = ' t="s"'
# A text of up to this many characters fits a cell whatever they are (a character is at most two UTF-16 units).
_CLIP_FROM = MAX_CELL_CHARS // 2


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
        ws.write_string(r, c, _not_rich(clipped(value, MAX_CELL_CHARS, CUT_MARK)), fmt.text)
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


def _not_rich(value: str) -> str:
    """``value`` as XlsxWriter writes it as that text: it writes a string that starts with ``<r>`` and
    ends with ``</r>`` as raw rich-text XML (so ``<r>&</r>`` broke the whole file), so such a text is
    given as one run of rich text holding it, escaped (cut shorter: escaping may make it five times longer).

    >>> _not_rich("<r>&</r>"), _not_rich("<r>")
    ('<r><t xml:space="preserve">&lt;r&gt;&amp;&lt;/r&gt;</t></r>', '<r>')
    """
    if not (value.startswith("<r>") and value.endswith("</r>")):
        return value
    return f'<r><t xml:space="preserve">{escape(clipped(value, (MAX_CELL_CHARS - 40) // 5, CUT_MARK))}</t></r>'


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
