"""Importing complaints (投诉举报) from an .xlsx: every row checked as the fill page checks it, all stored or none.

The province records complaints against projects on the fill page of the form the campaign binds as
``complaints``, one at a time, or imports many here. The upload's header row carries the form's field
labels (``template_xlsx`` gives exactly those headers: the form's fields a cell can hold — no table, no
file, no calculated field); a header the form does not have, a label missing for a required field, or a
label twice is refused. Each row is checked by the form engine (``lib.forms.check_answers``, with the
campaign's cities and clock) after the access rule allows the actor to file it (``lib.auth.policy``,
refusals audited), and against the complaints already recorded and the file's other rows (the same
answers twice is one complaint recorded twice: it would count two towards the ``complaints`` variable of
the priority rules), and its voucher against the projects the frame is built from (``record.frame_projects``:
a voucher no project has — a typo, five digits for six — would count towards nobody, and the project
meant would not be taken). Problems are listed by Excel row and header, in Chinese. Only when every row passes
are the rows written, as one ``Store.append_batch`` under the fill page's own submit lock, each as a
filed (已提交) row of the form, so a complaint imported and one entered count alike.

Here rather than in ``lib/office``: what is imported is the campaign's complaint register, found through
its binding, with the duplicate rule the priority facts need; the reading (``read_upload``: bounded, in
a subprocess), a header's loose comparison and a cell as an answer (``lib.office.bulk``, the bulk import's) and the checks
(the form engine, the policy) are the project's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from lib.auth.policy import CREATE, authorize, comparable
from lib.campaign.register.reconcile import normalize_code
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import FILED, SUBMITTED, WITHDRAWN
from lib.forms import FieldSpec, FormCatalog, FormSpec, check_answers
from lib.office.cells import CellRefused, cell_answer, header_text
from lib.office.excel import SheetRows, read_upload, to_xlsx
from lib.office.template import cell_fields
from lib.sampling.frame import FrameError
from lib.sampling.record import SOURCE_WORDS, frame_projects
from lib.store.base import Store
from lib.submissions import answered_by_account
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits

#: Most complaint rows one upload may carry (a year's complaints are a few hundred).
MAX_ROWS = 5_000
#: The header row is looked for in the first rows of the first sheet (a title above it is common).
HEADER_SEARCH_ROWS = 20
#: Problems listed one by one; the rest are counted.
MAX_LISTED = 500


class ComplaintsUnbound(AppError):
    """The campaign binds no complaints form: there is nothing to import into."""

    code = "complaints_unbound"


@dataclass(frozen=True)
class RowProblem:
    """One problem of the upload: its Excel row (None: the file as a whole), the header at fault."""

    code: str
    message: str
    row: int | None = None
    header: str = ""


@dataclass
class ComplaintImport:
    """What an upload gave: the rows written (``records``; empty when anything was refused), or the
    problems found (at most MAX_LISTED, ``unlisted`` more)."""

    problems: list[RowProblem] = field(default_factory=list)
    records: list[Record] = field(default_factory=list)
    checked: int = 0
    unlisted: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.records)

    def table(self) -> pd.DataFrame:
        """The problems as a person reads them: 行号, 列, 问题."""
        listed = [{"行号": p.row, "列": p.header, "问题": p.message} for p in self.problems]
        if self.unlisted:
            listed.append({"行号": None, "列": "", "问题": f"另有 {self.unlisted} 个问题未列出"})
        return pd.DataFrame(listed, columns=["行号", "列", "问题"])


def complaint_form(catalog: FormCatalog) -> FormSpec:
    """The form the campaign binds as ``complaints``. Raises ComplaintsUnbound when it binds none."""
    bindings = catalog.bindings
    if not bindings.has("complaints"):
        raise ComplaintsUnbound("本次活动没有绑定投诉举报登记表（campaign.yaml 的 bindings.complaints），无法导入投诉举报。")
    return catalog.form(bindings.of("complaints").form)


def importable_fields(form: FormSpec) -> list[FieldSpec]:
    """The fields of ``form`` a cell can hold, in the form's order: no table, no file, not calculated."""
    return cell_fields(form.all_fields())


