"""What a cell of an uploaded sheet means as an answer: a header compared as the forms compare labels, a cell
as the fill page would give the answer, a table written in one cell as an export writes it, and a cell's A1
name for messages. The bulk import (``lib.office.bulk``) and the complaint import (``lib.sampling.complaints``)
read cells through these, so a cell reads the same wherever it is uploaded."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from lib.forms import FieldSpec
from lib.forms.spec import folded_label
from lib.forms.types import REGISTRY


def header_text(value: Any) -> str:
    """A header compared loosely, as the loader compares a form's labels (``folded_label``: full-width
    folded, no blanks, no trailing * or ：, the template's required mark), so two labels of one form never
    read as one header.

    >>> header_text(" 合同金额（万元） ＊") == header_text("合同金额(万元)")
    True
    """
    return folded_label(str(value or ""))


def cell_name(row: int, column: int) -> str:
    """A cell's A1 name from its 0-based row and column.

    >>> cell_name(4, 0), cell_name(0, 27)
    ('A5', 'AB1')
    """
    letters, n = "", column + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


def blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class CellRefused(ValueError):
    """A cell no answer can be read from as its filer sees it (``code``: the row problem's)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def cell_answer(spec: FieldSpec, value: Any) -> Any:
    """A cell as the fill page would give the answer: blank is None; a number in a number column as
    Excel shows it (15 significant digits: no float noise from a formula); a whole number in a text
    column as its digits; a date cell in a text column as YYYY-MM-DD. Anything else (text dates,
    是/否, "甲；乙") is left for the form engine to parse as the web form does.

    >>> money, code = FieldSpec(key="m", label="金额", type="money"), FieldSpec(key="c", label="编号", type="text")
    >>> cell_answer(money, 0.1 + 0.2), cell_answer(code, 123456.0), cell_answer(code, " "), cell_answer(code, dt.datetime(1999, 5, 6))
    (Decimal('0.3'), 123456, None, '1999-05-06')

    A whole number of 2^53 or more in a text column is not the digits typed (Excel keeps 15 significant
    digits of a number): refused (CellRefused), asking for the cell as text.

    >>> cell_answer(code, 12345678901234567890.0)
    Traceback (most recent call last):
    lib.office.cells.CellRefused: 「编号」是文字列，但单元格是超过 15 位的数字，Excel 已改变了它的末几位：请把该列设为文本格式后重新输入。
    """
    if blank(value):
        return None
    kind = REGISTRY[spec.type].kind
    if isinstance(value, float) and kind in ("number", "integer"):
        return Decimal(format(value, ".15g")) if value == value and abs(value) != float("inf") else value
    if isinstance(value, float) and value.is_integer() and kind == "text":
        if abs(value) >= 2**53:
            raise CellRefused("long_number", f"「{spec.label}」是文字列，但单元格是超过 15 位的数字，Excel 已改变了它的末几位："
                              "请把该列设为文本格式后重新输入。")
        return int(value)
    if isinstance(value, dt.datetime) and kind == "text" and value.time() == dt.time(0):
        return value.date().isoformat()
    return value


def table_from_text(spec: FieldSpec, value: Any) -> list[dict] | None:
    """A table's rows written in one cell as an export writes them (``lib.core.values.text``): a line per
    row, "列：值" joined by "；". None when a part names no column of the table.

    >>> spec = FieldSpec(key="c", label="联系人", type="table", fields=(FieldSpec(key="n", label="姓名", type="text"),
    ...                                                          FieldSpec(key="p", label="电话", type="phone")))
    >>> table_from_text(spec, "姓名：张三；电话：13800000000\\n姓名：李四")
    [{'n': '张三', 'p': '13800000000'}, {'n': '李四'}]
    """
    if blank(value):
        return []
    columns = {header_text(f.label): f.key for f in spec.fields or ()}
    rows = []
    for line in str(value).splitlines():
        if not line.strip():
            continue
        row = {}
        for part in re.split("[；;]", line):
            if not part.strip():
                continue
            found = re.match(r"([^：:]*)[：:](.*)", part.strip(), re.S)
            if found is None:
                return None
            name, answer = found.groups()
            key = columns.get(header_text(name))
            if key is None:
                return None
            row[key] = answer.strip() or None
        rows.append(row)
    return rows
