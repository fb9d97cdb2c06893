"""The province's registers: the 服务券兑现清单 (2018/2019 subsidy register) and the list of benchmark
projects in scope. Parsing and validation are pure; ``import_register`` writes through the Store.

Storage design (one import = one batch, committed by one record):

* ``register_vouchers`` / ``register_projects`` — one row per in-scope register entry, status 已导入,
  with the batch id (``import_id``) and the Excel row it came from.
* ``register_imports`` — one row per import: kind, batch id, file, counts; status 有效 for the batch
  in force, 已替换 for the ones a later import replaced.

A re-import appends the new batch (one durable write of all rows), then its import record, then marks
the previous record 已替换. The current register is the batch of the newest 有效 record, so a crash
before the import record leaves the old register in force, and replacing N rows costs two writes,
not N updates (Google Sheets allows about 60 writes a minute).

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

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from lib.forms.types import is_credit_code
from lib.io.excel import ExcelReadError, SheetRows, read_workbook
from lib.store.base import Actor, Column, SheetSpec, Store, StoreError

ROW_STATUS = "已导入"
IMPORT_ACTIVE = "有效"
IMPORT_REPLACED = "已替换"

VOUCHER_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,39}$")
#: Redemption states of the voucher register; only redeemed vouchers are inspected (notice 一（一）).
REDEEMED = ("已兑现",)
NOT_REDEEMED = ("未兑现", "兑现不通过", "取消申报")
#: Benchmark project states; only these two are inspected (notice 一（二）).
PROJECT_IN_SCOPE = ("在建", "到期未验收")
PROJECT_OUT_OF_SCOPE = ("已验收", "已终止", "已撤销")
PROGRAMMES = ("省级标杆示范", "工信部创新发展工程")
YEARS = ("2018", "2019")
HEADER_SEARCH_ROWS = 20

MESSAGES = {
    "not_excel": "{detail}",
    "no_header": "找不到表头：没有一个工作表的前 {n} 行同时包含这些列：{missing}。请使用导入模板。",
    "no_rows": "表头下没有数据行。",
    "required": "「{column}」不能为空",
    "numeric_code": "「{column}」是数字格式，Excel 已丢失末几位；请把该列设置为文本后重新填写",
    "bad_credit_code": "「{column}」的值「{value}」不是有效的统一社会信用代码（18 位，校验位须正确）",
    "bad_voucher": "「{column}」的值「{value}」格式不正确（大写字母、数字和连字符，6–40 位）",
    "bad_city": "「{column}」的值「{value}」不是本次检查的地市",
    "bad_year": "「{column}」应为 2018 或 2019，实际为「{value}」",
    "bad_amount": "「{column}」应为大于 0 的金额（万元），实际为「{value}」",
    "bad_choice": "「{column}」的值「{value}」不在可选项中（{choices}）",
    "duplicate": "「{column}」「{value}」与第 {first} 行重复",
    "shenzhen": "地市为深圳：深圳市企业不在服务券奖补范围内，请核实",
}


@dataclass(frozen=True)
class RegisterProblem:
    """One problem of an uploaded register, located by Excel row and column header."""

    code: str
    message: str
    row: int | None = None  # Excel row number (1-based, as Excel shows it)
    column: str = ""

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


def _problem(code: str, row: int | None = None, column: str = "", **params: Any) -> RegisterProblem:
    return RegisterProblem(code, MESSAGES[code].format(column=column, **params), row, column)


class _Bad(Exception):
    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params


# --- cell parsers: raw cell -> value, or _Bad ------------------------------------------------------


def _text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return re.sub(r"\s+", " ", str(raw)).strip()


def _credit_code(raw: Any) -> str:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise _Bad("numeric_code")
    value = _text(raw).upper().replace(" ", "")
    if not is_credit_code(value):
        raise _Bad("bad_credit_code", value=value)
    return value


def _voucher(raw: Any) -> str:
    value = _text(raw).upper().replace(" ", "")
    if not VOUCHER_PATTERN.match(value):
        raise _Bad("bad_voucher", value=value)
    return value


def _year(raw: Any) -> str:
    value = _text(raw).removesuffix("年")
    if value not in YEARS:
        raise _Bad("bad_year", value=_text(raw))
    return value


def _amount(raw: Any) -> float:
    try:
        number = Decimal(_text(raw).replace(",", ""))
    except InvalidOperation:
        raise _Bad("bad_amount", value=_text(raw)) from None
    if not number.is_finite() or number <= 0:
        raise _Bad("bad_amount", value=_text(raw))
    return float(round(number, 2))


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = _text(raw)
        if value not in choices:
            raise _Bad("bad_choice", value=value, choices="、".join(choices))
        return value

    return parse


@dataclass(frozen=True)
class RegisterColumn:
    key: str
    header: str
    parse: Callable[[Any], Any]
    kind: str = "text"
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegisterKind:
    """One register: its sheet, its columns, and which column decides whether a row is in scope."""

    key: str  # "vouchers" / "projects"
    title: str
    sheet_id: str
    columns: tuple[RegisterColumn, ...]
    scope_column: str
    in_scope: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    unique: tuple[str, ...]  # keys that identify an entry; a repeat is a problem

    @property
    def sheet(self) -> SheetSpec:
        cols = [Column(c.key, c.header, c.kind) for c in self.columns]
        cols += [Column("import_id", "导入批次"), Column("source_row", "原表行号", "integer")]
        return SheetSpec(self.sheet_id, self.title, tuple(cols))


VOUCHERS = RegisterKind(
    key="vouchers",
    title="服务券兑现清单",
    sheet_id="register_vouchers",
    columns=(
        RegisterColumn("voucher_no", "服务券编号", _voucher),
        RegisterColumn("client_name", "企业名称", _text),
        RegisterColumn("client_credit_code", "统一社会信用代码", _credit_code, aliases=("企业统一社会信用代码",)),
        RegisterColumn("provider_name", "服务商", _text, aliases=("服务商名称",)),
        RegisterColumn("city", "地市", _text, aliases=("所在地市", "企业所在地市")),
        RegisterColumn("subsidy_year", "年度", _year, aliases=("奖补年度",)),
        RegisterColumn("subsidy_amount", "奖补金额（万元）", _amount, "number", aliases=("奖补金额",)),
        RegisterColumn("redemption_state", "兑现状态", _text),
    ),
    scope_column="redemption_state",
    in_scope=REDEEMED,
    out_of_scope=NOT_REDEEMED,
    unique=("voucher_no",),
)

PROJECTS = RegisterKind(
    key="projects",
    title="标杆示范项目清单",
    sheet_id="register_projects",
    columns=(
        RegisterColumn("project_name", "项目名称", _text),
        RegisterColumn("lead_unit_name", "牵头单位", _text, aliases=("牵头单位名称",)),
        RegisterColumn("lead_unit_credit_code", "统一社会信用代码", _credit_code, aliases=("牵头单位统一社会信用代码",)),
        RegisterColumn("city", "地市", _text, aliases=("所在地市", "项目所在地市")),
        RegisterColumn("programme", "项目类别", _choice(PROGRAMMES), aliases=("支持渠道",)),
        RegisterColumn("project_year", "年度", _year, aliases=("支持年度",)),
        RegisterColumn("project_status", "项目状态", _text, aliases=("建设状态", "项目建设状态")),
    ),
    scope_column="project_status",
    in_scope=PROJECT_IN_SCOPE,
    out_of_scope=PROJECT_OUT_OF_SCOPE,
    unique=("lead_unit_credit_code", "project_name"),
)

KINDS = {k.key: k for k in (VOUCHERS, PROJECTS)}

IMPORTS_SHEET = SheetSpec(
    "register_imports",
    "台账导入记录",
    (
        Column("kind", "台账类型"),
        Column("import_id", "导入批次"),
        Column("file_name", "文件名"),
        Column("sheet_name", "工作表"),
        Column("rows", "导入行数", "integer"),
        Column("excluded", "排除行数", "integer"),
        Column("excluded_detail", "排除说明"),
    ),
)


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

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def problems_frame(self) -> pd.DataFrame:
        """Problems then warnings as a table a person reads: 行号, 列, 问题, 级别."""
        items = [(p, "错误") for p in self.problems] + [(w, "提醒") for w in self.warnings]
        return pd.DataFrame(
            [{"行号": p.row, "列": p.column, "问题": p.message, "级别": level} for p, level in items],
            columns=["行号", "列", "问题", "级别"],
        )


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
        out.problems.append(_problem("no_header", n=HEADER_SEARCH_ROWS, missing="、".join(f"「{h}」" for h in located)))
        return out
    sheet, header_idx, index = located
    out.sheet_name, out.header_row = sheet.name, header_idx + 1
    headers = {c.key: c.header for c in kind.columns}
    first_seen: dict[tuple, int] = {}
    scope_col = next(c for c in kind.columns if c.key == kind.scope_column)
    for i, cells in enumerate(sheet.rows[header_idx + 1 :], start=header_idx + 2):
        raw = {key: (cells[j] if j < len(cells) else None) for key, j in index.items()}
        if all(v is None or _text(v) == "" for v in raw.values()):
            continue
        state = _text(raw[kind.scope_column]) if raw[kind.scope_column] is not None else ""
        if state in kind.out_of_scope:
            out.excluded[state] = out.excluded.get(state, 0) + 1
            continue
        if state not in kind.in_scope:
            choices = "、".join(kind.in_scope + kind.out_of_scope)
            if state:
                out.problems.append(_problem("bad_choice", i, scope_col.header, value=state, choices=choices))
            else:
                out.problems.append(_problem("required", i, scope_col.header))
            continue
        row, row_ok = {}, True
        for col in kind.columns:
            value = raw[col.key]
            if value is None or _text(value) == "":
                out.problems.append(_problem("required", i, col.header))
                row_ok = False
                continue
            try:
                row[col.key] = col.parse(value)
            except _Bad as bad:
                out.problems.append(_problem(bad.code, i, col.header, **bad.params))
                row_ok = False
        if "city" in row and row["city"] not in cities:
            out.problems.append(_problem("bad_city", i, headers["city"], value=row["city"]))
            row_ok = False
        if not row_ok:
            continue
        identity = tuple(row[k] for k in kind.unique)
        if identity in first_seen:
            shown = kind.unique[0] if len(kind.unique) == 1 else kind.unique[-1]
            out.problems.append(_problem("duplicate", i, headers[shown], value=row[shown], first=first_seen[identity]))
            continue
        first_seen[identity] = i
        if kind is VOUCHERS and row["city"] == "深圳":
            out.warnings.append(_problem("shenzhen", i, headers["city"]))
        row["source_row"] = i
        out.rows.append(row)
    if not out.rows and not out.problems and not out.excluded:
        out.problems.append(_problem("no_rows"))
    return out


def parse_upload(kind: RegisterKind, data: bytes, *, cities: tuple[str, ...]) -> ParsedRegister:
    """Read the uploaded workbook bytes and validate them; an unreadable file is one problem."""
    try:
        sheets = read_workbook(data)
    except ExcelReadError as exc:
        out = ParsedRegister(kind)
        out.problems.append(_problem("not_excel", detail=str(exc)))
        return out
    return parse_register(kind, sheets, cities=cities)


# --- storing -----------------------------------------------------------------------------------


class RegisterImportError(StoreError):
    """The upload has problems; nothing was written. ``problems`` lists them by row."""

    code = "register_invalid"

    def __init__(self, problems: list[RegisterProblem]):
        super().__init__(f"台账有 {len(problems)} 处问题，未导入任何数据。")
        self.problems = problems


@dataclass(frozen=True)
class ImportSummary:
    import_id: str
    rows: int
    excluded: dict[str, int]
    replaced: int  # earlier imports of this kind marked 已替换


def ensure_register_sheets(store: Store) -> None:
    for kind in KINDS.values():
        store.ensure_sheet(kind.sheet)
    store.ensure_sheet(IMPORTS_SHEET)


def excluded_text(excluded: dict[str, int]) -> str:
    """The excluded counts as one Chinese phrase.

    >>> excluded_text({"未兑现": 2, "取消申报": 1})
    '未兑现 2 行，取消申报 1 行'
    """
    return "，".join(f"{state} {n} 行" for state, n in excluded.items())


def import_register(
    store: Store, parsed: ParsedRegister, actor: Actor, *, file_name: str, now: dt.datetime | None = None
) -> ImportSummary:
    """Store ``parsed`` as the register in force for its kind, replacing the previous import.

    Raises RegisterImportError (nothing written) when the upload has problems or no row in scope.
    """
    if parsed.problems:
        raise RegisterImportError(parsed.problems)
    if not parsed.rows:
        raise RegisterImportError([_problem("no_rows")])
    kind = parsed.kind
    ensure_register_sheets(store)
    now = now or dt.datetime.now()
    import_id = f"{kind.key}-{now:%Y%m%d%H%M%S}-{secrets.token_hex(2)}"
    previous = [r for r in store.records(IMPORTS_SHEET.form_id) if r.values.get("kind") == kind.key and r.status == IMPORT_ACTIVE]
    rows = [{**row, "import_id": import_id} for row in parsed.rows]
    store.append_many(kind.sheet_id, rows, actor=actor, status=ROW_STATUS)  # one durable batch
    store.append(
        IMPORTS_SHEET.form_id,
        {
            "kind": kind.key,
            "import_id": import_id,
            "file_name": file_name,
            "sheet_name": parsed.sheet_name,
            "rows": len(rows),
            "excluded": sum(parsed.excluded.values()),
            "excluded_detail": excluded_text(parsed.excluded),
        },
        actor=actor,
        status=IMPORT_ACTIVE,
    )
    for rec in previous:
        store.update(IMPORTS_SHEET.form_id, rec.id, base_rev=rec.rev, actor=actor, status=IMPORT_REPLACED,
                     note=f"被导入批次 {import_id} 替换")
    return ImportSummary(import_id, len(rows), dict(parsed.excluded), len(previous))


def current_import_id(imports: pd.DataFrame, kind: RegisterKind) -> str | None:
    """The batch in force for ``kind``: the newest import record with status 有效.

    >>> imports = pd.DataFrame({"_status": ["已替换", "有效"], "kind": ["vouchers"] * 2, "import_id": ["a", "b"],
    ...                         "_created_at": pd.to_datetime(["2020-09-01", "2020-09-02"])})
    >>> current_import_id(imports, VOUCHERS)
    'b'
    """
    if imports is None or imports.empty or "kind" not in imports:
        return None
    live = imports[(imports["kind"] == kind.key) & (imports["_status"] == IMPORT_ACTIVE)]
    if live.empty:
        return None
    return str(live.sort_values("_created_at")["import_id"].iloc[-1])


def register_columns(kind: RegisterKind) -> list[str]:
    return [c.key for c in kind.columns] + ["import_id", "source_row"]


def current_register(rows: pd.DataFrame, imports: pd.DataFrame, kind: RegisterKind) -> pd.DataFrame:
    """The entries of the batch in force (field columns only); empty with the right columns if none."""
    batch = current_import_id(imports, kind)
    cols = register_columns(kind)
    if batch is None or rows is None or rows.empty or "import_id" not in rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
    picked = rows[rows["import_id"] == batch]
    return picked.reindex(columns=cols).reset_index(drop=True)


def template_frame(kind: RegisterKind) -> pd.DataFrame:
    """An empty register with the expected headers (the import template)."""
    return pd.DataFrame({c.header: pd.Series(dtype=object) for c in kind.columns})


def display_frame(kind: RegisterKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Register entries with Chinese headers, for a table or an export."""
    labels = {c.key: c.header for c in kind.columns} | {"source_row": "原表行号", "import_id": "导入批次"}
    keep = [c for c in labels if c in frame.columns]
    return frame[keep].rename(columns=labels)
