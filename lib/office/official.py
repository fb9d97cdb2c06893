"""A form's rows in the layout of its attachment (the notice's 可编辑电子版): the workbook a filer or the
province signs, stamps and sends on.

Each sheet reads as the attachment prints: the attachment's title (the form's ``title``) across the top,
the filer and the day, then ``序号`` and the form's fields in the form's order under their labels (the
attachment's header wording, units included), the rows numbered from 1, one blank row and the campaign's
signature line (``campaign.office.signature``). Cells are written as every export writes them
(``lib.office.excel.write_cell``): dates, numbers and money typed (money with two decimals), every other
answer as the text a person reads on the page (``lib.forms.display.value_text``: a table's rows as
"列：值", a file field's file names), so ``=1+1``, ``0012`` or an 18-character credit code stay text.
Printed, a sheet is landscape, as wide as the page, with the header row on every page.

The notice number (``campaign.notice``) is not a line of the table: the attachments carry none of their
own (the notice's letter does), so it goes into the workbook's properties (主题) where it names the
campaign without changing the layout.

An official export holds filed rows only (``filed``), never drafts or withdrawn rows: a filer's own
(``own_xlsx``, 我的填报) on one sheet, the province's (``by_city_xlsx``, 审核) one sheet per city
(``by_city``); ``official_xlsx`` writes whatever sheets it is given.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lib.auth.policy import row_city
from lib.core.records import Actor, Record
from lib.core.statuses import FILED
from lib.core.values import TWO_DECIMALS, text, xlsx_format
from lib.forms import CampaignSpec, FieldSpec, FormSpec
from lib.forms.display import value_text
from lib.xlsx.names import sheet_name

from .excel import CellFormats, column_width, write_cell

#: The first column of every official table.
NUMBER_HEADER = "序号"
#: The sheet of the province's export that holds the rows placed in none of the campaign's cities.
NO_CITY = "未注明地市"
#: Rows above the first record: the title, the filer line, the headers.
HEAD_ROWS = 3
#: Widest column (Excel's units): a long answer wraps inside it instead of stretching the printed page.
_MAX_WIDTH = 40
#: Field kinds written as typed cells; every other answer is written as its text.
_TYPED_KINDS = ("integer", "number", "date")
# Characters a file name may not hold on Windows (where most of these files are opened).
_NOT_IN_FILE_NAMES = re.compile(r'[\\/:*?"<>|\s]+')


def filed(records: Iterable[Record]) -> list[Record]:
    """The rows an official export holds: those filed (``lib.core.statuses.FILED``), not drafts or
    withdrawn rows, in the order given."""
    return [r for r in records if r.status in FILED]


def by_city(form: FormSpec, records: Iterable[Record], cities: Iterable[str]) -> dict[str, list[Record]]:
    """``records`` by the city each belongs to as the access policy places it (``row_city``: the
    form's city field, else its filer's city — a city bureau's own rows are its city's), in the
    campaign's order of ``cities``. Only cities with rows get an entry: a sheet for every city, most
    of them empty early in a campaign, would be pages saying nothing (the board says which cities
    have not reported). Rows in no campaign city come last under :data:`NO_CITY`, never dropped.
    Each city's rows keep the order given."""
    grouped: dict[str, list[Record]] = {}
    for record in records:
        grouped.setdefault(row_city(form, record), []).append(record)
    known = [c for c in cities if c in grouped]
    ordered = {c: grouped.pop(c) for c in known}
    rest = [r for rows in grouped.values() for r in rows]
    return ordered | ({NO_CITY: rest} if rest else {})


def filer_line(filer: str, made_on: dt.date, *, city: str | None = None) -> str:
    """The line under the title; a sheet of one city's rows names it (printed, the sheet's tab is not:
    a form whose rows carry no city would say nowhere whose they are).

    >>> filer_line("广州云智信息科技有限公司", dt.date(2020, 9, 18))
    '填报单位：广州云智信息科技有限公司　　填报日期：2020-09-18'
    >>> filer_line("省厅", dt.date(2020, 9, 18), city="广州")
    '填报单位：省厅　　地市：广州　　填报日期：2020-09-18'
    """
    return f"填报单位：{filer}　　{f'地市：{city}　　' if city else ''}填报日期：{text(made_on)}"


