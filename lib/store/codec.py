"""Values in and out of the store: validation, the log's JSON encoding, and workbook cells.

Three representations of one field value:

* the Python value a caller hands to ``append``/``update`` (str, int, float, Decimal, bool,
  date, datetime, list of str, list of dicts, None);
* its JSON form in the log, where types JSON lacks are tagged (``{"$d": "2020-09-01"}``) so they
  come back as the same type;
* its workbook cell (text, number, date or blank), as everywhere a person reads it
  (``lib.core.values``): booleans 是/否, lists joined with "；", a table (a list of dicts) as its
  "列：值" rows, datetimes to the whole second. A table cell is for reading: an edit of it in the
  workbook is not imported (``from_cell`` refuses it; the person changes the table in the app),
  and a workbook written before tables read this way (a JSON cell) still reads as its value.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from decimal import Decimal
from typing import Any

from lib.core.text import CELL_ILLEGAL
from lib.core.values import LIST_SEPARATOR, MAX_CELL_CHARS, NO, YES, cell_units, text, wall_time
from lib.store.base import SYSTEM_KEYS, InvalidValue

# Excel keeps 15 significant digits; larger ints are written as text so no digit is lost.
_MAX_EXACT_NUMBER = 10**15
#: A Decimal a spreadsheet cell (a double) holds without becoming inf or 0: exponents within ±300.
_MAX_EXPONENT = 300
#: An int whose text Python will still write (4,300 digits by default): about 14,000 bits; far beyond any answer.
_MAX_INT_BITS = 14_000

_SCALARS = (str, bool, int, float, Decimal, dt.date, type(None))

#: The first day Excel, WPS and LibreOffice all show as the same date: earlier serials are 0 or negative
#: (shown as a time or an error) and, before 1900-03-01, Excel's phantom 1900-02-29 puts LibreOffice a day
#: behind. A form's dates are bounded far inside (lib/forms/types.py); this bounds the store's own callers.
EARLIEST_CELL_DATE = dt.date(1900, 3, 1)


# --- validation ---------------------------------------------------------------------------------


def validate_values(values: dict[str, Any], labels: dict[str, str] | None = None) -> None:
    """Refuse, before anything is written, any value a workbook cannot hold faithfully.

    Raises InvalidValue naming the field (its label when known) in Chinese.

    >>> validate_values({"remark": "好", "n": 3, "tags": ["a"]})
    >>> validate_values({"remark": "a\\x07"}, {"remark": "备注"})
    Traceback (most recent call last):
    ...
    lib.store.base.InvalidValue: 字段「备注」含有表格无法保存的控制字符（\\x07），请删除后再提交。
    """
    labels = labels or {}
    for key, value in values.items():
        if key in _FIELD_KEYS:  # the common case decided at once: a bulk write checks 20,000 rows
            kind = type(value)
            if kind is str:
                if len(value) <= _SURELY_FITS and CELL_ILLEGAL.search(value) is None:
                    continue
            elif value is None or kind is bool or (kind is int and value.bit_length() <= _MAX_INT_BITS):
                continue
        name = labels.get(key) or key
        if not isinstance(key, str) or not key:
            raise InvalidValue(f"字段名「{key!r}」无效：字段名必须是非空文本。", field=str(key),
                               code="bad_field_name")
        if key in SYSTEM_KEYS or key.startswith("_"):
            raise InvalidValue(f"字段「{name}」以下划线开头，这是系统保留的列名，不能作为表单字段。", field=key,
                               code="reserved_field")
        _check_value(key, name, value)
        if isinstance(value, list) and _text_bound(value) > MAX_CELL_CHARS // 2 and cell_units(text(value)) > MAX_CELL_CHARS:
            raise InvalidValue(
                f"字段「{name}」的内容合计超过 {MAX_CELL_CHARS} 个字符，表格的一个单元格放不下，请精简后再提交。",
                field=key, code="list_too_long",
            )
        if len(_FIELD_KEYS) < _FIELD_KEYS_KEPT:
            _FIELD_KEYS.add(key)


#: A text this long fits a cell whatever it holds (every character takes at most two of its units).
_SURELY_FITS = MAX_CELL_CHARS // 2

#: Field keys found valid (text, not a system name): a later value under one needs only its own check.
#: Bounded, so a caller sending ever new keys cannot grow it without end.
_FIELD_KEYS: set[str] = set()
_FIELD_KEYS_KEPT = 10_000


def _plainly_fine(value: Any) -> bool:
    """A table cell's common case decided at once: None, a bool, an int, or a text a cell can hold."""
    kind = type(value)
    if kind is str:
        return len(value) <= _SURELY_FITS and CELL_ILLEGAL.search(value) is None
    return value is None or kind is bool or (kind is int and value.bit_length() <= _MAX_INT_BITS)


