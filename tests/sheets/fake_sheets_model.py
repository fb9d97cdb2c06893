"""The data model of the local Sheets API server: spreadsheets, sheets and cells, A1 ranges,
value input and render options, and Google's error shape. See ``fake_sheets`` for the server."""

from __future__ import annotations

import ast
import contextlib
import json
import operator
import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ROWS, DEFAULT_COLS = 1000, 26

# Google's documented limits, with the messages its API answers them with (recorded in the issue
# threads of gspread and other clients: burnash/gspread#950 and #516, freelabz/secator#96).
MAX_REQUEST_BYTES = 10 * 1024 * 1024
MAX_CELL_CHARS = 50_000
MAX_CELLS = 10_000_000
TOO_LARGE = f"Request payload size exceeds the limit: {MAX_REQUEST_BYTES} bytes."
CELL_TOO_LONG = f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."


class ApiError(Exception):
    STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
              429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}

    def __init__(self, code: int, message: str, details: list | None = None):
        super().__init__(message)
        self.code, self.message, self.details = code, message, details

    def body(self) -> dict:
        err = {"code": self.code, "message": self.message, "status": self.STATUS.get(self.code, "UNKNOWN")}
        if self.details:
            err["details"] = self.details
        return {"error": err}


# --- the data model -----------------------------------------------------------------------------


@dataclass
class Formula:
    text: str

    def value(self) -> Any:
        try:
            return _arith(ast.parse(self.text[1:], mode="eval").body)
        except Exception:  # noqa: BLE001 - any unsupported formula shows as Sheets' error value
            return "#NAME?"


