"""A form's blank import template (.xlsx), generated from its YAML: what a filer fills in WPS or Excel
and uploads again (``lib.office.bulk``).

The first sheet, named after the form's short title, takes one record per row under a header row of
field labels (a required one marked with a trailing `` *``, which the importer strips). A field becomes
a column when a cell can hold it: not calculated, not a ``file`` (uploaded on the page), not a ``table``
and not one the account answers (``from_account``: the app fills it, so the filer never retypes its own
name and credit code). Each ``table`` field gets a sibling sheet named after its label whose first
column ``行号`` is the Excel row, on the first sheet, of the record a table row belongs to.

Each column is typed the way the web form is: the field's help as the cell's input message; dropdowns
(data validation from a hidden list sheet) for ``select``, ``multiselect`` (typing several allowed,
joined by "；"), ``city`` (the campaign's cities) and ``boolean`` (是/否); date validation and
``yyyy-mm-dd`` for dates; whole numbers, decimals, money and percent with their number formats; and every
other column formatted as text (``@``) so WPS keeps leading zeros and 18-character codes. Formats are set
on whole columns, so the file stays a few kilobytes however many rows are filled.

The instructions sheet ``填表说明`` comes LAST: the first sheet is the one a person lands on and the one
other programs read first (WPS's import, pandas), so it holds the data; the instructions are one tab away,
named where a person looks for them.

>>> from lib.forms import load_catalog
>>> shipped = load_catalog("forms")
>>> form = shipped.form(shipped.bindings.projects.form)
>>> import io, openpyxl
>>> book = openpyxl.load_workbook(io.BytesIO(template_xlsx(form, shipped.campaign)))
>>> book.sheetnames[0] == form.short_title and book.sheetnames[-1] == INSTRUCTIONS
True
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from lib.auth.policy import account_answers
from lib.core.records import Actor
from lib.core.values import LIST_SEPARATOR, NO, YES, xlsx_format
from lib.forms import CampaignSpec, FieldSpec, FormSpec
from lib.forms.types import EARLIEST_DATE, LATEST_DATE, MAX_INTEGER_DIGITS, REGISTRY
from lib.xlsx.names import sheet_name

#: The instructions sheet's name.
INSTRUCTIONS = "填表说明"
#: The hidden sheet the dropdowns read their choices from.
LISTS = "下拉选项"
#: A table sheet's first column: the first sheet's Excel row of the record a table row belongs to.
ROW_HEADER = "行号"
#: Marks a required field's header; the importer strips it.
REQUIRED_MARK = " *"
#: Rows the validations and dropdowns cover (the importer takes at most this many records).
TEMPLATE_ROWS = 10_000
#: What Excel lets a data validation's input message and title hold.
MAX_INPUT_MESSAGE = 255
MAX_INPUT_TITLE = 32
#: Field types a cell cannot hold: a table's rows (a sheet of their own), a file's bytes (uploaded on the page).
NOT_A_CELL = ("table", "file")
_BIGGEST = 10**MAX_INTEGER_DIGITS - 1


def required_files(form: FormSpec) -> list[FieldSpec]:
    """The form's required ``file`` fields: no cell holds a file, so a row of such a form is imported as a
    draft, its files uploaded on the page before it is submitted."""
    return [f for f in form.all_fields() if f.type == "file" and f.required]


def cell_fields(fields: list[FieldSpec] | tuple[FieldSpec, ...], form: FormSpec | None = None,
                actor: Actor | None = None) -> list[FieldSpec]:
    """The fields of ``fields`` a cell holds, in order: not calculated, not a table or file, and (with
    ``form``) not one the account answers: with ``actor``, those ``actor``'s account answers; without, every
    ``from_account`` field (the app fills it for whoever uploads).

    >>> from lib.forms import load_catalog
    >>> shipped = load_catalog("forms")
    >>> form = shipped.form(shipped.bindings.projects.form)
    >>> [f.from_account for f in form.all_fields()][:2], [f.from_account for f in cell_fields(form.all_fields(), form)][:2]
    (['org', 'org_code'], [None, None])
    """
    answered = None if form is None or actor is None else set(account_answers(form, actor))
    return [f for f in fields if f.type not in NOT_A_CELL and not f.calculation
            and not (form is not None and f.from_account and (answered is None or f.key in answered))]


def table_fields(form: FormSpec) -> list[FieldSpec]:
    """The ``table`` fields of ``form`` that are not calculated: each is a sheet of the template."""
    return [f for f in form.all_fields() if f.type == "table" and not f.calculation]


def header(spec: FieldSpec) -> str:
    """A column's header: the label, `` *`` after a required one.

    >>> header(FieldSpec(key="a", label="企业名称", type="text", required=True))
    '企业名称 *'
    """
    return spec.label + (REQUIRED_MARK if spec.required else "")


def sheet_names(form: FormSpec) -> tuple[str, dict[str, str]]:
    """(the records' sheet, {table key: its sheet}) as the template names them; the importer looks for
    the same names."""
    main = sheet_name(form.short_title or form.title)
    taken, tables = {main, INSTRUCTIONS, LISTS}, {}
    for spec in table_fields(form):
        tables[spec.key] = sheet_name(spec.label, taken)
        taken.add(tables[spec.key])
    return main, tables


def template_xlsx(form: FormSpec, campaign: CampaignSpec, *, actor: Actor | None = None) -> bytes:
    """The blank import template of ``form`` (see the module docstring). ``actor``: the account that will
    upload it: the fields its account answers are left out (and the instructions name its organisation);
    nothing of the account is written into a cell."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False})
    writer = _Writer(book, campaign)
    main, tables = sheet_names(form)
    writer.sheet(main, cell_fields(form.all_fields(), form, actor), first=True)
    for spec in table_fields(form):
        writer.sheet(tables[spec.key], cell_fields(spec.fields or ()), table_of=(spec, main))
    _instructions(book, writer, form, campaign, actor, main, tables)
    writer.lists.hide()
    book.close()
    return out.getvalue()


class _Writer:
    """Writes header rows, column formats and validations; collects the dropdowns' choices on the hidden sheet."""

    def __init__(self, book, campaign: CampaignSpec):
        self.book, self.campaign = book, campaign
        self.head = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True, "valign": "top"})
        self.required = book.add_format({"bold": True, "bg_color": "#FCE8D5", "border": 1, "text_wrap": True, "valign": "top"})
        self.formats = {name: book.add_format({"num_format": code}) for name, code in
                        (("text", "@"), ("integer", "0"), ("two", xlsx_format("money")), ("date", xlsx_format("date")),
                         ("number", "General"))}
        self.pending: list[Any] = []  # sheets written before the list sheet exists
        self.lists = None
        self.list_columns = 0

    def sheet(self, name: str, fields: list[FieldSpec], *, first: bool = False, table_of: tuple[FieldSpec, str] | None = None) -> None:
        ws = self.book.add_worksheet(name)
        if self.lists is None:  # after the first sheet: the first sheet stays the one a person lands on
            self.lists = self.book.add_worksheet(LISTS)
        if first:
            ws.activate()
        column = 0
        if table_of is not None:
            table, main = table_of
            message = f"本行所属记录在工作表「{main}」中的 Excel 行号（第一条记录在第 2 行）。一条记录有几行「{table.label}」就填几行，行号相同。"
            ws.write_string(0, 0, ROW_HEADER + REQUIRED_MARK, self.required)
            ws.set_column(0, 0, 8, self.formats["integer"])
            self._validate(ws, 0, {"validate": "integer", "criteria": ">=", "value": 2}, ROW_HEADER, message)
            column = 1
        for spec in fields:
            ws.write_string(0, column, header(spec), self.required if spec.required else self.head)
            self._column(ws, column, spec)
            column += 1
        ws.freeze_panes(1, 0)
        ws.set_row(0, 32)

    def _column(self, ws, c: int, spec: FieldSpec) -> None:
        kind = REGISTRY[spec.type].kind
        hint, rule = "", {"validate": "any"}
        width = min(40, max(12, len(spec.label) * 2 + 4))
        if spec.type in ("select", "multiselect", "city", "boolean"):
            choices = self._choices(spec)
            rule = {"validate": "list", "source": self._list(spec.label, choices)}
            if spec.type == "multiselect":  # a dropdown picks one: more are typed, joined by "；"
                rule.update(error_type="information", error_title="多选", error_message=f"可多选：多个选项用“{LIST_SEPARATOR}”分隔。")
                hint = f"可多选，多个选项用“{LIST_SEPARATOR}”分隔。"
            else:
                rule.update(error_title="请从下拉列表选择", error_message=_cut("只能填写：" + "、".join(choices), MAX_INPUT_MESSAGE))
                hint = "请从下拉列表选择。"
            fmt = self.formats["text"]
        elif kind == "date":
            low, high = _bound(spec.min, EARLIEST_DATE), _bound(spec.max, LATEST_DATE)
            low = low if isinstance(low, dt.date) else EARLIEST_DATE
            high = high if isinstance(high, dt.date) else LATEST_DATE
            rule = {"validate": "date", "criteria": "between", "minimum": low, "maximum": high, "error_type": "warning",
                    "error_title": "日期", "error_message": f"请填写 {low:%Y-%m-%d} 至 {high:%Y-%m-%d} 之间的日期，格式 YYYY-MM-DD。"}
            hint, fmt, width = "日期，格式 YYYY-MM-DD。", self.formats["date"], 12
        elif kind in ("integer", "number"):
            low, high = _bound(spec.min, -_BIGGEST), _bound(spec.max, _BIGGEST)
            rule = {"validate": "integer" if kind == "integer" else "decimal", "criteria": "between", "minimum": low,
                    "maximum": high, "error_type": "warning", "error_title": "数字",
                    "error_message": "请填写整数。" if kind == "integer" else "请填写数字。"}
            if spec.type in ("money", "percent"):
                fmt, hint = self.formats["two"], ("金额（万元），保留两位小数。" if spec.type == "money" else "百分数，填数字（如 85.5 表示 85.5%）。")
            else:
                fmt, hint = self.formats["integer" if kind == "integer" else "number"], ("整数。" if kind == "integer" else "数字。")
        else:
            fmt = self.formats["text"]
        ws.set_column(c, c, width, fmt)
        self._validate(ws, c, rule, spec.label, " ".join(t for t in (spec.help, hint) if t))

    def _validate(self, ws, c: int, rule: dict, title: str, message: str) -> None:
        """``rule`` on the column's data rows, and the input message on its header and data rows."""
        shown = {"input_title": _cut(title, MAX_INPUT_TITLE), "input_message": _cut(message, MAX_INPUT_MESSAGE)} if message else {}
        ws.data_validation(1, c, TEMPLATE_ROWS, c, {**rule, **shown, "ignore_blank": True})
        if shown:
            ws.data_validation(0, c, 0, c, {"validate": "any", **shown})

    def _choices(self, spec: FieldSpec) -> list[str]:
        if spec.type == "city":
            return list(self.campaign.cities)
        if spec.type == "boolean":
            return [YES, NO]
        return list(spec.choices or ())

    def _list(self, label: str, choices: list[str]) -> str:
        """The hidden sheet's range holding ``choices`` (a column per dropdown, its label on top)."""
        from xlsxwriter.utility import xl_rowcol_to_cell

        c = self.list_columns
        self.list_columns += 1
        self.lists.write_string(0, c, label)
        for r, choice in enumerate(choices, start=1):
            self.lists.write_string(r, c, choice)
        first = xl_rowcol_to_cell(1, c, row_abs=True, col_abs=True)
        last = xl_rowcol_to_cell(max(1, len(choices)), c, row_abs=True, col_abs=True)
        return f"='{LISTS}'!{first}:{last}"


