"""An uploaded register, read and validated row by row; nothing here writes.

The header row is looked for in the first rows of every sheet (a title above it is common), by
header text or an alias; every in-scope row is then checked cell by cell and problems are listed
by Excel row and column.

>>> sheet = [["服务券编号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"],
...          ["SYQ-2019-0001", "甲公司", "91440101MA59ABCDEM", "乙服务商", "广州", 2019, 12.5, "已兑现"],
...          ["SYQ-2019-0002", "丙公司", "", "乙服务商", "广州", 2019, 3, "取消申报"]]
>>> parsed = parse_register(VOUCHERS, [SheetRows("Sheet1", sheet)], cities=("广州",))
>>> parsed.ok, len(parsed.rows), parsed.excluded
(True, 1, {'取消申报': 1})
>>> parsed.rows[0]["subsidy_amount"], parsed.rows[0]["subsidy_year"], parsed.rows[0]["source_row"]
(12.5, '2019', 2)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.campaign.register.kinds import (
    VOUCHERS,
    BadCell,
    RegisterKind,
    RegisterProblem,
    bad_number,
    cell_text,
    excluded_text,
    problem,
)
from lib.office.excel import SheetRows, read_upload
from lib.store.base import InvalidValue
from lib.store.codec import validate_values
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits, name_problem, shown_name

HEADER_SEARCH_ROWS = 20
#: Problems listed one by one; the rest are counted. A person fixes a file from the first few
#: hundred, and a 50,000-row file wrong in every cell would otherwise keep 400,000 in the session.
MAX_LISTED = 500
#: Longest file name kept in the import record (what file systems allow).
MAX_FILE_NAME = 255


@dataclass
class ParsedRegister:
    """What an upload holds: in-scope rows (with ``source_row``), excluded counts, problems, warnings."""

    kind: RegisterKind
    rows: list[dict[str, Any]] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    problems: list[RegisterProblem] = field(default_factory=list)
    warnings: list[RegisterProblem] = field(default_factory=list)
    sheet_name: str = ""
    header_row: int = 0
    unlisted: int = 0  # problems past MAX_LISTED, counted only
    unlisted_warnings: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.unlisted

    def problems_frame(self) -> pd.DataFrame:
        """Problems then warnings as a table a person reads: 行号, 列, 问题, 级别."""
        items = [(p, "错误") for p in self.problems] + [(w, "提醒") for w in self.warnings]
        listed = [{"行号": p.row, "列": p.column, "问题": p.message, "级别": level} for p, level in items]
        for count, level in ((self.unlisted, "错误"), (self.unlisted_warnings, "提醒")):
            if count:
                listed.append({"行号": None, "列": "", "问题": f"另有 {count} 处未列出，请先处理以上各处", "级别": level})
        return pd.DataFrame(listed, columns=["行号", "列", "问题", "级别"])


def _norm_header(text: Any) -> str:
    """Header text compared loosely: no spaces, full-width brackets, no trailing * or ：."""
    value = re.sub(r"\s+", "", str(text or "")).replace("(", "（").replace(")", "）")
    return value.rstrip("*：:")


def _find_header(kind: RegisterKind, sheets: list[SheetRows]) -> tuple[SheetRows, int, dict[str, int]] | list[str]:
    """(sheet, header row index, column key -> cell index), or the headers missing on the best try."""
    best_missing: list[str] | None = None
    for sheet in sheets:
        for i, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            cells = {_norm_header(v): j for j, v in enumerate(row) if v is not None}
            found, missing = {}, []
            for col in kind.columns:
                names = [_norm_header(n) for n in (col.header, *col.aliases)]
                j = next((cells[n] for n in names if n in cells), None)
                if j is None:
                    missing.append(col.header)
                else:
                    found[col.key] = j
            if not missing:
                return sheet, i, found
            if len(found) >= 2 and (best_missing is None or len(missing) < len(best_missing)):
                best_missing = missing
    return best_missing or [c.header for c in kind.columns]


def parse_register(kind: RegisterKind, sheets: list[SheetRows], *, cities: tuple[str, ...]) -> ParsedRegister:
    """Validate every row of an uploaded register. Nothing here writes.

    Rows whose state column says they are out of scope are counted in ``excluded`` and otherwise
    not checked; every in-scope row is checked in full. Blank rows are skipped.
    """
    out = ParsedRegister(kind)
    located = _find_header(kind, sheets)
    if isinstance(located, list):
        out.problems.append(problem("no_header", n=HEADER_SEARCH_ROWS, missing="、".join(f"「{h}」" for h in located)))
        return out
    sheet, header_idx, index = located
    why = name_problem(sheet.name)
    if why:  # the name goes into the import record
        out.problems.append(problem("bad_sheet_name", name=shown_name(sheet.name), why=why))
        return out
    out.sheet_name, out.header_row = sheet.name, header_idx + 1
    headers = {c.key: c.header for c in kind.columns}
    first_seen: dict[tuple, int] = {}
    scope_col = next(c for c in kind.columns if c.key == kind.scope_column)
    for i, cells in enumerate(sheet.rows[header_idx + 1 :], start=header_idx + 2):
        raw = {key: (cells[j] if j < len(cells) else None) for key, j in index.items()}
        if all(v is None or cell_text(v) == "" for v in raw.values()):
            continue
        state = cell_text(raw[kind.scope_column]) if raw[kind.scope_column] is not None else ""
        if state in kind.out_of_scope:
            out.excluded[state] = out.excluded.get(state, 0) + 1
            continue
        if state not in kind.in_scope:
            choices = "、".join(kind.in_scope + kind.out_of_scope)
            if state:
                out.problems.append(problem("bad_choice", i, scope_col.header, value=state, choices=choices))
            else:
                out.problems.append(problem("required", i, scope_col.header))
            continue
        row, row_ok = {}, True
        for col in kind.columns:
            value = raw[col.key]
            if value is None or cell_text(value) == "":
                out.problems.append(problem("required", i, col.header))
                row_ok = False
                continue
            try:
                row[col.key] = col.parse(value)
                shown = bad_number(value)
                if shown:  # a number the column's parser took as text, too large to be a register value
                    raise BadCell("bad_number", value=shown)
            except BadCell as bad:
                out.problems.append(problem(bad.code, i, col.header, sheet=sheet.name, **bad.params))
                row_ok = False
        if "city" in row and row["city"] not in cities:
            out.problems.append(problem("bad_city", i, headers["city"], value=row["city"]))
            row_ok = False
        if row_ok:
            try:  # what the store would refuse (control characters, over-long text), refused here first
                validate_values(row, headers)
            except InvalidValue as bad:
                out.problems.append(problem("bad_value", i, headers.get(bad.field, ""), detail=str(bad)))
                row_ok = False
        if not row_ok:
            continue
        identity = tuple(row[k] for k in kind.unique)
        if identity in first_seen:
            shown = kind.unique[0] if len(kind.unique) == 1 else kind.unique[-1]
            out.problems.append(problem("duplicate", i, headers[shown], value=row[shown], first=first_seen[identity]))
            continue
        first_seen[identity] = i
        if kind is VOUCHERS and row["city"] == "深圳":
            out.warnings.append(problem("shenzhen", i, headers["city"]))
        row["source_row"] = i
        out.rows.append(row)
    if not out.rows and not out.problems:  # an import would replace the register in force with nothing
        out.problems.append(problem("none_in_scope", excluded=excluded_text(out.excluded)) if out.excluded else problem("no_rows"))
    out.unlisted, out.unlisted_warnings = max(0, len(out.problems) - MAX_LISTED), max(0, len(out.warnings) - MAX_LISTED)
    del out.problems[MAX_LISTED:], out.warnings[MAX_LISTED:]
    return out


def parse_upload(kind: RegisterKind, data: bytes, *, cities: tuple[str, ...], file_name: str = "",
                 limits: WorkbookLimits | None = None) -> ParsedRegister:
    """Check the upload against ``limits`` (the settings' defaults when None), read it where a
    runaway cannot hurt the server, and validate it. A refused or unreadable file, or a file name
    the import record cannot hold, is one problem."""
    out = ParsedRegister(kind)
    why = name_problem(file_name, MAX_FILE_NAME) if file_name else None
    if why:
        out.problems.append(problem("bad_file_name", name=shown_name(file_name), why=why))
        return out
    try:
        sheets = read_upload(data, limits or WorkbookLimits.defaults())
    except ExcelReadError as exc:
        out.problems.append(RegisterProblem(exc.code, str(exc)))
        return out
    return parse_register(kind, sheets, cities=cities)
