"""A field's value as a person reads it: the one text rendering every list, view and print uses.

The store keeps typed values (``lib/store/codec.py`` turns them into cells and JSON); this turns them
into what a page shows, knowing the field: blank is blank (never "None" or "nan"), dates are
``YYYY-MM-DD``, money and percent keep two decimals, booleans are 是/否, a multiselect's items are
joined with the same "；" its workbook cell uses, and a table's rows are labelled by its sub-fields.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from lib.store.codec import LIST_SEPARATOR

from .spec import FieldSpec, FormSpec
from .validate import check_answers

#: Field types whose numbers are always shown with two decimals (万元, %).
_TWO_DECIMALS = ("money", "percent")


def is_missing(value: Any) -> bool:
    """None, an empty text or list, and the NaN/NaT a DataFrame puts in an empty cell."""
    if value is None or value == "" or (isinstance(value, (list, tuple)) and not value):
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return type(value).__name__ in ("NaTType", "NAType")


def _number(spec: FieldSpec | None, value: float | Decimal | int) -> str:
    places = spec.decimals if spec is not None and spec.decimals is not None else None
    if spec is not None and spec.type in _TWO_DECIMALS:
        places = 2
    if isinstance(value, int):
        return str(value) if places is None else f"{value:.{places}f}"
    if not math.isfinite(value):
        return ""
    if places is not None:
        return f"{value:.{places}f}"
    as_float = float(value)
    return str(int(as_float)) if as_float.is_integer() else f"{as_float:g}" if abs(as_float) < 1e15 else str(value)


def value_text(spec: FieldSpec | None, value: Any) -> str:
    """``value`` of the field ``spec`` (None: a value of no known field) as text for a person.

    >>> from lib.forms.spec import FieldSpec
    >>> money = FieldSpec(key="m", label="金额", type="money")
    >>> value_text(money, 12.5), value_text(money, None), value_text(money, float("nan"))
    ('12.50', '', '')
    >>> value_text(None, dt.date(2020, 9, 18)), value_text(None, True), value_text(None, ["甲", "乙"])
    ('2020-09-18', '是', '甲；乙')
    """
    if is_missing(value):
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, (int, float, Decimal)):
        return _number(spec, value)
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, dict) for item in value):
            return "\n".join(LIST_SEPARATOR.join(f"{k}：{v}" for k, v in row.items() if v) for row in table_rows(spec, value))
        return LIST_SEPARATOR.join(value_text(None, item) for item in value if not is_missing(item))
    return str(value)


def table_rows(spec: FieldSpec | None, value: Any) -> list[dict[str, str]]:
    """The rows of a table field as ``{sub-field label: text}``, in the sub-fields' order; a key no
    sub-field declares (the form changed since) keeps its key as its heading."""
    subs = {s.key: s for s in (spec.fields or ())} if spec is not None else {}
    rows = [row for row in (value if isinstance(value, (list, tuple)) else ()) if isinstance(row, dict)]
    keys = list(subs) + [k for row in rows for k in row if k not in subs]
    keys = list(dict.fromkeys(keys))
    return [{(subs[k].label if k in subs else k): value_text(subs.get(k), row.get(k)) for k in keys} for row in rows]


@dataclass(frozen=True)
class Answer:
    """One field as the form shows it for a row: its text, or a table's rows (``rows`` not None)."""

    label: str
    text: str = ""
    rows: list[dict[str, str]] | None = None
    calculated: bool = False


@dataclass(frozen=True)
class AnsweredSection:
    title: str
    answers: list[Answer] = field(default_factory=list)


def answered_sections(form: FormSpec, values: dict[str, Any], cities: tuple[str, ...]) -> list[AnsweredSection]:
    """Every section and field the form shows for ``values``, in form order: relevance applied (a
    hidden field or section is left out), calculations computed, tables as rows, blanks blank."""
    outcome = check_answers(form, values, cities=cities, draft=True)
    sections = []
    for section in form.sections:
        answers = []
        for spec in section.fields:
            if spec.key in outcome.hidden:
                continue
            value = outcome.values.get(spec.key)
            if spec.type == "table":
                answers.append(Answer(spec.label, rows=table_rows(spec, value)))
            else:
                answers.append(Answer(spec.label, value_text(spec, value), calculated=bool(spec.calculation)))
        if answers:
            sections.append(AnsweredSection(section.title, answers))
    return sections