def _bound(value: Any, default: Any) -> Any:
    return default if value is None else value


def _cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, an ellipsis marking a cut (Excel refuses a longer message)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _instructions(book, writer: _Writer, form: FormSpec, campaign: CampaignSpec, actor: Actor | None, main: str,
                  tables: dict[str, str]) -> None:
    ws = book.add_worksheet(INSTRUCTIONS)
    bold = book.add_format({"bold": True, "font_size": 14})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    ws.set_column(0, 0, 18)
    ws.set_column(1, 1, 90, wrap)
    deadline = campaign.deadlines.get(form.deadline) if form.deadline else None
    lines: list[tuple[str, str]] = [("表单", form.title)]
    if campaign.notice:
        lines.append(("通知文号", campaign.notice))
    if deadline:
        lines.append(("截止日期", f"{deadline:%Y-%m-%d}"))
    if actor is not None and actor.org:
        lines.append(("填报单位", actor.org))
    columns = [*cell_fields(form.all_fields(), form, actor), *(f for t in table_fields(form) for f in cell_fields(t.fields or ()))]
    types = {f.type for f in columns}
    rules = [f"每条记录填一行，从工作表「{main}」的第 2 行开始；不要改动第 1 行的表头，不要合并单元格。",
             f"表头带“{REQUIRED_MARK.strip()}”的列为必填（有的只在某些情况下必填，见该列的提示）。", "选中一列的单元格时会显示该列的填写提示。"]
    if types & {"select", "city", "multiselect", "boolean"}:
        rules.append("有下拉箭头的列请从列表中选择" + ("；多选的列可输入多个选项，用“；”分隔。" if "multiselect" in types else "。"))
    if "boolean" in types:
        rules.append(f"是/否类的列填写“{YES}”或“{NO}”。")
    if "date" in types:
        rules.append("日期填写为 YYYY-MM-DD（年-月-日，如 1999-01-31）。")
    if "money" in types:
        rules.append("金额单位为万元，保留两位小数。")
    rules.append("文字、编号、代码类的列已设为文本格式，前导零和 18 位代码会原样保留。")
    for spec in table_fields(form):
        rules.append(f"「{spec.label}」填在工作表「{tables[spec.key]}」：每行第一列“{ROW_HEADER}”填所属记录在「{main}」中的行号，"
                     "一条记录可有多行。")
    rules.append("导入时每一行都按网页填报的规则检查，全部通过才会保存；有问题的会按行号和列名列出。")
    lines.append(("填写规则", "\n".join(f"{i}. {r}" for i, r in enumerate(rules, 1))))
    filled = [f.label for f in form.all_fields() if f.from_account and f not in cell_fields([f], form, actor)]
    computed = [f.label for f in form.all_fields() if f.calculation]
    uploads = [f.label for f in form.all_fields() if f.type == "file"]
    if filled:
        lines.append(("系统自动填写", "、".join(filled) + "：由系统按填报账号填写，表中不设这些列。"))
    if computed:
        lines.append(("自动计算", "、".join(computed) + "：由系统计算，无需填写。"))
    if uploads:
        lines.append(("网页上传", "、".join(uploads) + "：请导入后在网页上逐条上传。"))
    needed = required_files(form)
    if needed:
        lines.append(("只能存为草稿", "、".join(f.label for f in needed) + "为必填的文件，无法通过 Excel 导入：本表单导入时请选择“保存为草稿”，"
                      "再在“我的填报”中打开每条记录上传文件后提交。"))
    ws.write_string(0, 0, form.title, bold)
    for r, (name, value) in enumerate(lines, start=2):
        ws.write_string(r, 0, name, writer.head)
        ws.write_string(r, 1, value, wrap)
