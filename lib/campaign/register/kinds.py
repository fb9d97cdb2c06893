"""The province's two registers as data: the 服务券兑现清单 and the list of benchmark projects.

Each :class:`RegisterKind` names its sheet, its columns (header, aliases, cell parser) and which
column decides whether an entry is in scope; the problem catalogue says what is wrong with a cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from lib.forms.types import is_credit_code
from lib.store.base import Column, SheetSpec

VOUCHER_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,39}$")
#: Redemption states of the voucher register; only redeemed vouchers are inspected (notice 一（一）).
REDEEMED = ("已兑现",)
NOT_REDEEMED = ("未兑现", "兑现不通过", "取消申报")
#: Benchmark project states; only these two are inspected (notice 一（二）).
PROJECT_IN_SCOPE = ("在建", "到期未验收")
PROJECT_OUT_OF_SCOPE = ("已验收", "已终止", "已撤销")
PROGRAMMES = ("省级标杆示范", "工信部创新发展工程")
YEARS = ("2018", "2019")

MESSAGES = {
    "no_header": "找不到表头：没有一个工作表的前 {n} 行同时包含这些列：{missing}。请使用导入模板。",
    "no_rows": "表头下没有数据行。",
    "none_in_scope": "没有检查范围内的条目：{excluded}，均按通知不在检查范围内。",
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
    "bad_number": "工作表「{sheet}」中「{column}」的数值「{value}」过大或不是有限的数（绝对值须小于 10^15），请改为正确的值",
    "bad_value": "{detail}",
    "bad_file_name": "文件名「{name}」无效：{why}。请重命名文件后重新上传。",
    "bad_sheet_name": "工作表名「{name}」无效：{why}。请在 Excel 中重命名该工作表后重新上传。",
}

#: Excel keeps 15 significant digits: a number this large was not typed as a register value (and
#: 1E+30, a 5,000-digit integer, NaN and infinity are how a hostile file says it).
MAX_NUMBER = 10**15


@dataclass(frozen=True)
class RegisterProblem:
    """One problem of an uploaded register, located by Excel row and column header."""

    code: str
    message: str
    row: int | None = None  # Excel row number (1-based, as Excel shows it)
    column: str = ""

    def __str__(self) -> str:
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


def problem(code: str, row: int | None = None, column: str = "", **params: Any) -> RegisterProblem:
    """The catalogue's problem ``code``, its message filled with ``column`` and ``params``."""
    return RegisterProblem(code, MESSAGES[code].format(column=column, **params), row, column)


def excluded_text(excluded: dict[str, int]) -> str:
    """The excluded counts as one Chinese phrase.

    >>> excluded_text({"未兑现": 2, "取消申报": 1})
    '未兑现 2 行，取消申报 1 行'
    """
    return "，".join(f"{state} {n} 行" for state, n in excluded.items())


class BadCell(Exception):
    """A cell parser's refusal: the catalogue code and the message's parameters. It never leaves the
    parser, which turns it into a ``RegisterProblem``."""

    def __init__(self, code: str, **params: Any):
        super().__init__(code)
        self.code, self.params = code, params


# --- cell parsers: raw cell -> value, or BadCell --------------------------------------------------


def bad_number(raw: Any) -> str | None:
    """The text of a numeric cell too large or not finite to be a register value, else None.

    >>> bad_number(12.5), bad_number(1e30), bad_number(float("nan")), bad_number("1E+30")
    (None, '1e+30', 'nan', None)
    """
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        return None
    if isinstance(raw, float) and not math.isfinite(raw):
        return str(raw)
    if abs(raw) >= MAX_NUMBER:
        return f"{raw:.6g}"
    return None


def cell_text(raw: Any) -> str:
    """A cell as one line of text: whitespace collapsed, a whole float without its ``.0``."""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return re.sub(r"\s+", " ", str(raw)).strip()


def _credit_code(raw: Any) -> str:
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        raise BadCell("numeric_code")
    value = cell_text(raw).upper().replace(" ", "")
    if not is_credit_code(value):
        raise BadCell("bad_credit_code", value=value)
    return value


def _voucher(raw: Any) -> str:
    value = cell_text(raw).upper().replace(" ", "")
    if not VOUCHER_PATTERN.match(value):
        raise BadCell("bad_voucher", value=value)
    return value


def _year(raw: Any) -> str:
    value = cell_text(raw).removesuffix("年")
    if value not in YEARS:
        raise BadCell("bad_year", value=cell_text(raw))
    return value


def _amount(raw: Any) -> float:
    try:
        number = Decimal(cell_text(raw).replace(",", ""))
    except InvalidOperation:
        raise BadCell("bad_amount", value=cell_text(raw)) from None
    if not number.is_finite() or number >= MAX_NUMBER:  # before round(): 1E+5000 cannot be rounded
        raise BadCell("bad_number", value=bad_number(raw) or cell_text(raw)[:40])
    if number <= 0:
        raise BadCell("bad_amount", value=cell_text(raw))
    return float(round(number, 2))


def _choice(choices: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = cell_text(raw)
        if value not in choices:
            raise BadCell("bad_choice", value=value, choices="、".join(choices))
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
        RegisterColumn("client_name", "企业名称", cell_text),
        RegisterColumn("client_credit_code", "统一社会信用代码", _credit_code, aliases=("企业统一社会信用代码",)),
        RegisterColumn("provider_name", "服务商", cell_text, aliases=("服务商名称",)),
        RegisterColumn("city", "地市", cell_text, aliases=("所在地市", "企业所在地市")),
        RegisterColumn("subsidy_year", "年度", _year, aliases=("奖补年度",)),
        RegisterColumn("subsidy_amount", "奖补金额（万元）", _amount, "number", aliases=("奖补金额",)),
        RegisterColumn("redemption_state", "兑现状态", cell_text),
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
        RegisterColumn("project_name", "项目名称", cell_text),
        RegisterColumn("lead_unit_name", "牵头单位", cell_text, aliases=("牵头单位名称",)),
        RegisterColumn("lead_unit_credit_code", "统一社会信用代码", _credit_code, aliases=("牵头单位统一社会信用代码",)),
        RegisterColumn("city", "地市", cell_text, aliases=("所在地市", "项目所在地市")),
        RegisterColumn("programme", "项目类别", _choice(PROGRAMMES), aliases=("支持渠道",)),
        RegisterColumn("project_year", "年度", _year, aliases=("支持年度",)),
        RegisterColumn("project_status", "项目状态", cell_text, aliases=("建设状态", "项目建设状态")),
    ),
    scope_column="project_status",
    in_scope=PROJECT_IN_SCOPE,
    out_of_scope=PROJECT_OUT_OF_SCOPE,
    unique=("lead_unit_credit_code", "project_name"),
)

KINDS = {k.key: k for k in (VOUCHERS, PROJECTS)}


def template_frame(kind: RegisterKind) -> pd.DataFrame:
    """An empty register with the expected headers (the import template)."""
    return pd.DataFrame({c.header: pd.Series(dtype=object) for c in kind.columns})


def display_frame(kind: RegisterKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Register entries with Chinese headers, for a table or an export."""
    labels = {c.key: c.header for c in kind.columns} | {"source_row": "原表行号", "import_id": "导入批次"}
    keep = [c for c in labels if c in frame.columns]
    return frame[keep].rename(columns=labels)