def _check_value(key: str, name: str, value: Any, *, nested: bool = False) -> None:
    if isinstance(value, str):
        bad = CELL_ILLEGAL.search(value)
        if bad:
            shown = f"\\x{ord(bad.group()):02x}" if ord(bad.group()) < 0x100 else f"\\u{ord(bad.group()):04x}"
            raise InvalidValue(f"字段「{name}」含有表格无法保存的控制字符（{shown}），请删除后再提交。", field=key,
                               code="control_character")
        if cell_units(value) > MAX_CELL_CHARS:  # an emoji or a rare character counts twice, as in Excel
            raise InvalidValue(
                f"字段「{name}」的文字有 {cell_units(value)} 个字符（表情符号和生僻字各计 2 个），超过表格单元格上限 {MAX_CELL_CHARS}，请精简后再提交。",
                field=key, code="text_too_long",
            )
    elif isinstance(value, (float, Decimal)):
        if not (value.is_finite() if isinstance(value, Decimal) else math.isfinite(value)):
            raise InvalidValue(f"字段「{name}」的数值无效（{value}），请填写一个有限的数字。", field=key,
                               code="not_a_number")
        if isinstance(value, Decimal) and value and not -_MAX_EXPONENT <= value.adjusted() <= _MAX_EXPONENT:
            raise InvalidValue(f"字段「{name}」的数值超出表格能保存的范围，请核对后再提交。", field=key, code="number_out_of_range")
    elif isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
        raise InvalidValue(f"字段「{name}」的数值位数过多，请核对后再提交。", field=key, code="number_out_of_range")
    elif isinstance(value, (list, tuple)) and not nested:
        for item in value:
            if isinstance(item, dict):
                for sub_key, sub_value in item.items():
                    if not isinstance(sub_key, str) or sub_key.startswith("$"):
                        raise InvalidValue(f"字段「{name}」的表格列名「{sub_key}」无效。", field=key,
                                           code="bad_table_column")
                    if _plainly_fine(sub_value):  # a table cell's common case, at once
                        continue
                    if not isinstance(sub_value, _SCALARS):
                        raise InvalidValue(f"字段「{name}」的表格中「{sub_key}」的值类型不受支持。", field=key,
                                           code="unsupported_type")
                    _check_value(key, name, sub_value, nested=True)
            elif isinstance(item, str):
                _check_value(key, name, item, nested=True)
            else:
                raise InvalidValue(f"字段「{name}」的列表只能包含文字或表格行。", field=key,
                                   code="unsupported_type")
    elif isinstance(value, dt.date) and (value.date() if isinstance(value, dt.datetime) else value) < EARLIEST_CELL_DATE:
        raise InvalidValue(
            f"字段「{name}」的日期（{value.isoformat()}）早于 {EARLIEST_CELL_DATE.isoformat()}，表格无法正确保存这样的日期，请核对后再提交。",
            field=key, code="date_out_of_range",
        )
    elif not isinstance(value, _SCALARS):
        raise InvalidValue(f"字段「{name}」的值类型（{type(value).__name__}）不受支持。", field=key,
                           code="unsupported_type")


def _text_bound(value: list[Any]) -> int:
    """At least the length of ``text(value)`` (a checked list of texts or of table rows), cheaply for
    texts, blanks and yes/no: only a list near the cell's limit has its whole text built to be measured."""
    total = 0
    for item in value:
        cells = item.items() if isinstance(item, dict) else (("", item),)
        for key, cell in cells:
            if isinstance(cell, str):
                size = len(cell)
            elif cell is None or isinstance(cell, bool):
                size = 1
            else:  # a number or date: its text (a Decimal such as 1E+1000 is written out in full)
                size = len(text(cell))
            total += len(key) + 2 + size
        total += 1
    return total


# --- the log's JSON form -------------------------------------------------------------------------


#: Values JSON holds as they are: ``encode`` returns them unchanged, ``decode`` has nothing to undo.
_AS_IS = frozenset({str, bool, int, float, type(None)})


