"""Bulk import of one form's rows from an .xlsx: every row checked as the fill page checks it, all stored or none.

``plan_import`` reads the upload (``read_upload``: bounded, in a subprocess), finds the header row in the
first rows of the form's sheet — the template's (``lib.office.template``) or an official export's: a title
above, a 序号 column, system columns (记录编号, 状态, 填报单位 …) and the columns of the fields the account
answers are accepted, the system ones ignored —, turns each row into raw answers as the fill page gives
them, with the table fields' rows from their sibling sheets by ``行号``, and checks each: the access rule
(``lib.auth.policy``: a refusal is that row's problem, audited as the policy audits it), then the form
engine (``check_answers`` with the campaign's cities and clock). A row that repeats one of the filer's
live rows in every field of one of the form's ``unique`` groups updates that row from its current
revision instead of duplicating it. Every problem names its Excel row, sheet and column header in Chinese;
warnings are listed apart and do not block.

``apply_import`` writes a plan with no problems as ONE ``Store.write_batch`` under the fill page's own
submit lock, after checking every planned row again against the rows as they are then (the access rule
with the assignments in force, no live row of the filer's repeating a new or updated row, each updated row
at its planned revision): all rows land, or none. Rows equal to the filed row they match are 不变: shown,
not written. A refused row is audited once per import, not once per row.

The same code serves every campaign: the form, its labels, its ``unique`` groups and the campaign's cities
come from the YAML.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from lib.auth import Forbidden
from lib.auth.policy import (
    CREATE,
    DENIED,
    EDIT,
    Assignments,
    account_answers,
    authorize,
    authorize_correction,
    can,
    comparable,
    foreign_answer,
)
from lib.auth.scope import editable_records
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import DRAFT, SUBMITTED, WITHDRAWN
from lib.core.text import quotable
from lib.core.values import text
from lib.forms import FieldSpec, FormCatalog, FormProblem, FormSpec, check_answers
from lib.office.cells import CellRefused, blank, cell_answer, cell_name, header_text, table_from_text
from lib.office.excel import SheetRows, read_upload
from lib.office.template import INSTRUCTIONS, LISTS, ROW_HEADER, cell_fields, required_files, sheet_names, table_fields
from lib.store.base import SYSTEM_COLUMNS, ConflictError, RowChange, Store
from lib.store.codec import same_value
from lib.submissions import answered_by_account, next_status_on_submit
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits

#: Most records one upload may carry.
MAX_IMPORT_ROWS = 10_000
#: The header row is looked for in the first rows of a sheet (a title above it is common).
HEADER_SEARCH_ROWS = 20
#: Problems (and warnings) listed one by one; the rest are counted.
MAX_LISTED = 500
#: ``progress`` is called after every this many rows.
PROGRESS_EVERY = 200
#: Headers of an official export that are no field: its row number and the system columns.
IGNORED_HEADERS = ("序号", *(label for _, label in SYSTEM_COLUMNS))
#: What the audit trail calls an import.
IMPORT_ACTION = "批量导入"
#: An upload's name as the plan, the page and the audit note keep it: longer names are cut (a browser may send any).
MAX_FILE_NAME = 120
#: Rows named one by one in a refusal of the whole import; the rest are counted.
NAMED_ROWS = 20
#: A 行号 longer than this is no Excel row (a sheet has 1,048,576): refused without turning it into a number.
_ROW_DIGITS = 7
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An encrypted .xlsx is an OLE2 compound file holding a stream of this name (UTF-16 in its directory).
_ENCRYPTED_STREAM = "EncryptionInfo".encode("utf-16-le")


class ImportRefused(AppError):
    """An import that cannot be written: the plan had problems (``plan_has_problems``), the form changed
    since (``form_changed``), a row was filed or changed since the plan (``filed_since_plan``,
    ``changed_since_plan``). Nothing was written."""

    code = "import_refused"


@dataclass(frozen=True)
class RowProblem:
    """One problem (or warning) of an upload: its Excel ``row`` on ``sheet`` (None: the file as a whole),
    the column ``header`` at fault."""

    code: str
    message: str
    row: int | None = None
    header: str = ""
    sheet: str = ""


@dataclass(frozen=True)
class PlannedRow:
    """A record the import writes: from Excel ``row``, its checked ``values``; for an update, the row it
    changes (``record_id`` from ``base_rev``) and the status it moves to."""

    row: int
    values: dict[str, Any]
    record_id: str = ""
    base_rev: int = 0
    status: str = ""


@dataclass
class ImportPlan:
    """What an upload would do: rows to create and to update, or the problems found (at most MAX_LISTED,
    ``unlisted`` more), and the warnings (which do not block). ``unchanged``: rows equal to the filed row
    they match, written by nobody (a re-import of last time's export changes only what was corrected)."""

    form: FormSpec
    draft: bool
    file_name: str = ""
    creates: list[PlannedRow] = field(default_factory=list)
    updates: list[PlannedRow] = field(default_factory=list)
    unchanged: list[PlannedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    unlisted: int = 0
    unlisted_warnings: int = 0
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.unlisted and bool(self.creates or self.updates)

    def table(self) -> pd.DataFrame:
        """The problems as a person reads them: 行号, 工作表, 列, 问题."""
        return _problem_table(self.problems, self.unlisted)

    def warnings_table(self) -> pd.DataFrame:
        """The warnings, as ``table`` lists problems."""
        return _problem_table(self.warnings, self.unlisted_warnings)

    def preview(self) -> pd.DataFrame:
        """What the import writes, in the file's order: 行号, 操作 (新增 / 更新 / 不变), 记录编号, and the
        form's summary fields as a person reads them."""
        summary = self.form.summary_fields()
        same = {p.row for p in self.unchanged}
        rows = sorted([*self.creates, *self.updates, *self.unchanged], key=lambda p: p.row)
        return pd.DataFrame([{"行号": p.row, "操作": "不变" if p.row in same else "更新" if p.record_id else "新增", "记录编号": p.record_id,
                              **{f.label: text(p.values.get(f.key), f.type) for f in summary}} for p in rows],
                            columns=["行号", "操作", "记录编号", *(f.label for f in summary)])


@dataclass(frozen=True)
class ImportResult:
    """The records an import created and updated."""

    created: list[Record]
    updated: list[Record]


def _problem_table(problems: list[RowProblem], unlisted: int) -> pd.DataFrame:
    listed = [{"行号": p.row, "工作表": p.sheet, "列": p.header, "问题": p.message} for p in problems]
    if unlisted:
        listed.append({"行号": None, "工作表": "", "列": "", "问题": f"另有 {unlisted} 条未列出"})
    return pd.DataFrame(listed, columns=["行号", "工作表", "列", "问题"])


def import_limits(form: FormSpec, base: WorkbookLimits) -> WorkbookLimits:
    """``base`` with rows narrowed to what an import of ``form`` can need: MAX_IMPORT_ROWS records under a
    header (each with up to its tables' ``max_rows`` rows on a table sheet), so a file far larger is refused
    by the bounds check before it is parsed."""
    per_record = max([1, *((t.max_rows or 5) for t in table_fields(form))])
    return replace(base, max_rows=min(base.max_rows, MAX_IMPORT_ROWS * per_record + HEADER_SEARCH_ROWS + 1))


def plan_import(store: Store, catalog: FormCatalog, form: FormSpec, data: bytes, actor: Actor, *, draft: bool,
                today: dt.date | None = None, progress: Callable[[int, int], None] | None = None,
                limits: WorkbookLimits | None = None, assignments: Assignments | None = None,
                file_name: str = "") -> ImportPlan:
    """Check every row of the upload ``data`` for ``form`` as ``actor`` files it (``draft``: as drafts,
    the checks of a draft save; else as a submit) and say what would be written. ``today``: the campaign
    clock (None: the real date); ``progress(done, total)``: called as rows are checked; ``limits``: what
    reading may cost (the settings' defaults when None; narrowed by ``import_limits``).

    Raises Forbidden (audited) when the actor may not file the form at all; everything else is listed in
    the plan's problems. Nothing is written."""
    authorize(store, actor, CREATE, form, assignments=assignments)
    plan = ImportPlan(form=form, draft=draft, file_name=safe_file_name(file_name))
    planner = _Planner(store, catalog, form, actor, plan, today=today, progress=progress, assignments=assignments)
    planner.run(data, import_limits(form, limits or WorkbookLimits.defaults()))
    planner.audit_refusals()
    plan.unlisted = max(0, len(plan.problems) - MAX_LISTED)
    del plan.problems[MAX_LISTED:]
    plan.unlisted_warnings = max(0, len(plan.warnings) - MAX_LISTED)
    del plan.warnings[MAX_LISTED:]
    if plan.problems:
        plan.creates, plan.updates = [], []
    return plan


def safe_file_name(name: str) -> str:
    """An upload's name as it may be shown and audited: control, line-break, direction and invisible
    characters shown as their code points (a right-to-left override would show the name reversed; a
    control character is refused by the audit log), at most MAX_FILE_NAME characters.

    >>> safe_file_name("\u202eslx.exe.xlsx"), safe_file_name("a\x07b.xlsx"), len(safe_file_name("名" * 5000)) <= MAX_FILE_NAME + 1
    ('[U+202E]slx.exe.xlsx', 'a[U+0007]b.xlsx', True)
    """
    return quotable(name, MAX_FILE_NAME)


class _HeldAudit:
    """Stands in for the store where the policy audits a refusal (``authorize``, ``authorize_correction``
    call only its ``log_event``): an import of 10,000 other organisations' rows is audited once, naming
    the rows (``_Planner.audit_refusals``), not 10,000 times."""

    def __init__(self) -> None:
        self.notes: list[str] = []

    def log_event(self, actor: Actor, action: str, *, form_id: str = "", row_id: str = "", note: str = "") -> None:
        self.notes.append(note)


def _rows_named(rows: list[int]) -> str:
    """Excel rows as a message names them: the first NAMED_ROWS, the rest counted.

    >>> _rows_named([5, 2, 3]), _rows_named(list(range(2, 40)))[-6:]
    ('第 2、3、5 行', '等 38 行')
    """
    rows = sorted(rows)
    shown = "、".join(map(str, rows[:NAMED_ROWS]))
    return f"第 {shown} 行" + (f"等 {len(rows)} 行" if len(rows) > NAMED_ROWS else "")


@dataclass
class _Layout:
    """Where the upload keeps things: the records' sheet, its header row index, the column of each field
    (``columns``: key -> cell index; tables written as text included), and each table's sheet rows."""

    sheet: SheetRows
    at: int
    columns: dict[str, int]
    tables: dict[str, tuple[SheetRows, int, dict[str, int]]] = field(default_factory=dict)


class _Planner:
    def __init__(self, store: Store, catalog: FormCatalog, form: FormSpec, actor: Actor, plan: ImportPlan, *,
                 today: dt.date | None, progress: Callable[[int, int], None] | None, assignments: Assignments | None):
        self.store, self.catalog, self.form, self.actor, self.plan = store, catalog, form, actor, plan
        self.today, self.progress, self.assignments = today, progress, assignments
        self.cities = catalog.campaign.cities
        self.labels = {f.key: f.label for f in form.all_fields()}
        self.main_name, self.table_names = sheet_names(form)
        self.held = _HeldAudit()
        self.refused_rows: list[int] = []
        self.account = account_answers(form, actor)
        self.computed = {f.key for f in form.all_fields() if f.calculation}
        self.files = {f.key: f for f in required_files(form)}

    def problem(self, code: str, message: str, row: int | None = None, header: str = "", sheet: str = "") -> None:
        self.plan.problems.append(RowProblem(code, message, row, header, sheet))

    def audit_refusals(self) -> None:
        """One audit entry (拒绝访问) for every row the policy refused, naming the rows and the first reason."""
        if self.held.notes:
            self.store.log_event(self.actor, DENIED, form_id=self.form.id,
                                 note=f"{IMPORT_ACTION}：{_rows_named(self.refused_rows)}被拒绝，如{self.held.notes[0]}")

    # --- reading and locating -------------------------------------------------------------------
    def run(self, data: bytes, limits: WorkbookLimits) -> None:
        if data.startswith(_OLE2_MAGIC) and _ENCRYPTED_STREAM in data:
            self.problem("encrypted", "文件已加密（设置了打开密码），无法读取：请在 Excel 或 WPS 中取消密码，另存为 .xlsx 后重新上传。")
            return
        try:
            sheets = read_upload(data, limits)
        except ExcelReadError as exc:
            self.problem(exc.code, str(exc) + _too_large_hint(exc, limits, len(self.accepted())))
            return
        if not any(sheet.rows for sheet in sheets):
            self.problem("empty_file", "文件是空的：没有任何内容。请在导入模板中填写后上传。")
            return
        layout = self.locate(sheets)
        if layout is None:
            return
        body = self.body(layout)
        if len(body) > MAX_IMPORT_ROWS:
            self.problem("too_many_rows", f"工作表「{layout.sheet.name}」有 {len(body)} 行记录，一次最多导入 {MAX_IMPORT_ROWS} 行：请拆分后分批导入。")
            return
        if not body:
            self.problem("no_rows", f"工作表「{layout.sheet.name}」在表头下没有记录。", layout.at + 1, sheet=layout.sheet.name)
            return
        if self.merged(layout.sheet, layout.at, {i for i, _ in body}) or self.error_values(sheets, layout):
            return
        self.hidden_rows(layout.sheet, {i for i, _ in body})
        table_rows = self.table_rows(sheets, layout, {i for i, _ in body})
        if any(p.code == "merged_cells" for p in self.plan.problems):
            return  # the records would be checked without the table rows under the merge: their problems would mislead
        self.check_rows(layout, body, table_rows)

    def locate(self, sheets: list[SheetRows]) -> _Layout | None:
        """The records' sheet and header row: the form's sheet by name, else the first sheet whose header
        names the form's fields. None, with the file's problems noted, when there is none or it is not right."""
        fields = self.accepted()
        ordered = sorted(sheets, key=lambda s: header_text(s.name) != header_text(self.main_name))
        # the template's other sheets: the tables', the instructions, the dropdowns' choices under their labels
        skipped = {header_text(n) for n in [*self.table_names.values(), INSTRUCTIONS, LISTS]}
        for sheet in ordered:
            if header_text(sheet.name) in skipped:
                continue
            for at, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
                known, unknown, twice = _fit(row, fields)
                if len(known) < min(2, len(fields)):
                    continue
                answered = set(account_answers(self.form, self.actor))
                missing = [f.label for f in cell_fields(self.form.all_fields()) if f.required and f.key not in known
                           and f.key not in answered]
                missing += [t.label for t in table_fields(self.form)
                            if t.key not in known and _table_needed(t, self.plan.draft) and not _has_sheet(sheets, self.table_names[t.key])]
                if unknown or missing:
                    other = self.other_form(sheets, len(known), len(unknown))
                    if other is not None:
                        self.problem("wrong_form", f"这是「{other.title}」的模板（或导出表），不是「{self.form.title}」的：请下载本表单的导入模板填写后上传。")
                        return None
                where = f"工作表「{sheet.name}」第 {at + 1} 行的表头"
                for code, what, names in (("unknown_header", f"不是表单「{self.form.title}」的列（请使用导入模板的表头）", unknown),
                                          ("header_twice", "出现了两次", [self.labels[k] for k in twice]),
                                          ("missing_header", "缺少必填的列（或其工作表）", missing)):
                    if names:
                        self.problem(code, where + "、".join(f"「{n}」" for n in names) + what + "。", at + 1, sheet=sheet.name)
                if self.plan.problems:
                    return None
                self.more_sheets(ordered[ordered.index(sheet) + 1:], skipped, fields, sheet.name)
                return None if self.plan.problems else _Layout(sheet, at, known)
        other = self.other_form(sheets, 0, 0)
        if other is not None:
            self.problem("wrong_form", f"这是「{other.title}」的模板（或导出表），不是「{self.form.title}」的：请下载本表单的导入模板填写后上传。")
        else:
            labels = "、".join(f"「{f.label}」" for f in cell_fields(self.form.all_fields(), self.form, self.actor)[:6])
            self.problem("no_header", f"没有找到「{self.form.title}」的表头（工作表前 {HEADER_SEARCH_ROWS} 行中应有 {labels} 等列）：请使用导入模板。")
        return None

    def more_sheets(self, rest: list[SheetRows], skipped: set[str], fields: dict[str, FieldSpec], first: str) -> None:
        """A problem for each further sheet with the form's header and rows under it: an import reads one
        sheet of records, and the rows of another must not be left out unsaid."""
        for sheet in rest:
            if header_text(sheet.name) in skipped:
                continue
            for at, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
                if len(_fit(row, fields)[0]) >= min(2, len(fields)):
                    if any(not blank(c) for line in sheet.rows[at + 1:] for c in line):
                        self.problem("more_sheets", f"工作表「{sheet.name}」也有「{self.form.title}」的记录：一次只导入一个工作表，"
                                     f"请把记录移到工作表「{first}」后重新上传。", sheet=sheet.name)
                    break

    def accepted(self) -> dict[str, FieldSpec]:
        """Header text -> field, for every column an upload may have: the cell fields (those the account
        answers too), the tables (written as text, as an export writes them), and the files and calculated
        fields an export shows (read by ``_fit`` as columns to skip)."""
        return {header_text(f.label): f for f in self.form.all_fields()}

    def other_form(self, sheets: list[SheetRows], known: int, unknown: int) -> FormSpec | None:
        """Another form of the catalog whose labels fit a header row of the upload better: more columns
        known, fewer unknown."""
        best, best_fit = None, (known, -unknown)
        for other in self.catalog.forms():
            if other.id == self.form.id:
                continue
            fields = {header_text(f.label): f for f in other.all_fields()}
            for sheet in sheets:
                if header_text(sheet.name) in (header_text(INSTRUCTIONS), header_text(LISTS)):
                    continue
                for row in sheet.rows[:HEADER_SEARCH_ROWS]:
                    k, u, _ = _fit(row, fields)
                    if len(k) > best_fit[0] and -len(u) > best_fit[1]:
                        best, best_fit = other, (len(k), -len(u))
        return best

    def body(self, layout: _Layout) -> list[tuple[int, list[Any]]]:
        """(Excel row, cells) of each row under the header with something in a field's column (a signature
        line under an export, in its 序号 column, is none)."""
        used = sorted(layout.columns.values())
        signature = header_text(self.catalog.campaign.office.signature)
        out = []
        for i, cells in enumerate(layout.sheet.rows[layout.at + 1:], start=layout.at + 2):
            if any(not blank(cells[j]) for j in used if j < len(cells)):
                filled = [c for c in cells if not blank(c)]
                if len(filled) == 1 and header_text(filled[0]) == signature:
                    continue
                out.append((i, cells))
        return out

    def error_values(self, sheets: list[SheetRows], layout: _Layout) -> bool:
        """A problem for each cell under the header (of the records' sheet, or of a table's sheet) that holds
        an error value (#N/A, #DIV/0!, #REF! …: a formula that failed), which would read as a blank answer.
        True when there is one."""
        tables = {header_text(n) for n in self.table_names.values()}
        found = False
        for sheet in sheets:
            if sheet is not layout.sheet and header_text(sheet.name) not in tables:
                continue
            below = layout.at + 1 if sheet is layout.sheet else 1
            for row, column in sheet.errors:
                if row > below:
                    found = True
                    self.problem("error_value", f"工作表「{sheet.name}」的 {cell_name(row - 1, column - 1)} 是错误值（如 #N/A、#DIV/0!，公式未能算出结果），"
                                 "会被读成空白：请改为要填写的内容（可复制后“选择性粘贴 → 数值”）后重新上传。", row, sheet=sheet.name)
        return found

    def hidden_rows(self, sheet: SheetRows, records: set[int]) -> None:
        """A warning naming the records in hidden rows: they are imported like the others, which a person
        who hid them (to set them aside) may not expect."""
        hidden = sorted(set(sheet.hidden) & records)
        if hidden:
            shown = "、".join(str(r) for r in hidden[:20]) + ("等" if len(hidden) > 20 else "")
            self.plan.warnings.append(RowProblem("hidden_rows", f"工作表「{sheet.name}」第 {shown} 行是隐藏行，也会导入：不要导入的行请删除，不要只隐藏。",
                                                 hidden[0], "", sheet.name))

    def merged(self, sheet: SheetRows, at: int, records: set[int]) -> bool:
        """A problem for each merged range among ``records`` (Excel rows under the header row ``at``) of
        ``sheet`` — the records' sheet or a table's —, one over several rows or over several cells of a
        row: a merge keeps only its first cell, so the rows or columns under it would read as blanks. A
        merged title above the header, or the signature line under an export, is no record's. True when
        there is one."""
        found = False
        for (r0, c0), (r1, c1) in sheet.merged:
            rows = set(range(r0 + 1, r1 + 2))  # Excel rows
            if r0 <= at or not (rows & records) or (r1 == r0 and c1 == c0):
                continue
            found = True
            where = f"{cell_name(r0, c0)}:{cell_name(r1, c1)}"
            self.problem("merged_cells", f"工作表「{sheet.name}」的 {where} 是合并单元格：合并后只有左上角的格子有内容，"
                         "其余格子会被读成空白。请取消合并，在每一行的每一格分别填写后重新上传。", r0 + 1, sheet=sheet.name)
        return found

    def table_rows(self, sheets: list[SheetRows], layout: _Layout, records: set[int]) -> dict[str, dict[int, list[tuple[int, dict]]]]:
        """Table key -> records' Excel row -> [(the table sheet's Excel row, raw answers)], from each
        table's sheet (problems noted: a sheet without its header, a 行号 that is no record's row)."""
        out: dict[str, dict[int, list[tuple[int, dict]]]] = {}
        for table in table_fields(self.form):
            name = self.table_names[table.key]
            sheet = next((s for s in sheets if header_text(s.name) == header_text(name)), None)
            if sheet is None:
                continue
            subfields = cell_fields(table.fields or ())
            fields = {header_text(f.label): f for f in subfields} | {header_text(ROW_HEADER): None}
            found = None
            for at, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
                known, unknown, twice = _fit(row, fields)
                if None in known:
                    found = at, known, unknown
                    break
            if found is None:
                self.problem("no_header", f"工作表「{sheet.name}」前 {HEADER_SEARCH_ROWS} 行没有找到含「{ROW_HEADER}」的表头。", sheet=sheet.name)
                continue
            at, known, unknown = found
            if unknown:
                self.problem("unknown_header", f"工作表「{sheet.name}」的表头" + "、".join(f"「{n}」" for n in unknown)
                             + f"不是「{table.label}」的列。", at + 1, sheet=sheet.name)
                continue
            row_col = known.pop(None)
            if self.merged(sheet, at, {i for i, _ in enumerate(sheet.rows[at + 1:], start=at + 2)}):
                continue
            by_record = out.setdefault(table.key, {})
            by_key = {f.key: f for f in subfields}
            for i, cells in enumerate(sheet.rows[at + 1:], start=at + 2):
                if all(blank(c) for c in cells):
                    continue
                number = cells[row_col] if row_col < len(cells) else None
                # typed as text: the number a person means (a longer digit string is no row, and too long to convert)
                if isinstance(number, str) and number.strip().isdecimal() and len(number.strip()) <= _ROW_DIGITS:
                    number = int(number)
                if not isinstance(number, int) or number not in records:
                    shown = "空" if blank(number) else f"“{quotable(number)}”"
                    self.problem("unknown_row_number", f"{ROW_HEADER}为{shown}：不是工作表「{layout.sheet.name}」中任何一条记录的行号。",
                                 i, ROW_HEADER, sheet.name)
                    continue
                try:
                    raw = {key: cell_answer(by_key[key], cells[j] if j < len(cells) else None) for key, j in known.items()}
                except CellRefused as exc:
                    self.problem(exc.code, str(exc), i, "", sheet.name)
                    continue
                by_record.setdefault(number, []).append((i, raw))
        return out

    # --- checking -----------------------------------------------------------------------------------
    def check_rows(self, layout: _Layout, body: list[tuple[int, list[Any]]], table_rows: dict) -> None:
        form, actor, plan = self.form, self.actor, self.plan
        live = editable_records(self.store, actor, form, assignments=self.assignments)
        index = _UniqueIndex(form, [r for r in live if r.status != WITHDRAWN])
        in_file = _UniqueIndex(form, [])
        taken: dict[str, int] = {}  # record id -> the file row updating it
        fields = {f.key: f for f in [*cell_fields(form.all_fields()), *table_fields(form)]}
        total = len(body)
        for n, (i, cells) in enumerate(body):
            if self.progress is not None and n % PROGRESS_EVERY == 0:
                self.progress(n, total)
            raw, sources = self.raw_answers(layout, fields, i, cells, table_rows)
            if raw is None:
                continue
            checked, warnings = self.check(i, raw, sources, CREATE, None)
            if checked is None:
                continue
            keys = index.keys_of(checked)
            matches = index.matches(checked, keys)
            if len(matches) > 1:
                ids = "、".join(r.id for r in matches)
                self.problem("matches_two", f"与已填报的多条记录（{ids}）相同，无法确定要更新哪一条：请核对后再导入。", i, sheet=layout.sheet.name)
                continue
            earlier = in_file.first_row(keys)
            if earlier is not None:
                self.problem("repeated_row", f"与本文件第 {earlier} 行是同一项目（{self.unique_words()}相同），同一项目只报一次。",
                             i, sheet=layout.sheet.name)
                continue
            in_file.add(checked, i, keys)
            if not matches:
                plan.creates.append(PlannedRow(i, checked, status=DRAFT if plan.draft else SUBMITTED))
                plan.warnings += warnings
                continue
            current = matches[0]
            if current.id in taken:
                self.problem("repeated_row", f"与本文件第 {taken[current.id]} 行更新的是同一条记录 {current.id}。", i, sheet=layout.sheet.name)
                continue
            taken[current.id] = i
            self.plan_update(i, raw, sources, current, (checked, warnings))
        if self.progress is not None:
            self.progress(total, total)
        plan.checked = total

    def plan_update(self, i: int, raw: dict, sources: dict, current: Record, created: tuple[dict, list[RowProblem]]) -> None:
        """The update of ``current`` by the file's row ``i``: its current answers with the file's columns
        over them (a file field or a column the file lacks keeps its answer; a field the account answers
        takes the account's answer, as on the fill page), checked and authorised as the fill page checks
        a correction. ``created``: the row already checked as new (values, warnings): when the file gives
        every answer the row has, that check is this one's (the policy judges new values alike for a new
        row and a correction), so only the correction's own rule is added."""
        sheet = self.main_name
        if self.plan.draft and current.status != DRAFT:
            self.problem("already_submitted", f"与已提交的记录 {current.id}（{current.status}）相同：已提交的记录不能以草稿导入覆盖，请选择“提交”导入。",
                         i, sheet=sheet)
            return
        status = DRAFT if self.plan.draft else next_status_on_submit(current.status)
        if status is None:
            self.problem("closed", f"与记录 {current.id} 相同，该记录状态为「{current.status}」，不能再修改。", i, sheet=sheet)
            return
        kept = {k: v for k, v in current.values.items() if k in self.labels and k not in raw and k not in self.account}
        if all(k in self.computed or v is None for k, v in kept.items()):
            values, warnings = created
            if current.status != DRAFT:
                try:
                    authorize_correction(self.held, self.actor, self.form, current, values)
                except Forbidden as exc:
                    self.refused(i, exc, values)
                    return
        else:
            values, warnings = self.check(i, {**kept, **raw}, sources, EDIT, current)
        if values is None:
            return
        planned = PlannedRow(i, values, current.id, current.rev, status)
        if status == current.status and all(same_value(current.values.get(k), v) for k, v in values.items()):
            self.plan.unchanged.append(planned)  # nothing to write: not counted as an update
        else:
            self.plan.updates.append(planned)
        self.plan.warnings += warnings

    def raw_answers(self, layout: _Layout, fields: dict[str, FieldSpec], i: int, cells: list[Any],
                    table_rows: dict) -> tuple[dict | None, dict]:
        """The row's raw answers, and where each table's rows came from (table key -> their Excel rows,
        or None when written as text in the records' sheet)."""
        raw: dict[str, Any] = {}
        sources: dict[str, list[int] | None] = {}
        for key, j in layout.columns.items():
            spec, value = fields[key], cells[j] if j < len(cells) else None
            if spec.type == "table":
                rows = table_from_text(spec, value)
                if rows is None:
                    self.problem("bad_table_text", f"「{spec.label}」应按“列名：内容；列名：内容”每行一条填写，无法读出。",
                                 i, spec.label, layout.sheet.name)
                    return None, sources
                raw[key], sources[key] = rows, None
            else:
                try:
                    raw[key] = cell_answer(spec, value)
                except CellRefused as exc:
                    self.problem(exc.code, str(exc), i, spec.label, layout.sheet.name)
                    return None, sources
        for key, by_record in table_rows.items():
            found = by_record.get(i, [])
            if key in layout.columns and raw[key] and found:
                name = self.table_names[key]
                self.problem("table_twice", f"「{self.labels[key]}」既填在本行的「{self.labels[key]}」列，又填在工作表「{name}」"
                             f"（{ROW_HEADER} {i}）：只能填一处。请删除其中一处后重新上传。", i, self.labels[key], layout.sheet.name)
                return None, sources
            if found or key not in layout.columns:  # the sheet's rows, or the column's when the sheet has none for this record
                raw[key] = [answers for _, answers in found]
                sources[key] = [row for row, _ in found]
        return raw, sources

    def check(self, i: int, raw: dict, sources: dict, action: str, current: Record | None) -> tuple[dict | None, list[RowProblem]]:
        """The row's checked values (None, with its problems noted, when it does not pass) and its warnings.
        The policy judges the checked values (as a submit does); a row that does not pass the form is
        judged on its answers as given, so one that is not the actor's to file is told so, not its typos.
        (One policy call per row: checking 10,000 rows stays within the import's time.)"""
        form, actor, row_id = self.form, self.actor, current.id if current else ""
        answers = answered_by_account(form, actor, raw)
        outcome = check_answers(form, answers, cities=self.cities, draft=self.plan.draft, today=self.today)
        judged = outcome.values if outcome.ok else answers
        try:
            authorize(self.held, actor, action, form, judged, row_id=row_id, assignments=self.assignments)
            if outcome.ok and current is not None and current.status != DRAFT:
                authorize_correction(self.held, actor, form, current, outcome.values)
        except Forbidden as exc:
            self.refused(i, exc, judged)
            return None, []
        self.plan.problems += [self.located(p, i, sources) for p in outcome.problems]
        if not outcome.ok:
            return None, []
        return outcome.values, [self.located(w, i, sources) for w in outcome.warnings]

    def refused(self, i: int, exc: Forbidden, answers: dict) -> None:
        self.refused_rows.append(i)
        spec = foreign_answer(self.form, self.actor, answers)
        city = self.form.city_field()
        header = spec.label if spec is not None else (self.labels[city] if city else "")
        self.problem(exc.code, str(exc), i, header, self.main_name)

    def located(self, p: FormProblem, i: int, sources: dict) -> RowProblem:
        """A form problem as the upload's: the records' sheet and row, or a table sheet's row."""
        label = self.labels.get(p.field, "")
        if p.field in self.files and p.code == "required":
            return RowProblem("file_required", f"{p.message}：文件不能通过 Excel 导入。请选择“保存为草稿”导入，再在“我的填报”中打开每条记录上传文件后提交。",
                              i, label, self.main_name)
        rows = sources.get(p.field)
        if p.row is not None and rows and p.row <= len(rows):
            return RowProblem(p.code, p.message, rows[p.row - 1], label, self.table_names.get(p.field, ""))
        if p.field in self.table_names and rows is not None and not rows:
            message = f"{p.message}（在工作表「{self.table_names[p.field]}」按{ROW_HEADER} {i} 填写）"
            return RowProblem(p.code, message, i, label, self.main_name)
        return RowProblem(p.code, p.message, i, label, self.main_name)

    def unique_words(self) -> str:
        return "或".join("、".join(f"「{self.labels[k]}」" for k in group) for group in self.form.unique)


class _UniqueIndex:
    """Rows by the answers of each of the form's ``unique`` groups (``comparable``: width, case, blanks)."""

    def __init__(self, form: FormSpec, records: list[Record]):
        self.groups = form.unique
        self.keys: dict[tuple, list] = {}
        for r in records:
            self.add(r.values, r)

    def keys_of(self, values: dict) -> list[tuple]:
        """``values``' key in each group (computed once per row by a caller that asks more than once)."""
        out = []
        for n, group in enumerate(self.groups):
            key = tuple(comparable(values.get(k)) for k in group)
            if key and all(key):  # a group with a blank answer identifies nothing
                out.append((n, key))
        return out

    def add(self, values: dict, item: Any, keys: list[tuple] | None = None) -> None:
        for key in self.keys_of(values) if keys is None else keys:
            self.keys.setdefault(key, []).append(item)

    def matches(self, values: dict, keys: list[tuple] | None = None) -> list[Record]:
        found: dict[str, Record] = {}
        for key in self.keys_of(values) if keys is None else keys:
            for r in self.keys.get(key, ()):
                found.setdefault(r.id, r)
        return list(found.values())

    def first_row(self, keys: list[tuple]) -> int | None:
        rows = [self.keys[key][0] for key in keys if key in self.keys]
        return min(rows) if rows else None


def _fit(row: list[Any], fields: dict[str, Any]) -> tuple[dict[Any, int], list[str], list[Any]]:
    """How a header row fits ``fields`` (header text -> field): {field key: cell index} of the known
    headers (the first of a repeated one), the unknown headers as written, the keys named twice. The
    system columns of an export, its 序号, and its files and calculated fields are neither."""
    ignored = {header_text(h) for h in IGNORED_HEADERS}
    known: dict[Any, int] = {}
    unknown, twice = [], []
    for j, value in enumerate(row):
        h = header_text(value) if isinstance(value, str) else ""
        if not h:
            if not blank(value):
                unknown.append(text(value))
            continue
        if h in fields:
            spec = fields[h]
            if spec is not None and (spec.type == "file" or spec.calculation):
                continue  # an export's column the upload cannot change: the files stay, the calculation is redone
            key = spec.key if spec is not None else None
            if key in known:
                twice.append(key)
            else:
                known[key] = j
        elif h not in ignored:
            unknown.append(str(value).strip())
    return known, unknown, twice


def _too_large_hint(exc: ExcelReadError, limits: WorkbookLimits, columns: int) -> str:
    """What to do about a sheet the bounded reader found too large: split the rows only when the rows are
    too many; delete columns when the columns are (splitting the rows would not help).

    >>> limits = WorkbookLimits.defaults()
    >>> _too_large_hint(ExcelReadError("dimension", sheet="s", ref="A1:XFD1", rows=1, columns=1), limits, 20)[:8]
    '请删除表头以外多'
    >>> _too_large_hint(ExcelReadError("dimension", sheet="s", ref="A1:B90000", rows=1, columns=1), limits, 20)[:6]
    '一次最多导入'
    """
    rows_hint = f"一次最多导入 {MAX_IMPORT_ROWS} 条记录，请拆分后分批导入。"
    columns_hint = f"请删除表头以外多余的列（本表单最多 {columns} 列）后重新上传。"
    params = exc.params
    if exc.code == "sheet_too_large":
        return columns_hint if params.get("columns", 0) > params.get("max_columns", 0) else rows_hint
    if exc.code in ("dimension", "cell_out_of_range"):
        found = re.search(r"([A-Z]+)(\d+)$", str(params.get("ref") or params.get("cell") or ""))
        if found is None:
            return rows_hint
        letters, row = found.groups()
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - 64
        return columns_hint if column > limits.max_columns and int(row) <= limits.max_rows else rows_hint
    if exc.code == "area":
        return rows_hint + "若列很多，也请删除表头以外多余的列。"
    return ""


def _table_needed(spec: FieldSpec, draft: bool) -> bool:
    return not draft and (spec.required or bool(spec.min_rows))


def _has_sheet(sheets: list[SheetRows], name: str) -> bool:
    return any(header_text(s.name) == header_text(name) for s in sheets)


# --- applying ---------------------------------------------------------------------------------------
def apply_import(store: Store, form: FormSpec, plan: ImportPlan, actor: Actor, *,
                 assignments: Assignments | None = None) -> ImportResult:
    """Write ``plan`` (made by ``plan_import`` for ``form`` and ``actor``) as one all-or-nothing change,
    under the fill page's submit lock, where every planned row is checked again against the rows as they
    are now (``_recheck``). Raises ImportRefused (nothing written) when the plan has problems, the form
    changed since, a row is no longer the actor's to file, or a planned row repeats a live row or
    updates one changed since. The audit note is made before the write: nothing after it can fail."""
    if not plan.ok:
        raise ImportRefused("导入文件还有问题未解决，未导入任何记录：请修改后重新上传。", code="plan_has_problems")
    if plan.form.version != form.version or plan.form.id != form.id:
        raise ImportRefused(f"表单「{form.title}」在您上传后已更新，未导入任何记录：请重新下载模板或重新上传文件。", code="form_changed")
    where = f"文件「{safe_file_name(plan.file_name)}」" if plan.file_name else "文件"
    note = (f"{where}：新增 {len(plan.creates)} 条，更新 {len(plan.updates)} 条，不变 {len(plan.unchanged)} 条"
            f"（{'存为' + DRAFT if plan.draft else '提交'}）")
    with store.exclusive(f"submit-{form.id}"):  # the fill page's lock: a row it files meanwhile is seen here
        _recheck(store, form, plan, actor, assignments)
        appends = [(form.id, p.values, p.status) for p in plan.creates]
        changes = [RowChange(form.id, p.record_id, p.base_rev, p.values, status=p.status, note=IMPORT_ACTION) for p in plan.updates]
        try:
            created, updated = store.write_batch(appends, changes, actor=actor, form_version=form.version)
        except ConflictError as exc:
            raise ImportRefused(f"有记录在您上传后被修改（{exc}），未导入任何记录：请重新上传文件。", code="changed_since_plan") from None
    store.log_event(actor, IMPORT_ACTION, form_id=form.id, note=note)
    return ImportResult(created=list(created), updated=list(updated))


def _recheck(store: Store, form: FormSpec, plan: ImportPlan, actor: Actor, assignments: Assignments | None) -> None:
    """Under the submit lock, every planned row against the rows as they are now (the check may be minutes
    old): each still the actor's to file with the assignments in force now (an inspector's group redrawn),
    audited once for the import when not; no new or updated row repeating, in one of the form's ``unique``
    groups, any live row of the actor's other than the one it updates (what ``duplicate_problems`` asks of
    the fill page's submit, for all rows at once); each updated row still at the revision planned."""
    live = editable_records(store, actor, form, assignments=assignments)
    by_id = {r.id: r for r in live}
    refused = [p.row for p in plan.creates if not can(actor, CREATE, form, p.values, assignments)]
    refused += [p.row for p in plan.updates if p.record_id not in by_id or not can(actor, EDIT, form, by_id[p.record_id], assignments)
                or not can(actor, EDIT, form, p.values, assignments)]
    if refused:
        message = (f"文件{_rows_named(refused)}现在已不由您的账号（{actor.account}）填报（检查文件后权限或检查分组有变化），"
                   "未导入任何记录：请重新上传文件检查。")
        store.log_event(actor, DENIED, form_id=form.id, note=f"{IMPORT_ACTION}：{message}")
        raise ImportRefused(message, code="forbidden_since_plan")
    for p in plan.updates:
        if by_id[p.record_id].rev != p.base_rev:
            raise ImportRefused(f"文件第 {p.row} 行要更新的记录 {p.record_id} 在您上传后被修改，未导入任何记录：请重新上传文件。",
                                code="changed_since_plan")
    index = _UniqueIndex(form, [r for r in live if r.status != WITHDRAWN])
    for p in sorted([*plan.creates, *plan.updates], key=lambda p: p.row):
        other = next((r for r in index.matches(p.values) if r.id != p.record_id), None)
        if other is not None:
            raise ImportRefused(f"文件第 {p.row} 行与已填报的记录 {other.id}（{other.status}）是同一项目（在您检查文件后填报或修改），"
                                "未导入任何记录：请重新上传文件。", code="filed_since_plan")