def sheet_titles(names: list[str]) -> list[str]:
    """A sheet name for each of ``names``: one Excel takes as it is keeps it, and the others are altered
    (``sheet_name``) around those — a city named ``x[1]`` never takes the sheet ``x1`` from the city ``x1``.

    >>> sheet_titles(["x[1]", "x1", "X1"])
    ['x1~2', 'x1', 'X1~3']
    """
    kept: set[str] = set()
    whole = []
    for name in names:
        whole.append(sheet_name(name) == name and name.lower() not in kept)
        kept |= {name.lower()} if whole[-1] else set()
    taken, out = set(kept), []
    for name, keeps in zip(names, whole, strict=True):
        title = name if keeps else sheet_name(name, taken)
        taken.add(title.lower())
        out.append(title)
    return out


def file_name(form: FormSpec, who: str, made_on: dt.date) -> str:
    """``<short title>-<who>-<date>.xlsx``, without characters a file name may not hold.

    >>> from lib.forms.spec import FormSpec
    >>> form = FormSpec.model_construct(short_title="附件1 项目")
    >>> file_name(form, "甲/乙公司", dt.date(2020, 9, 18))
    '附件1_项目-甲_乙公司-2020-09-18.xlsx'
    """
    return "-".join(_NOT_IN_FILE_NAMES.sub("_", part).strip("_") for part in (form.short_title, who, text(made_on))) + ".xlsx"


def own_xlsx(form: FormSpec, campaign: CampaignSpec, records: Iterable[Record], *, filer: str, made_on: dt.date) -> bytes:
    """A filer's own export (我的填报): its filed rows in the order it created them, on one sheet
    named after the form. ``records`` are the rows it files (``lib.submissions.my_records``)."""
    rows = sorted(filed(records), key=lambda r: (r.created_at, r.id))
    return official_xlsx(form, campaign, {form.short_title: rows}, filer=filer, made_on=made_on)


def by_city_xlsx(form: FormSpec, campaign: CampaignSpec, records: Iterable[Record], *, filer: str, made_on: dt.date) -> bytes:
    """The province's export (or a city bureau's, of its city): the filed rows among ``records`` (the
    rows the reader may read, in creation order), a sheet per city (``by_city``)."""
    return official_xlsx(form, campaign, by_city(form, filed(records), campaign.cities), filer=filer, made_on=made_on, cities=True)


def reporter(actor: Actor, campaign: CampaignSpec) -> str:
    """Who an export says reports: the account's organisation, else the campaign's name of its role
    (the province's account may name no organisation), else the account."""
    return actor.org or campaign.roles.get(actor.role, "") or actor.account


def official_xlsx(form: FormSpec, campaign: CampaignSpec, records_by_sheet: Mapping[str, list[Record]], *,
                  filer: str, made_on: dt.date, cities: bool = False) -> bytes:
    """The workbook: one sheet per entry of ``records_by_sheet`` (sheet name -> its rows, in that order,
    named by ``sheet_titles``; nothing given: one empty sheet named after the form), each in the
    attachment's layout (the module docstring). ``filer`` is who reports (an organisation, or the
    province), ``made_on`` the day it does; ``cities``: the names are cities, each printed in its sheet's
    filer line."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False, "nan_inf_to_errors": False})
    book.set_properties({"title": form.title, "subject": campaign.notice, "author": filer, "company": filer,
                         "comments": campaign.title})
    looks = _Looks(book)
    columns = [_Column.of(spec, looks) for spec in form.all_fields()]
    sheets = records_by_sheet or {form.short_title: []}
    for (name, records), title in zip(sheets.items(), sheet_titles(list(sheets)), strict=True):
        heading = filer_line(filer, made_on, city=name if cities and records_by_sheet else None)
        _write_sheet(book.add_worksheet(title), looks, form, columns, records, heading=heading, signature=campaign.office.signature)
    book.close()
    return out.getvalue()


class _Looks:
    """The workbook's cell formats: thin borders around every cell of the table, text wrapped at the
    top of its cell, numbers in their column's number format (one format object per number format)."""

    def __init__(self, book: Any) -> None:
        self._book = book
        cell = {"border": 1, "valign": "top", "font_size": 10}
        self.title = book.add_format({"bold": True, "font_size": 16, "align": "center", "valign": "vcenter"})
        self.line = book.add_format({"font_size": 11, "align": "left", "valign": "vcenter"})
        self.header = book.add_format({**cell, "bold": True, "align": "center", "valign": "vcenter", "text_wrap": True})
        self.text = book.add_format({**cell, "text_wrap": True})
        self.number = book.add_format({**cell, "align": "center"})
        self._cell = cell
        self._numbers: dict[str, Any] = {}
        self.shared = {kind: self.numbers(xlsx_format(kind)) for kind in ("money", "date", "datetime")}

    def numbers(self, num_format: str) -> Any:
        """The bordered format of a number column in ``num_format`` ("" for General)."""
        if num_format not in self._numbers:
            self._numbers[num_format] = self._book.add_format({**self._cell, **({"num_format": num_format} if num_format else {})})
        return self._numbers[num_format]