def template_xlsx(form: FormSpec) -> bytes:
    """An empty workbook whose header row is the labels of ``importable_fields`` (a required one marked
    by nothing: the header is the label exactly, so the upload's headers read back)."""
    return to_xlsx({form.short_title or form.title: pd.DataFrame(columns=[f.label for f in importable_fields(form)])})


def import_complaints(store: Store, catalog: FormCatalog, data: bytes, actor: Actor, *, today: dt.date | None = None,
                      limits: WorkbookLimits | None = None) -> ComplaintImport:
    """Check every row of the upload ``data`` and, when all pass, store them as filed rows of the
    complaints form in one batch. ``today``: the campaign clock (None: the real date); ``limits``: what
    reading the upload may cost (the settings' defaults when None).

    Raises ComplaintsUnbound when the campaign binds no complaints form, Forbidden (audited) when the
    actor may not file it or a row it holds; every other problem is listed, nothing written."""
    form = complaint_form(catalog)
    authorize(store, actor, CREATE, form)
    out = ComplaintImport()
    try:
        sheets = read_upload(data, limits or WorkbookLimits.defaults())
    except ExcelReadError as exc:
        out.problems.append(RowProblem(exc.code, str(exc)))
        return out
    located = _locate(form, sheets, out)
    if located is None:
        return out
    sheet, header_at, columns = located
    body = [(i, cells) for i, cells in enumerate(sheet.rows[header_at + 1:], start=header_at + 2)
            if any(c is not None and str(c).strip() for c in cells)]
    if len(body) > MAX_ROWS:
        out.problems.append(RowProblem("too_many_rows", f"文件有 {len(body)} 行投诉举报，一次最多导入 {MAX_ROWS} 行：请拆分后分批导入。"))
        return out
    if not body:
        out.problems.append(RowProblem("no_rows", f"工作表「{sheet.name}」在表头下没有投诉举报记录。"))
        return out
    labels = {spec.key: spec.label for spec in form.all_fields()}
    checked: list[tuple[int, dict[str, Any]]] = []
    for i, cells in body:
        raw: dict[str, Any] = {}
        for spec, j in columns:
            try:
                raw[spec.key] = cell_answer(spec, cells[j] if j < len(cells) else None)
            except CellRefused as exc:  # a cell not read as its filer sees it (a voucher number Excel has rounded)
                out.problems.append(RowProblem(exc.code, str(exc), i, spec.label))
        if len(raw) < len(columns):
            continue
        answers = answered_by_account(form, actor, raw)
        authorize(store, actor, CREATE, form, answers)
        outcome = check_answers(form, answers, cities=catalog.campaign.cities, today=today)
        out.problems += [RowProblem(p.code, p.message, i, labels.get(p.field, "")) for p in outcome.problems]
        if outcome.ok:
            authorize(store, actor, CREATE, form, outcome.values)
            checked.append((i, outcome.values))
    out.checked = len(body)
    if not out.problems:
        out.problems += _unknown_vouchers(store, catalog, form, checked)
    if not out.problems:
        with store.exclusive(f"submit-{form.id}"):  # the fill page's lock: a complaint entered meanwhile is seen
            out.problems += _repeated(store, form, checked)
            if not out.problems:
                out.records = store.append_batch([(form.id, values, SUBMITTED) for _, values in checked],
                                                 actor=actor, form_version=form.version)
    out.unlisted = max(0, len(out.problems) - MAX_LISTED)
    del out.problems[MAX_LISTED:]
    return out


def _locate(form: FormSpec, sheets: list[SheetRows], out: ComplaintImport) -> tuple[SheetRows, int, list[tuple[FieldSpec, int]]] | None:
    """(sheet, header row index, (field, cell index) per column) of the first sheet whose header row
    names only the form's importable fields, every required one among them; None with the problem noted."""
    fields = {header_text(spec.label): spec for spec in importable_fields(form)}
    required = [spec.label for spec in importable_fields(form) if spec.required]
    for sheet in sheets[:1]:
        for at, row in enumerate(sheet.rows[:HEADER_SEARCH_ROWS]):
            headers = [(j, header_text(v)) for j, v in enumerate(row) if v is not None and header_text(v)]
            known = [(fields[h], j) for j, h in headers if h in fields]
            if not known or len(known) < min(2, len(fields)):
                continue
            unknown = [str(row[j]) for j, h in headers if h not in fields]
            twice = sorted({spec.label for spec, _ in known if sum(1 for s, _ in known if s is spec) > 1})
            missing = [label for label in required if header_text(label) not in {h for _, h in headers}]
            for code, what, names in (("unknown_header", "不是表单「{title}」的字段（请用导入模板的表头）", unknown),
                                      ("header_twice", "出现了两次", twice), ("missing_header", "缺少必填的列", missing)):
                if names:
                    shown = "、".join(f"「{n}」" for n in names)
                    out.problems.append(RowProblem(code, f"第 {at + 1} 行表头{shown}" + what.format(title=form.title) + "。", at + 1))
            return (sheet, at, known) if not out.problems else None
    labels = "、".join(f"「{spec.label}」" for spec in importable_fields(form))
    out.problems.append(RowProblem("no_header", f"第一个工作表的前 {HEADER_SEARCH_ROWS} 行没有找到表头：表头应为 {labels}（见导入模板）。"))
    return None


