"""How a stored value reads for a person: the one rendering every page, list, print, workbook, Sheets
view, audit entry and export uses.

The rules: blank is blank (never "None" or "nan"); booleans are 是/否; dates ``YYYY-MM-DD`` and
datetimes ``YYYY-MM-DD HH:MM:SS`` in Beijing time, cut (never rounded) to whole seconds (``wall_time``:
every writer of a typed datetime cell uses it too, so 23:59:59.999999 stays on its day); money and percent keep two decimals; a multiselect's items are
joined by "；" (full-width, as people type it in Chinese text); a table's rows read one per line as
"列：值；列：值". A spreadsheet keeps numbers and dates typed and gets the matching number format
(``xlsx_format``). One change of the audit trail reads the same everywhere (``change_text``), under
the same column headers (``AUDIT_HEADERS``) and the same cap.

The log's JSON encoding of values is another matter (``lib/store/codec.py``); this module imports
nothing of the project but ``lib.core``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from lib.core.text import as_text

#: Joins the items of a multiselect in one cell or line.
#: Largest text an .xlsx cell holds: what a value must fit in, wherever it is checked (store, form loader, exports).
MAX_CELL_CHARS = 32_767
LIST_SEPARATOR = "；"


def cell_units(text: str) -> int:
    """How many of a cell's MAX_CELL_CHARS ``text`` takes: UTF-16 code units, as Excel counts (and the
    workbook writer cuts) — a character beyond the Basic Multilingual Plane (an emoji, 𠀀) takes two.

    >>> cell_units("好"), cell_units("😀a"), cell_units("")
    (1, 3, 0)
    """
    return len(text) if text.isascii() else len(text.encode("utf-16-le")) // 2


YES, NO = "是", "否"
#: Field types (and column display hints) whose numbers always show two decimals (万元, %).
TWO_DECIMALS = ("money", "percent")
DATE_FORMAT = "%Y-%m-%d"
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The clock a person reads: China Standard Time (UTC+8, no daylight saving since 1991). The store's
#: own times are naive local times; a timezone-aware value (from pandas, an API) is shown in it.
WALL_CLOCK = dt.timezone(dt.timedelta(hours=8))

#: The columns of the audit trail wherever it is shown: the audit page, the workbook's and the Sheets
#: ``_audit`` sheet, an export.
AUDIT_HEADERS = ("时间", "账号", "操作", "表单", "记录编号", "版本", "变更内容", "备注")
#: Longest 变更内容 text; the full change stays in the log and in a row's history.
MAX_CHANGE_CHARS = 2_000
#: A blank old or new value in a 变更内容 text ("备注：（空） → 已补充").
EMPTY = "（空）"

_XLSX_FORMATS = {"money": "0.00", "percent": "0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}


def is_missing(value: Any) -> bool:
    """None, an empty text or list, and the NaN/NaT a DataFrame puts in an empty cell.

    >>> is_missing(None), is_missing(""), is_missing([]), is_missing(float("nan")), is_missing(0)
    (True, True, True, True, False)
    """
    if value is None or (isinstance(value, (str, list, tuple)) and not value):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")


def number_text(value: int | float | Decimal, places: int | None = None) -> str:
    """A number as text: with ``places`` decimals when given, else to 15 significant digits (what a
    spreadsheet keeps: no float noise), never with an exponent.

    >>> number_text(12.5, 2), number_text(3.0), number_text(0.1 + 0.2), number_text(1234567.5), number_text(7, 2)
    ('12.50', '3', '0.3', '1234567.5', '7.00')
    >>> number_text(1e16), number_text(1e-7), number_text(12345678901234567891, 2)
    ('10000000000000000', '0.0000001', '12345678901234567891.00')
    """
    if isinstance(value, int) and not isinstance(value, bool):  # exact, however many digits (no float)
        digits = as_text(value)
        return digits + "." + "0" * places if places and digits[-1:].isdigit() else digits
    if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
        return ""
    if places is not None:
        return f"{value:.{places}f}"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    as_float = float(value)
    if as_float.is_integer():
        return str(int(as_float))
    return format(Decimal(format(as_float, ".15g")), "f")  # 15 digits, never written with an exponent


def text(value: Any, kind: str = "", places: int | None = None) -> str:
    """``value`` as text for a person. ``kind`` is a field type or column kind (``money`` and
    ``percent`` keep two decimals); ``places`` fixes the decimals of a number.

    >>> text(12.5, "money"), text(None), text(float("nan")), text(True), text(["甲", "乙"])
    ('12.50', '', '', '是', '甲；乙')
    >>> text(dt.date(2020, 9, 18)), text(dt.datetime(2020, 9, 18, 10, 30))
    ('2020-09-18', '2020-09-18 10:30:00')
    >>> text([{"姓名": "张三", "电话": "138"}, {"姓名": "李四", "电话": None}])
    '姓名：张三；电话：138\\n姓名：李四'
    """
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, (int, float, Decimal)):
        return number_text(value, 2 if kind in TWO_DECIMALS else places)
    if isinstance(value, dt.datetime):
        return wall_time(value).strftime(DATETIME_FORMAT)
    if isinstance(value, dt.date):
        return value.strftime(DATE_FORMAT)
    if isinstance(value, dict):
        return table_text([{str(k): text(v) for k, v in value.items()}])
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, dict) for item in value):
            return table_text([{str(k): text(v) for k, v in row.items()} for row in value if isinstance(row, dict)])
        return LIST_SEPARATOR.join(text(item) for item in value if not is_missing(item))
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar from a DataFrame
        return text(value.item(), kind, places)
    return as_text(value)


def wall_time(value: dt.datetime) -> dt.datetime:
    """``value`` as a person reads it, for a text or a typed spreadsheet cell: naive, in
    :data:`WALL_CLOCK` when it carries a timezone, and cut to whole seconds — never rounded, which
    could move 23:59:59.9 into the next day (a spreadsheet rounds to its display's seconds).

    >>> wall_time(dt.datetime(2020, 9, 10, 23, 59, 59, 999999))
    datetime.datetime(2020, 9, 10, 23, 59, 59)
    >>> wall_time(dt.datetime(2020, 9, 10, 16, 0, tzinfo=dt.UTC))
    datetime.datetime(2020, 9, 11, 0, 0)
    """
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp: its nanoseconds go with the microseconds
        value = value.to_pydatetime(warn=False)
    if value.tzinfo is not None:
        value = value.astimezone(WALL_CLOCK).replace(tzinfo=None)
    return value.replace(microsecond=0)


def table_text(rows: list[Mapping[str, str]]) -> str:
    """Rows already rendered (``{column: text}``) as one text: a line per row, "列：值" joined by "；",
    blank answers left out."""
    return "\n".join(LIST_SEPARATOR.join(f"{k}：{v}" for k, v in row.items() if v) for row in rows)


def change_text(changes: Mapping[str, Any], label: Callable[[str], str], *, created: bool = False,
                kind: Callable[[str], str] | None = None) -> str:
    """The 变更内容 of one audit entry: a change as one "字段：旧 → 新" line per field of ``changes``
    (key -> (old, new)), each value read as ``text`` with the field's ``kind`` (its type or column
    display: money reads 12.50 here as in its cell), cut at ``MAX_CHANGE_CHARS`` with "…"; a creation as "新增记录（N 个字段）",
    N the values given (its values are the row itself). For a creation ``changes`` may be the initial
    values themselves (a store writing 100,000 entries need not pair each with None first).

    >>> change_text({"n": (1, 2), "_status": ("草稿", "已提交")}, {"n": "人数", "_status": "状态"}.get)
    '人数：1 → 2\\n状态：草稿 → 已提交'
    >>> change_text({"a": (None, 1), "b": (None, "x")}, str, created=True), change_text({"a": 1, "b": "x", "c": None}, str, created=True)
    ('新增记录（2 个字段）', '新增记录（2 个字段）')
    >>> change_text({"r": ("旧", None)}, str)
    'r：旧 → （空）'
    >>> change_text({"amt": (12.5, 3)}, {"amt": "金额"}.get, kind={"amt": "money"}.get)
    '金额：12.50 → 3.00'
    """
    if created:
        return f"新增记录（{sum(v is not None for v in changes.values())} 个字段）"
    kind = kind or (lambda key: "")
    out = "\n".join(f"{label(k) or k}：{text(old, kind(k) or '') or EMPTY} → {text(new, kind(k) or '') or EMPTY}"
                    for k, (old, new) in changes.items())
    return out if len(out) <= MAX_CHANGE_CHARS else out[:MAX_CHANGE_CHARS] + "…"


def xlsx_format(kind: str) -> str:
    """The .xlsx number format of a column of ``kind`` ("" for none: the cell shows as written).

    >>> xlsx_format("money"), xlsx_format("date"), xlsx_format("text")
    ('0.00', 'yyyy-mm-dd', '')
    """
    return _XLSX_FORMATS.get(kind, "")