def encode(value: Any) -> Any:
    """JSON-ready form of a validated value; ``decode(encode(v)) == v`` with the same types.

    >>> encode(dt.date(2020, 9, 1))
    {'$d': '2020-09-01'}
    >>> decode(encode([{"n": Decimal("1.50")}]))
    [{'n': Decimal('1.50')}]
    """
    kind = type(value)
    if kind in _AS_IS:
        return value
    if kind is dict:  # a table row: its cells are mostly texts, yes/no and numbers
        return {k: v if type(v) in _AS_IS else encode(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _AS_IS else encode(v) for v in value]
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$d": value.isoformat()}
    if isinstance(value, Decimal):
        return {"$dec": str(value)}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {k: encode(v) for k, v in value.items()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def decode(obj: Any) -> Any:
    """Inverse of :func:`encode`."""
    if isinstance(obj, dict):
        if len(obj) == 1:
            tag, text = next(iter(obj.items()))
            if tag == "$d":
                return dt.date.fromisoformat(text)
            if tag == "$dt":
                return dt.datetime.fromisoformat(text)
            if tag == "$dec":
                return Decimal(text)
        return {k: v if type(v) in _AS_IS else decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [v if type(v) in _AS_IS else decode(v) for v in obj]
    return obj


def encode_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v if type(v) in _AS_IS else encode(v) for k, v in values.items()}


def decode_values(obj: dict[str, Any]) -> dict[str, Any]:
    """:func:`decode` for a row's values, interning keys and short texts: 100k rows repeat the
    same 30 keys and select values, and one shared copy of each saves a third of the memory."""
    out = {}
    for k, v in obj.items():
        if type(v) is str:
            if len(v) <= 40:
                v = sys.intern(v)
        elif isinstance(v, (dict, list)):
            v = decode(v)
        out[sys.intern(k)] = v
    return out


#: Values that come out of the log as the very value that went in (a datetime may not: its zone comes
#: back as a fixed offset), and that nobody can change in place.
_KEPT = frozenset({str, bool, int, float, type(None), dt.date, Decimal})


def kept_as_given(values: dict[str, Any]) -> bool:
    """Whether a row's checked values are what ``decode_values`` would give back for their log entry,
    so the writer's own copy can stand for it in memory (20,000 rows of one batch are not decoded again).

    >>> kept_as_given({"n": 1, "d": dt.date(2020, 9, 1), "s": "甲"}), kept_as_given({"tags": ["a"]})
    (True, False)
    """
    return all(type(v) in _KEPT for v in values.values())


def same_value(a: Any, b: Any) -> bool:
    """Equality that respects type: 1, 1.0 and True are different values here."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple, dict)):
        # JSON text tells 1 from 1.0 and True from 1 at any depth.
        return json.dumps(encode(a), sort_keys=True) == json.dumps(encode(b), sort_keys=True)
    return a == b


# --- workbook cells ------------------------------------------------------------------------------


def to_cell(value: Any) -> Any:
    """The value a workbook cell shows: str, int/float, date, datetime or None (blank).

    >>> to_cell(["甲", "乙"]), to_cell(True)
    ('甲；乙', '是')
    >>> to_cell(10**16), to_cell([{"姓名": "张三", "电话": None}])
    ('10000000000000000', '姓名：张三')
    """
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, dt.datetime):
        return wall_time(value)
    if value is None or isinstance(value, (str, float, dt.date)):
        return value
    if isinstance(value, int):
        return value if abs(value) < _MAX_EXACT_NUMBER else str(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (list, tuple)):
        return text(value)
    return str(value)


def same_cell(value: Any, cell: Any) -> bool:
    """Whether a cell read back from a workbook (calamine types) still shows ``value``.

    Blank and "" are the same; a line break is the same whether written CR LF, CR or LF (Excel and
    LibreOffice save every one as LF); numbers compare as floats (to 15 significant digits, what a
    cell keeps); a date equals a midnight datetime; datetimes agree within a millisecond (Excel
    keeps them as fractions of a day) and one written to the whole second matches what it was cut
    from; a table matches the JSON cell a workbook written before tables read as rows holds; a boolean is the same as 是/否 or as a TRUE/FALSE cell (what
    workbooks written before booleans read 是/否 hold, and what Excel makes of a typed TRUE).
    """
    if isinstance(value, bool) and isinstance(cell, bool):
        return value == cell
    if kind_of(value) == "table" and isinstance(cell, str) and cell.lstrip().startswith("["):
        table = _json_table(cell)
        if table is not None and same_value(table, list(value)):
            return True
    a, b = _norm(to_cell(value)), _norm(cell)
    if a is None or b is None or a[0] != b[0]:
        return a == b
    if a[0] == "n":
        return math.isclose(a[1], b[1], rel_tol=1e-14, abs_tol=1e-9)
    if a[0] == "t":  # ``a`` is cut to its second; a cell written before that holds the fraction too
        return -0.0011 <= b[1] - a[1] < 1
    return a == b


def _norm(x: Any) -> Any:
    if x is None or x == "":
        return None
    if isinstance(x, bool):
        return ("b", x)
    if isinstance(x, (int, float)):
        return ("n", float(x))
    if isinstance(x, dt.datetime):
        if x.time() == dt.time(0):
            return ("d", x.date())
        return ("t", (x - dt.datetime(1900, 1, 1)).total_seconds())
    if isinstance(x, dt.date):
        return ("d", x)
    if isinstance(x, dt.time):
        return ("s", x.isoformat())
    # Excel and LibreOffice save a line break as "\n" whatever was written: "\r\n" is not an edit.
    return ("s", str(x).replace("\r\n", "\n").replace("\r", "\n"))


def from_cell(cell: Any, kind: str) -> Any:
    """Reading of a person-edited cell as a value of column ``kind``.

    Used when importing an external edit. A cell that does not fit the kind (text in a number
    column, a number too big to keep exactly, a date that is not one) raises ValueError with a
    Chinese reason, so the importer reports that cell instead of storing text where a number belongs.

    >>> from_cell(3.0, "integer"), from_cell("甲；乙", "list"), from_cell("", "text")
    (3, ['甲', '乙'], None)
    >>> from_cell("1" * 5000, "integer")
    Traceback (most recent call last):
    ...
    ValueError: 不是可以保存的整数（超过 15 位）
    """
    if cell is None or cell == "":
        return None
    if kind == "text":
        if isinstance(cell, float):
            return str(int(cell)) if cell.is_integer() else repr(cell)
        if isinstance(cell, (dt.date, dt.datetime, dt.time)):
            return cell.isoformat()
        return str(cell)
    if kind == "list":
        return [item.strip() for item in str(cell).split(LIST_SEPARATOR) if item.strip()]
    reader = _CELL_READERS.get(kind)
    if reader is None:
        raise ValueError(f"列类型「{kind}」未知")
    return reader(cell.strip() if isinstance(cell, str) else cell)


def _integer_cell(cell: Any) -> int:
    too_long = f"不是可以保存的整数（超过 {len(str(_MAX_EXACT_NUMBER)) - 1} 位）"
    if isinstance(cell, str):
        if not re.fullmatch(r"[+-]?\d+", cell):
            raise ValueError("不是整数")
        if len(cell.lstrip("+-")) >= len(str(_MAX_EXACT_NUMBER)):  # before int() parses 5,000 digits
            raise ValueError(too_long)
        return int(cell)
    if isinstance(cell, float) and (cell.is_integer() or math.isinf(cell)):  # inf: digits beyond a float
        if not abs(cell) < _MAX_EXACT_NUMBER:
            raise ValueError(too_long)
        return int(cell)
    raise ValueError("不是整数")


def _number_cell(cell: Any) -> float:
    if isinstance(cell, bool):
        raise ValueError("不是数字")
    if isinstance(cell, str):
        if len(cell) > 40:  # before float() reads 5,000 digits
            raise ValueError("不是可以保存的数字（超过 40 个字符）")
        if not re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?", cell):
            raise ValueError("不是数字")
        cell = float(cell)
    if not isinstance(cell, (int, float)):
        raise ValueError("不是数字")
    if not math.isfinite(cell):
        raise ValueError("不是可以保存的数字（超出范围）")
    return float(cell)


def _date_cell(cell: Any) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    try:
        return dt.date.fromisoformat(str(cell)[:40])
    except ValueError:
        raise ValueError("不是日期（应为 YYYY-MM-DD）") from None


def _bool_cell(cell: Any) -> bool:
    if isinstance(cell, bool):
        return cell
    text = str(cell).lower()
    if text in ("是", "true", "1", "1.0", "yes"):
        return True
    if text in ("否", "false", "0", "0.0", "no"):
        return False
    raise ValueError("应为“是”或“否”")


def _table_cell(cell: Any) -> list:
    # The cell shows the table's rows as text, which cannot say a value's type (7 or "7", a date or
    # its text) nor hold a "；" inside an answer: a table is changed in the app, where its rows are typed.
    raise ValueError("表格字段请在系统中修改")


def _json_table(cell: str) -> list | None:
    """The table of a JSON cell (how workbooks written before tables read as rows held them), or None."""
    if len(cell) > MAX_CELL_CHARS:
        return None
    try:
        parsed = decode(json.loads(cell))
    except (ValueError, RecursionError):  # RecursionError: "[[[[…" nested deeper than the parser goes
        return None
    if not isinstance(parsed, list) or not all(isinstance(row, dict) for row in parsed):
        return None
    return parsed


_CELL_READERS = {"integer": _integer_cell, "number": _number_cell, "date": _date_cell, "bool": _bool_cell,
                 "table": _table_cell}


def kind_of(value: Any) -> str:
    """Column kind a value implies, for columns a SheetSpec does not declare."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, Decimal)):
        return "number"
    if isinstance(value, dt.date):
        return "date"
    if isinstance(value, (list, tuple)):
        return "table" if any(isinstance(v, dict) for v in value) else "list"
    return "text"
