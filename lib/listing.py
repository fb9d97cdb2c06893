"""Lists of rows as people read them (我的填报, 审核): the columns that tell rows apart, search, filters
and the Excel export.

One rule everywhere: a row is identified by its form's summary fields (``FormSpec.summary_fields``),
rendered by ``lib.forms.display.value_text``, shown first, then the row's status, id and times. The
callers pass rows already read through ``lib.auth.scope``; nothing here reads the store.
"""

from __future__ import annotations

import operator
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from lib.auth.policy import city_field, place, row_city
from lib.core.records import Record, is_pending
from lib.core.values import is_missing
from lib.forms import FieldSpec, FormSpec
from lib.forms.columns import sheet_spec
from lib.forms.display import value_text
from lib.office.excel import to_xlsx

#: A search text is cut to this many characters before it is matched.
MAX_QUERY = 100
#: Column headers of the system values every list shows.
ID, STATUS, REV, UPDATED, FILER, CITY, REASON = "记录编号", "状态", "版本", "更新时间", "填报单位", "地市", "退回原因"


def summary(form: FormSpec, record: Record) -> dict[str, str]:
    """The row's summary fields as ``{label: text}``, in the form's declared order.

    >>> from lib.forms import parse_form
    >>> form = parse_form("id: f\\ntitle: 表\\nshort_title: 表\\nversion: 1\\nfilled_by: provider\\nsummary: [b, a]\\n"
    ...     "sections: [{key: s, title: 节, fields: [{key: a, label: 企业, type: text}, {key: b, label: 编号, type: text}]}]", "f.yaml")
    >>> import datetime as dt
    >>> summary(form, Record("f", "r1", 1, "已提交", 1, "o", "", "", dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1), "o", {"a": "甲厂"}))
    {'编号': '', '企业': '甲厂'}
    """
    return _summary(form.summary_fields(), record)


def _summary(specs: list[FieldSpec], record: Record) -> dict[str, str]:
    return {f.label: value_text(f, record.values.get(f.key)) for f in specs}


def captions(form: FormSpec, records: Iterable[Record], *, filer: bool = False) -> dict[str, str]:
    """One line per row for a picker, by row id: its id, status, the filer when ``filer`` (a
    reviewer's list holds many filers' rows) and the summary texts that are filled."""
    specs = form.summary_fields()
    return {r.id: "｜".join([r.id, r.status, *([r.org or r.owner] if filer else []), *(t for t in _summary(specs, r).values() if t)])
            for r in records}


def table(form: FormSpec, records: Iterable[Record], reasons: Mapping[str, str] | None = None, *, filer: bool = False) -> list[dict]:
    """Display rows: summary fields first, then status (待同步 marked), id, revision, last change,
    the filer and the row's city when ``filer``, and the latest return reason (blank if none)."""
    reasons = reasons or {}
    specs = form.summary_fields()
    out = []
    for r in records:
        row = _summary(specs, r) | {STATUS: r.status + ("（待同步）" if is_pending(r) else ""), ID: r.id, REV: r.rev,
                                  UPDATED: value_text(None, r.updated_at)}
        if filer:
            row |= {FILER: r.org or r.owner, CITY: row_city(form, r) or ""}
        out.append(row | {REASON: reasons.get(r.id, "")})
    return out


def search(form: FormSpec, records: Iterable[Record], query: str) -> list[Record]:
    """The rows whose summary texts, id or status contain ``query`` (case-insensitive; blank: all). The rows'
    texts are worked out again only when the rows changed (``_kept``): typing in a province's queue of
    95,000 rows turned every row's answers into text on each keystroke's run (0.5 s of CPU)."""
    needle = (query or "")[:MAX_QUERY].strip().casefold()
    if not needle:
        return list(records)
    records = list(records)
    found = _kept("search", form, records, lambda: _search_texts(form, records))
    return [r for r, texts in zip(records, found, strict=True) if any(needle in t for t in texts)]


def _search_texts(form: FormSpec, records: list[Record]) -> list[tuple[str, ...]]:
    specs = form.summary_fields()
    return [tuple(t.casefold() for t in (r.id, r.status, *_summary(specs, r).values())) for r in records]


