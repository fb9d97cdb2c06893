"""The province's two registers as the campaign declares them: the voucher register and the list of
benchmark projects, built from ``campaign.yaml`` (``registers:``, ``outside_scheme:``, ``cities:``).

``register_kinds(campaign)`` gives each :class:`RegisterKind`: its sheet, its columns (keyed by the
meanings of ``lib.forms.bindings.REGISTER_NEEDS`` plus ``state``, each with the headers an upload may
carry and a cell parser), the years it covers, which state words keep an entry and which exclude it,
and the cities whose entries are excluded. The words are the campaign's; the code knows only meanings.
The problem catalogue says what is wrong with a cell.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import pandas as pd

from lib.forms.bindings import REGISTER_KINDS
from lib.forms.spec import CampaignSpec
from lib.forms.types import ValueProblem, clean_text, is_credit_code
from lib.store.base import Column, SheetSpec

VOUCHER_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{5,39}$")
#: The column whose words decide whether an entry is inspected (``registers.<kind>.state``).
STATE = "state"
#: The columns that identify an entry, per register; a repeat is a problem.
UNIQUE = {"vouchers": ("voucher",), "projects": ("lead_unit_code", "project")}
#: Which registers the cities outside the scheme apply to: ``outside_scheme`` is about the voucher
#: scheme (附件1 refuses those cities too); benchmark projects are another programme.
OUTSIDE_SCHEME_APPLIES = ("vouchers",)

MESSAGES = {
    "no_header": "找不到表头：没有一个工作表的前 {n} 行同时包含这些列：{missing}。请使用导入模板。",
    "no_rows": "表头下没有数据行。",
    "none_in_scope": "没有检查范围内的条目：{excluded}，均按通知不在检查范围内。",
    "required": "「{column}」不能为空",
    "numeric_code": "「{column}」是数字格式，Excel 已丢失末几位；请把该列设置为文本后重新填写",
    "bad_credit_code": "「{column}」的值「{value}」不是有效的统一社会信用代码（18 位，校验位须正确）",
    "bad_voucher": "「{column}」的值「{value}」格式不正确（大写字母、数字和连字符，6–40 位）",
    "bad_city": "「{column}」的值「{value}」不是本次检查的地市",
    "bad_year": "「{column}」应为 {years}，实际为「{value}」",
    "bad_amount": "「{column}」应为大于 0 的金额（万元），实际为「{value}」",
    "bad_choice": "「{column}」的值「{value}」不在可选项中（{choices}）",
    "duplicate": "「{column}」「{value}」与第 {first} 行重复",
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

    >>> excluded_text({"作废": 2, "某市（不在奖补范围）": 1})
    '作废 2 行，某市（不在奖补范围） 1 行'
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


def _year(years: tuple[str, ...]) -> Callable[[Any], str]:
    """A year cell read as the forms read typed numbers (``clean_text``'s NFKC: full-width digits are
    ASCII), a trailing 年 dropped: 2019, 2019.0, "２０１９", "2019 年" are all 2019; "20 19" is not a year.

    >>> parse = _year(("2019",))
    >>> [parse(v) for v in (2019, 2019.0, "２０１９", "2019 年", " ２０１９年 ")]
    ['2019', '2019', '2019', '2019', '2019']
    """
    def parse(raw: Any) -> str:
        try:
            value = clean_text(cell_text(raw), normalise=True).removesuffix("年").rstrip()
        except ValueProblem:  # a control or direction character: not a year
            value = ""
        if value not in years:
            raise BadCell("bad_year", value=cell_text(raw), years=or_text(years))
        return value

    return parse


def or_text(words: tuple[str, ...]) -> str:
    """Alternatives as one Chinese phrase.

    >>> or_text(("2020",)), or_text(("2018", "2019")), or_text(("a", "b", "c"))
    ('2020', '2018 或 2019', 'a、b 或 c')
    """
    return words[0] if len(words) == 1 else "、".join(words[:-1]) + " 或 " + words[-1]


def city_of(text: str, cities: tuple[str, ...]) -> str:
    """A register's city as the campaign spells it: a city written with its 市 (the way registers
    often write it) is that city; anything else is returned as it is.

    >>> city_of("佛山市", ("广州", "佛山")), city_of("香港", ("广州",))
    ('佛山', '香港')
    """
    if text not in cities and text.endswith("市") and text[:-1] in cities:
        return text[:-1]
    return text


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


def _city(cities: tuple[str, ...]) -> Callable[[Any], str]:
    def parse(raw: Any) -> str:
        value = city_of(cell_text(raw), cities)
        if value not in cities:
            raise BadCell("bad_city", value=value)
        return value

    return parse


@dataclass(frozen=True)
class RegisterColumn:
    """One column of a register: its meaning (the stored key), the headers an upload may carry (the
    first is the template's), its cell parser and its store kind."""

    key: str
    headers: tuple[str, ...]
    parse: Callable[[Any], Any]
    kind: str = "text"

    @property
    def header(self) -> str:
        return self.headers[0]


@dataclass(frozen=True)
class RegisterKind:
    """One register: its sheet, its columns, which words of its state column keep or exclude an entry,
    and the cities whose entries are excluded."""

    key: str  # "vouchers" / "projects"
    title: str
    sheet_id: str
    columns: tuple[RegisterColumn, ...]
    in_scope: tuple[str, ...]
    out_of_scope: tuple[str, ...]
    unique: tuple[str, ...]  # meanings that identify an entry; a repeat is a problem
    years: tuple[str, ...]
    cities: tuple[str, ...]
    outside: tuple[str, ...] = ()  # cities outside the scheme: their entries are excluded
    scope_column: str = STATE

    @property
    def sheet(self) -> SheetSpec:
        cols = [Column(c.key, c.header, c.kind) for c in self.columns]
        cols += [Column("import_id", "导入批次"), Column("source_row", "原表行号", "integer")]
        return SheetSpec(self.sheet_id, self.title, tuple(cols))

    def column(self, key: str) -> RegisterColumn:
        return next(c for c in self.columns if c.key == key)


def _parsers(years: tuple[str, ...], cities: tuple[str, ...], programmes: tuple[str, ...]) -> dict[str, tuple[Callable, str]]:
    """Meaning -> (cell parser, store kind): how each meaning the code reads is checked."""
    return {
        "voucher": (_voucher, "text"),
        "firm_code": (_credit_code, "text"),
        "lead_unit_code": (_credit_code, "text"),
        "city": (_city(cities), "text"),
        "year": (_year(years), "text"),
        "subsidy": (_amount, "number"),
        "programme": (_choice(programmes) if programmes else cell_text, "text"),
    }


def register_kinds(campaign: CampaignSpec) -> dict[str, RegisterKind]:
    """The campaign's registers (``campaign.registers``), keyed "vouchers" / "projects"; empty when the
    campaign declares none. A project's programme must be one of the words the benchmark form's
    ``programme`` offers (its binding's choice words, in the YAML's order; any text when the campaign
    binds no forms, which ``FormCatalog.bindings`` reports as a broken campaign).

    >>> from pathlib import Path
    >>> from lib.forms.loader import load_catalog
    >>> campaign = load_catalog(Path(__file__).resolve().parents[3] / "tests" / "campaigns" / "other").campaign
    >>> vouchers = register_kinds(campaign)["vouchers"]
    >>> vouchers.sheet_id, vouchers.years, vouchers.outside, [c.key for c in vouchers.columns][:2]
    ('register_vouchers', ('2020',), ('珠海',), ['voucher', 'firm'])
    >>> vouchers.column("voucher").headers
    ('券号', '服务券编号')
    """
    if campaign.registers is None:
        return {}
    bindings = campaign.bindings
    programmes = tuple(bindings.of("benchmarks").words("programme").values()) if bindings is not None else ()
    cities = tuple(campaign.cities)
    kinds = {}
    for key in REGISTER_KINDS:
        declared = campaign.registers.of(key)
        parsers = _parsers(tuple(declared.years), cities, programmes)
        columns = [RegisterColumn(meaning, tuple(headers), *parsers.get(meaning, (cell_text, "text")))
                   for meaning, headers in declared.columns.items()]
        columns.append(RegisterColumn(STATE, tuple(declared.state.headers), cell_text))
        kinds[key] = RegisterKind(
            key=key,
            title=declared.title,
            sheet_id=f"register_{key}",
            columns=tuple(columns),
            in_scope=tuple(declared.state.in_scope),
            out_of_scope=tuple(declared.state.excluded),
            unique=UNIQUE[key],
            years=tuple(declared.years),
            cities=cities,
            outside=tuple(campaign.outside_scheme) if key in OUTSIDE_SCHEME_APPLIES else (),
        )
    return kinds


def outside_reason(city: str) -> str:
    """How an entry in a city outside the scheme is counted and listed among the excluded ones.

    >>> outside_reason("珠海")
    '珠海（不在奖补范围）'
    """
    return f"{city}（不在奖补范围）"


def template_frame(kind: RegisterKind) -> pd.DataFrame:
    """An empty register with the expected headers (the import template)."""
    return pd.DataFrame({c.header: pd.Series(dtype=object) for c in kind.columns})


def display_frame(kind: RegisterKind, frame: pd.DataFrame) -> pd.DataFrame:
    """Register entries with their template headers, for a table or an export."""
    labels = {c.key: c.header for c in kind.columns} | {"source_row": "原表行号", "import_id": "导入批次"}
    keep = [c for c in labels if c in frame.columns]
    return frame[keep].rename(columns=labels)