def frame_vouchers(store: Store, catalog: FormCatalog) -> set[str]:
    """The vouchers (``normalize_code``) of the projects a frame would be built from now; empty when
    there are none yet or the campaign's frame cannot be built (said where the frame is shown)."""
    try:
        projects = frame_projects(store, catalog)
    except FrameError:
        return set()
    return set(normalize_code(projects["voucher"])) - {""}


def _unknown_vouchers(store: Store, catalog: FormCatalog, form: FormSpec, checked: list[tuple[int, dict[str, Any]]]) -> list[RowProblem]:
    """A row whose voucher is no project the frame is built from (by Excel row), or one problem for the
    file when there are no projects yet to compare with."""
    key = catalog.bindings.of("complaints").key("voucher")
    label, where = form.field(key).label, SOURCE_WORDS[catalog.campaign.sampling.frame]
    known = frame_vouchers(store, catalog)
    if not known:
        return [RowProblem("no_projects", f"{where}中还没有项目，无法核对投诉举报的「{label}」：请先导入台账（或等项目填报）后再导入。")]
    found = normalize_code(pd.Series([values.get(key) for _, values in checked], dtype=object))
    return [RowProblem("voucher_not_in_frame", f"{label} {values.get(key)} 不在{where}中：请核对编号（登记后不会计入任何项目的优先规则）。",
                       i, label)
            for (i, values), voucher in zip(checked, found) if voucher not in known]


def unmatched(store: Store, catalog: FormCatalog, vouchers: set[str]) -> pd.DataFrame:
    """The filed complaints (the form bound as ``complaints``) whose voucher is none of ``vouchers``
    (``normalize_code``, e.g. a frame's): they count towards no project. Columns: 记录, the voucher's
    label, and the form's other importable fields by label; empty when the campaign binds no complaints form."""
    if not catalog.bindings.has("complaints"):
        return pd.DataFrame()
    form = complaint_form(catalog)
    key = catalog.bindings.of("complaints").key("voucher")
    rows = [r for r in store.records(form.id) if r.status in FILED]
    codes = normalize_code(pd.Series([r.values.get(key) for r in rows], dtype=object))
    fields = importable_fields(form)
    return pd.DataFrame([{"记录": r.id, **{f.label: r.values.get(f.key) for f in fields}}
                         for r, code in zip(rows, codes) if code not in vouchers],
                        columns=["记录", *(f.label for f in fields)])


def _repeated(store: Store, form: FormSpec, checked: list[tuple[int, dict[str, Any]]]) -> list[RowProblem]:
    """A row whose every answer equals a recorded complaint (not withdrawn) or an earlier row of the file."""
    keys = [spec.key for spec in importable_fields(form)]

    def identity(values: dict[str, Any]) -> tuple[str, ...]:
        return tuple(comparable(values.get(k)) for k in keys)

    recorded = {identity(r.values): r.id for r in store.records(form.id) if r.status != WITHDRAWN}
    first: dict[tuple[str, ...], int] = {}
    found = []
    for i, values in checked:
        key = identity(values)
        if key in recorded:
            found.append(RowProblem("already_recorded", f"与已登记的投诉举报（记录 {recorded[key]}）完全相同，未重复登记。", i))
        elif key in first:
            found.append(RowProblem("repeated_row", f"与本文件第 {first[key]} 行完全相同。", i))
        else:
            first[key] = i
    return found