def row_cities(form: FormSpec, records: Iterable[Record]) -> list[str]:
    """Each row's city as ``lib.auth.policy.row_city`` judges it, the form's city field looked up once for
    all the rows (a province's queue is most of the form).

    >>> from lib.forms import parse_form
    >>> form = parse_form("id: f\\ntitle: 表\\nshort_title: 表\\nversion: 1\\nfilled_by: provider\\n"
    ...     "sections: [{key: s, title: 节, fields: [{key: a, label: 企业, type: text}]}]", "f.yaml")
    >>> import datetime as dt
    >>> row_cities(form, [Record("f", "r1", 1, "已提交", 1, "o", "", "广州", dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1), "o", {})])
    ['广州']
    """
    key = city_field(form)
    return [place(r.values.get(key) if key else None, r.city) for r in records]


class Facets(NamedTuple):
    """What a list's filters offer: the cities its rows are in and its filers (sorted)."""

    cities: frozenset[str]
    orgs: tuple[str, ...]


#: What was last worked out from a list of rows, by kind, form and length: (the form, the rows, the result).
_KEPT: OrderedDict[tuple, tuple[FormSpec, list[Record], Any]] = OrderedDict()
_KEPT_MAX = 32
_KEPT_LOCK = threading.Lock()


def _kept(kind: str, form: FormSpec, records: list[Record], build: Callable[[], Any]) -> Any:
    """``build()``, or what it gave for the very same Record objects of ``form`` (an update swaps in a new
    one), as ``lib.auth.scope`` keeps its judgement: a province's queue is most of the form, and what a
    list shows of it (its filter options, its search texts) was worked out from every row on every run
    (issue 17). The forms in memory are the catalog's, so the same form is the same object."""
    key = (kind, form.id, len(records), id(records[0]) if records else 0)
    with _KEPT_LOCK:
        last = _KEPT.get(key)
    if last is not None and last[0] is form and all(map(operator.is_, last[1], records)):
        return last[2]
    found = build()
    with _KEPT_LOCK:
        _KEPT[key] = (form, list(records), found)
        _KEPT.move_to_end(key)
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
    return found


def facets(form: FormSpec, records: list[Record]) -> Facets:
    """The cities (as :func:`row_cities` judges them) and the filers of ``records``; worked out again only
    when the rows changed (``_kept``)."""
    return _kept("facets", form, records,
                 lambda: Facets(frozenset(row_cities(form, records)), tuple(sorted({r.org or r.owner for r in records}))))


def filter_rows(form: FormSpec, records: Iterable[Record], *, city: str = "", org: str = "",
                choices: Mapping[str, str] | None = None) -> list[Record]:
    """The rows of ``city`` (the row's city as the policy judges it), of the filer ``org``, and whose
    select fields hold the given choice (``{field key: choice}``); an empty criterion keeps all."""
    wanted = {k: v for k, v in (choices or {}).items() if v}
    records = list(records)
    if not (city or org or wanted):
        return records
    cities = row_cities(form, records) if city else [""] * len(records)
    return [
        r for r, its_city in zip(records, cities, strict=True)
        if (not city or its_city == city)
        and (not org or (r.org or r.owner) == org)
        and all(r.values.get(k) == v for k, v in wanted.items())
    ]


def select_fields(form: FormSpec) -> list[FieldSpec]:
    """The form's top-level single-choice fields, which a list can be filtered by (choices from the spec)."""
    return [f for f in form.all_fields() if f.type == "select" and f.choices and not f.calculation]


def export_frame(form: FormSpec, records: Iterable[Record], reasons: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Every field of the rows, one column per field headed as in the workbook, after the summary
    and system columns. Numbers and dates stay typed (Excel can sum and sort them); lists and tables
    are the same text a person reads on the page."""
    reasons = reasons or {}
    headers = {c.key: c.label for c in sheet_spec(form).columns}
    frame = []
    for r in records:
        row = table(form, [r], reasons)[0]
        for spec in form.all_fields():
            value = r.values.get(spec.key)
            typed = not isinstance(value, (list, tuple, dict)) and not is_missing(value)
            row.setdefault(headers[spec.key], value if typed else value_text(spec, value))
        frame.append(row)
    return pd.DataFrame(frame)


def export_workbook(form: FormSpec, records: Iterable[Record], reasons: Mapping[str, str] | None = None) -> bytes:
    """The rows as an .xlsx workbook with one sheet named after the form. Each field's column is
    declared with its kind, so a money column reads 0.00 in every row (3.00, not 3) as in the
    store's own workbook."""
    kinds = {c.label: c.display or c.kind for c in sheet_spec(form).columns}
    return to_xlsx({form.short_title: export_frame(form, records, reasons)}, {form.short_title: kinds})