@dataclass(frozen=True)
class _Column:
    """One field's column: its header, whether its answers are written typed, and its cell formats."""

    spec: FieldSpec
    typed: bool
    formats: CellFormats

    @classmethod
    def of(cls, spec: FieldSpec, looks: _Looks) -> _Column:
        typed = spec.kind in _TYPED_KINDS
        return cls(spec, typed, CellFormats(looks.shared, number=looks.numbers(_number_format(spec)), text=looks.text))

    def value(self, record: Record) -> Any:
        answer = record.values.get(self.spec.key)
        if self.typed and not isinstance(answer, str):  # a text in a number field (an old row) stays its text
            return answer
        return value_text(self.spec, answer)


def _number_format(spec: FieldSpec) -> str:
    """The number format of a field's numbers: money and percent two decimals, a decimal field its
    declared decimals, anything else General.

    >>> from lib.forms.spec import FieldSpec
    >>> [_number_format(FieldSpec(key="k", label="l", type=t, decimals=d)) for t, d in (("money", None), ("decimal", 3), ("integer", None))]
    ['0.00', '0.000', '']
    """
    if spec.type in TWO_DECIMALS:
        return xlsx_format(spec.type)
    if spec.decimals:
        return "0." + "0" * spec.decimals
    return ""


def _write_sheet(ws: Any, looks: _Looks, form: FormSpec, columns: list[_Column], records: list[Record], *,
                 heading: str, signature: str) -> None:
    last = len(columns)  # the index of the last column: 序号 is column 0
    ws.set_row(0, 36)
    ws.merge_range(0, 0, 0, last, form.title, looks.title)
    ws.set_row(1, 22)
    ws.merge_range(1, 0, 1, last, heading, looks.line)
    ws.write_string(2, 0, NUMBER_HEADER, looks.header)
    ws.set_column(0, 0, 6)
    sample = records[:200]  # widths from the first rows: enough to size a column, quick on 5,000
    for c, column in enumerate(columns, start=1):
        ws.write_string(2, c, column.spec.label, looks.header)
        ws.set_column(c, c, column_width(column.spec.label, [value_text(column.spec, r.values.get(column.spec.key)) for r in sample],
                                         cap=_MAX_WIDTH))
    for n, record in enumerate(records, start=1):
        r = HEAD_ROWS + n - 1
        ws.write_number(r, 0, n, looks.number)
        for c, column in enumerate(columns, start=1):
            write_cell(ws, r, c, column.value(record), column.formats)
    below = HEAD_ROWS + len(records) + 1  # one blank row, then the signature line
    ws.merge_range(below, 0, below, last, signature, looks.line)
    ws.freeze_panes(HEAD_ROWS, 0)
    ws.repeat_rows(HEAD_ROWS - 1)  # the header row on every printed page
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # as wide as the page, as many pages long as it takes
    ws.center_horizontally()
    ws.set_footer("&C第 &P 页，共 &N 页")
