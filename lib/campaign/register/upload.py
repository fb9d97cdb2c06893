"""An uploaded register, read and validated row by row; nothing here writes.

The header row is looked for in the first rows of every sheet (a title above it is common), by any
of the headers the campaign declares for a column; every in-scope row is then checked cell by cell
and problems are listed by Excel row and column. Entries the notice leaves out (an excluded state, a
city outside the scheme) are counted and listed with their Excel row, never checked or stored.

>>> from pathlib import Path
>>> from lib.campaign.register.kinds import register_kinds
>>> from lib.forms.loader import load_catalog
>>> kind = register_kinds(load_catalog(Path(__file__).resolve().parents[3] / "tests" / "campaigns" / "other").campaign)["vouchers"]
>>> head = [c.header for c in kind.columns]
>>> head
['券号', '企业名称', '统一社会信用代码', '服务商', '地市', '年度', '奖补金额（万元）', '兑现状态']
>>> sheet = [head, ["Q-2020-0001", "甲公司", "91440101MA59ABCDEM", "乙供方", "广州市", 2020, 12.5, "已兑现"],
...          ["Q-2020-0002", "丙公司", "", "乙供方", "广州", 2020, 3, "取消申报"],
...          ["Q-2020-0003", "丁公司", "91440101MA59ABCDEM", "乙供方", "珠海", 2020, 3, "已兑现"]]
>>> parsed = parse_register(kind, [SheetRows("Sheet1", sheet)])
>>> parsed.ok, len(parsed.rows), parsed.excluded
(True, 1, {'取消申报': 1, '珠海（不在奖补范围）': 1})
>>> parsed.rows[0]["subsidy"], parsed.rows[0]["year"], parsed.rows[0]["city"], parsed.rows[0]["source_row"]
(12.5, '2020', '广州', 2)
>>> [(e.row, e.entry, e.reason) for e in parsed.excluded_rows]
[(3, 'Q-2020-0002', '取消申报'), (4, 'Q-2020-0003', '珠海（不在奖补范围）')]
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.campaign.register.kinds import (
    BadCell,
    RegisterKind,
    RegisterProblem,
    bad_number,
    cell_text,
    city_of,
    excluded_text,
    outside_reason,
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


@dataclass(frozen=True)
class ExcludedEntry:
    """One entry the notice leaves out: its Excel row, what identifies it, and why (a state word, or a
    city outside the scheme)."""

    row: int
    entry: str
    reason: str


@dataclass
class ParsedRegister:
    """What an upload holds: in-scope rows (with ``source_row``), excluded counts and entries (the
    first MAX_LISTED) and problems."""

    kind: RegisterKind
    rows: list[dict[str, Any]] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    excluded_rows: list[ExcludedEntry] = field(default_factory=list)
    problems: list[RegisterProblem] = field(default_factory=list)
    sheet_name: str = ""
    header_row: int = 0
    headers: dict[str, str] = field(default_factory=dict)  # column key -> its header as the file writes it
    unlisted: int = 0  # problems past MAX_LISTED, counted only

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.unlisted

    def problems_frame(self) -> pd.DataFrame:
        """The problems as a table a person reads: 行号, 列, 问题."""
        listed = [{"行号": p.row, "列": p.column, "问题": p.message} for p in self.problems]
        if self.unlisted:
            listed.append({"行号": None, "列": "", "问题": f"另有 {self.unlisted} 处未列出，请先处理以上各处"})
        return pd.DataFrame(listed, columns=["行号", "列", "问题"])

    def excluded_frame(self) -> pd.DataFrame:
        """The excluded entries as a table a person reads: 行号, the entry's identifying column, 排除原因."""
        named = self.kind.unique[-1]
        shown = self.headers.get(named) or self.kind.column(named).header
        listed = [{"行号": e.row, shown: e.entry, "排除原因": e.reason} for e in self.excluded_rows]
        more = sum(self.excluded.values()) - len(self.excluded_rows)
        if more > 0:
            listed.append({"行号": None, shown: "", "排除原因": f"另有 {more} 行未列出"})
        return pd.DataFrame(listed, columns=["行号", shown, "排除原因"])


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
                names = [_norm_header(n) for n in col.headers]
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


def parse_register(kind: RegisterKind, sheets: list[SheetRows]) -> ParsedRegister:
    """Validate every row of an uploaded register. Nothing here writes.

    Rows whose state column says they are out of scope, or whose city is outside the scheme, are
    counted in ``excluded``, listed in ``excluded_rows`` and otherwise not checked; every in-scope row
    is checked in full. Blank rows are skipped.
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
    # Problems name a column as the file heads it (支持渠道), not as the template does (项目类别).
    headers = out.headers = {key: cell_text(sheet.rows[header_idx][j]) for key, j in index.items()}
    first_seen: dict[tuple, int] = {}
    named = kind.unique[-1]  # what names an entry in the excluded list and in a repeat's message
    for i, cells in enumerate(sheet.rows[header_idx + 1 :], start=header_idx + 2):
        raw = {key: (cells[j] if j < len(cells) else None) for key, j in index.items()}
        if all(v is None or cell_text(v) == "" for v in raw.values()):
            continue
        state = cell_text(raw[kind.scope_column]) if raw[kind.scope_column] is not None else ""
        city = city_of(cell_text(raw["city"]), kind.cities) if raw.get("city") is not None else ""
        reason = state if state in kind.out_of_scope else outside_reason(city) if city in kind.outside else None
        if reason is not None:
            out.excluded[reason] = out.excluded.get(reason, 0) + 1
            if len(out.excluded_rows) < MAX_LISTED:
                entry = cell_text(raw[named]) if raw[named] is not None else ""
                out.excluded_rows.append(ExcludedEntry(i, entry, reason))
            continue
        if state not in kind.in_scope:
            choices = "、".join(kind.in_scope + kind.out_of_scope)
            if state:
                out.problems.append(problem("bad_choice", i, headers[kind.scope_column], value=state, choices=choices))
            else:
                out.problems.append(problem("required", i, headers[kind.scope_column]))
            continue
        row, row_ok = {}, True
        for col in kind.columns:
            value = raw[col.key]
            if value is None or cell_text(value) == "":
                out.problems.append(problem("required", i, headers[col.key]))
                row_ok = False
                continue
            try:
                row[col.key] = col.parse(value)
                shown = bad_number(value)
                if shown:  # a number the column's parser took as text, too large to be a register value
                    raise BadCell("bad_number", value=shown)
            except BadCell as bad:
                out.problems.append(problem(bad.code, i, headers[col.key], sheet=sheet.name, **bad.params))
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
            out.problems.append(problem("duplicate", i, headers[named], value=row[named], first=first_seen[identity]))
            continue
        first_seen[identity] = i
        row["source_row"] = i
        out.rows.append(row)
    if not out.rows and not out.problems:  # an import would replace the register in force with nothing
        out.problems.append(problem("none_in_scope", excluded=excluded_text(out.excluded)) if out.excluded else problem("no_rows"))
    out.unlisted = max(0, len(out.problems) - MAX_LISTED)
    del out.problems[MAX_LISTED:]
    return out


def parse_upload(kind: RegisterKind, data: bytes, *, file_name: str = "", limits: WorkbookLimits | None = None) -> ParsedRegister:
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
    return parse_register(kind, sheets)