_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arith(node: ast.AST) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_arith(node.left), _arith(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_arith(node.operand)
    raise ValueError("unsupported")


@dataclass
class Sheet:
    sheet_id: int
    title: str
    rows: int = DEFAULT_ROWS
    cols: int = DEFAULT_COLS
    hidden: bool = False
    cells: list[list[Any]] = field(default_factory=list)  # dense, trimmed lazily
    # repeatCell number formats in the order applied: (r0, r1, c0, c1, numberFormat), ends exclusive,
    # None for an open end (Google's GridRange: a missing end index is unbounded).
    formats: list[tuple[int, int | None, int, int | None, dict]] = field(default_factory=list)

    def properties(self, index: int) -> dict:
        props = {"sheetId": self.sheet_id, "title": self.title, "index": index, "sheetType": "GRID",
                 "gridProperties": {"rowCount": self.rows, "columnCount": self.cols}}
        if self.hidden:
            props["hidden"] = True
        return props

    def get(self, r: int, c: int) -> Any:
        if r < len(self.cells) and c < len(self.cells[r]):
            return self.cells[r][c]
        return None

    def put(self, r: int, c: int, value: Any) -> None:
        while len(self.cells) <= r:
            self.cells.append([])
        row = self.cells[r]
        while len(row) <= c:
            row.append(None)
        row[c] = None if value == "" else value

    def number_format(self, r: int, c: int) -> dict | None:
        """The numberFormat a cell shows with (the last one applied over it), or None."""
        for r0, r1, c0, c1, fmt in reversed(self.formats):
            if r0 <= r and (r1 is None or r < r1) and c0 <= c and (c1 is None or c < c1):
                return fmt
        return None

    def last_used_row(self, c0: int, c1: int) -> int:
        """Index of the last row holding a value in columns c0..c1, or -1."""
        for r in range(len(self.cells) - 1, -1, -1):
            if any(v is not None for v in self.cells[r][c0:c1 + 1]):
                return r
        return -1


@dataclass
class Spreadsheet:
    key: str
    title: str
    sheets: list[Sheet]
    shared_with: set[str] = field(default_factory=set)
    max_cells: int = MAX_CELLS  # tests lower it to reach the limit without a huge grid

    def check_cells(self, prefix: str = "") -> None:
        """Refuse a grid over the spreadsheet's cell limit (every sheet's rows x columns count)."""
        if sum(s.rows * s.cols for s in self.sheets) > self.max_cells:
            raise ApiError(400, f"{prefix}This action would increase the number of cells in the workbook above "
                                f"the limit of {self.max_cells} cells.")

    def sheet(self, title: str | None) -> Sheet:
        if title is None:
            return self.sheets[0]
        for s in self.sheets:
            if s.title == title:
                return s
        raise ApiError(400, f"Unable to parse range: {title}")

    def by_id(self, sheet_id: int) -> Sheet:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        raise ApiError(400, f"Invalid requests[0]: No grid with id: {sheet_id}")

    def metadata(self) -> dict:
        return {"spreadsheetId": self.key,
                "properties": {"title": self.title, "locale": "zh_CN", "autoRecalc": "ON_CHANGE",
                               "timeZone": "Asia/Shanghai"},
                "sheets": [{"properties": s.properties(i)} for i, s in enumerate(self.sheets)],
                "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.key}/edit"}


# --- A1 ranges ------------------------------------------------------------------------------------

_CELL = re.compile(r"^([A-Z]*)(\d*)$")


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def col_letters(index: int) -> str:
    out, n = "", index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def quote_title(title: str) -> str:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not re.fullmatch(r"[A-Za-z]{1,3}\d+", title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass
class Range:
    sheet: Sheet
    r0: int
    c0: int
    r1: int  # inclusive, already bounded by the grid where the text left it open
    c1: int

    def a1(self) -> str:
        return f"{quote_title(self.sheet.title)}!{col_letters(self.c0)}{self.r0 + 1}:{col_letters(self.c1)}{self.r1 + 1}"


def parse_range(book: Spreadsheet, text: str, *, check_grid: bool = True) -> Range:
    title, _, cells = text.rpartition("!") if "!" in text else (None, "", text)
    if title is None and not _looks_like_cells(text):
        title, cells = text, ""
    if title is not None and title.startswith("'") and title.endswith("'"):
        title = title[1:-1].replace("''", "'")
    sheet = book.sheet(title)
    if not cells:
        return Range(sheet, 0, 0, sheet.rows - 1, sheet.cols - 1)
    first, _, last = cells.partition(":")
    m0, m1 = _CELL.match(first.upper()), _CELL.match((last or first).upper())
    if not m0 or not m1:
        raise ApiError(400, f"Unable to parse range: {text}")
    c0 = col_index(m0.group(1)) if m0.group(1) else 0
    r0 = int(m0.group(2)) - 1 if m0.group(2) else 0
    c1 = col_index(m1.group(1)) if m1.group(1) else sheet.cols - 1
    r1 = int(m1.group(2)) - 1 if m1.group(2) else sheet.rows - 1
    beyond = r0 >= sheet.rows or c0 >= sheet.cols or r1 >= sheet.rows or c1 >= sheet.cols
    if check_grid and beyond:
        raise ApiError(400, f"Range ({quote_title(sheet.title)}!{cells}) exceeds grid limits. "
                            f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
    return Range(sheet, r0, c0, r1, c1)


def _looks_like_cells(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z]{0,3}\d*(:[A-Za-z]{0,3}\d*)?", text)) and any(ch.isdigit() or ch == ":" for ch in text)


# --- values -------------------------------------------------------------------------------------


def stored_value(value: Any, option: str) -> Any:
    """What a cell holds after a write (of a value ``check_values`` let through): RAW keeps the value,
    USER_ENTERED parses text as a person's typing."""
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, f"Invalid value at 'value_input_option' ({option!r})")
    if value is None:
        return None
    if isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if option == "RAW":
        return text
    if text.startswith("="):
        return Formula(text)
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    with contextlib.suppress(ValueError):
        number = float(text.replace(",", ""))
        return int(number) if number.is_integer() and "." not in text else number
    return text


def rendered(value: Any, option: str, number_format: dict | None = None) -> Any:
    if value is None:
        return ""
    if isinstance(value, Formula):
        if option == "FORMULA":
            return value.text
        value = value.value()
    if option in ("UNFORMATTED_VALUE", "FORMULA"):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    fixed = re.fullmatch(r"0(?:\.(0+))?", (number_format or {}).get("pattern", ""))
    if isinstance(value, (int, float)) and fixed:  # the one pattern family we model: "0", "0.00" ...
        return f"{value:.{len(fixed.group(1) or '')}f}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_rows(rng: Range, option: str) -> list[list[Any]]:
    rows = []
    for r in range(rng.r0, min(rng.r1, len(rng.sheet.cells) - 1) + 1):
        row = [rendered(rng.sheet.get(r, c), option, rng.sheet.number_format(r, c)) for c in range(rng.c0, rng.c1 + 1)]
        while row and row[-1] == "":
            row.pop()
        rows.append(row)
    while rows and not rows[-1]:
        rows.pop()
    return rows


def value_range(rng: Range, option: str) -> dict:
    out = {"range": rng.a1(), "majorDimension": "ROWS"}
    rows = read_rows(rng, option)
    if rows:
        out["values"] = rows
    return out


def check_values(values: Any, where: str = "data.values") -> None:
    """Refuse what Google refuses in a ValueRange's ``values``: not a list of lists, a cell that
    is not a scalar, text over the cell limit (counted in UTF-16 units, as Java counts)."""

    def shown(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False)[:80]

    if not isinstance(values, list):
        raise _not_a_list(where, shown(values))
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise _not_a_list(f"{where}[{i}]", shown(row))
        for j, v in enumerate(row):
            if isinstance(v, dict):
                raise ApiError(400, f"Invalid values[{i}][{j}]: struct_value {{{shown(v)[1:-1]}}}")
            if isinstance(v, list):
                raise ApiError(400, f"Invalid values[{i}][{j}]: list_value {shown(v)}")
            if isinstance(v, str) and len(v.encode("utf-16-le")) // 2 > MAX_CELL_CHARS:
                raise ApiError(400, CELL_TOO_LONG)


def _not_a_list(where: str, shown: str) -> ApiError:
    message = f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.ListValue), {shown}"
    return ApiError(400, message, [{"@type": "type.googleapis.com/google.rpc.BadRequest",
                                    "fieldViolations": [{"field": where, "description": message}]}])


def write_rows(book: Spreadsheet, rng: Range, values: list[list[Any]], option: str) -> dict:
    check_values(values)
    height = len(values)
    width = max((len(r) for r in values), default=0)
    sheet = rng.sheet
    if rng.r0 + height > sheet.rows or rng.c0 + width > sheet.cols:
        raise ApiError(400, f"Range ({quote_title(sheet.title)}!{col_letters(rng.c0)}{rng.r0 + 1}:"
                            f"{col_letters(rng.c0 + max(width, 1) - 1)}{rng.r0 + height}) exceeds grid limits. "
                            f"Max rows: {sheet.rows}, max columns: {sheet.cols}")
    converted = [[stored_value(v, option) for v in row] for row in values]
    for i, row in enumerate(converted):
        for j, v in enumerate(row):
            sheet.put(rng.r0 + i, rng.c0 + j, v)
    done = Range(sheet, rng.r0, rng.c0, rng.r0 + max(height, 1) - 1, rng.c0 + max(width, 1) - 1)
    return {"spreadsheetId": book.key, "updatedRange": done.a1(), "updatedRows": height,
            "updatedColumns": width, "updatedCells": sum(len(r) for r in values)}


def check_fits(rng: Range, values: list[list[Any]]) -> None:
    width = max((len(r) for r in values), default=0)
    if rng.r0 + len(values) > rng.sheet.rows or rng.c0 + width > rng.sheet.cols:
        raise ApiError(400, f"Range ({quote_title(rng.sheet.title)}!{col_letters(rng.c0)}{rng.r0 + len(values)}) "
                            f"exceeds grid limits. Max rows: {rng.sheet.rows}, max columns: {rng.sheet.cols}")
