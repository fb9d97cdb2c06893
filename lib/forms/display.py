"""A field's answer as a person reads it, knowing the field: its decimals, a table's sub-field labels,
a ``file`` field's file names, and the sections and fields the form shows for a row (the print view
and the review page).

The rendering itself is ``lib.core.values.text``, the one every page, workbook, Sheets view, audit
entry and export uses; this adds what only the form knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lib.core.values import LIST_SEPARATOR, is_missing, number_text, table_text, text

from .spec import FieldSpec, FormSpec
from .types import file_kind
from .validate import check_answers

__all__ = ["Answer", "AnsweredSection", "answered_sections", "file_text", "is_missing", "table_rows", "value_text"]


def value_text(spec: FieldSpec | None, value: Any) -> str:
    """``value`` of the field ``spec`` (None: a value of no known field) as text for a person.

    >>> import datetime as dt
    >>> from lib.forms.spec import FieldSpec
    >>> money = FieldSpec(key="m", label="金额", type="money")
    >>> value_text(money, 12.5), value_text(money, None), value_text(money, float("nan"))
    ('12.50', '', '')
    >>> value_text(None, dt.date(2020, 9, 18)), value_text(None, True), value_text(None, ["甲", "乙"])
    ('2020-09-18', '是', '甲；乙')
    >>> photos = FieldSpec(key="p", label="现场照片", type="file")
    >>> value_text(photos, [{"sha256": "0" * 64, "name": "现场照片.jpg", "type": "image/jpeg", "size": 9},
    ...                     {"sha256": "1" * 64, "name": "报告.pdf", "type": "application/pdf", "size": 9}])
    '现场照片.jpg；报告.pdf'
    """
    if spec is None:
        return text(value)
    if spec.type == "table" and isinstance(value, (list, tuple)):
        return table_text(table_rows(spec, value))
    if spec.type == "file" and isinstance(value, (list, tuple)):
        # The names a person gave the files: never the stored hashes, which say nothing to a reader.
        return LIST_SEPARATOR.join(text(item.get("name")) or "文件" for item in value if isinstance(item, Mapping))
    return text(value, spec.type, spec.decimals)


def file_text(item: Mapping[str, Any]) -> str:
    """One stored file of a ``file`` field as a person reads it: name, kind and size.

    >>> file_text({"sha256": "0" * 64, "name": "现场.jpg", "type": "image/jpeg", "size": 1536000})
    '现场.jpg（JPEG 图片，1.46 MB）'
    >>> file_text({"sha256": "0" * 64, "name": "报告.pdf", "type": "application/pdf", "size": 2048})
    '报告.pdf（PDF 文件，2.0 KB）'
    """
    kind = file_kind(item)
    size = item.get("size") or 0
    shown = f"{number_text(size / 1024 / 1024, 2)} MB" if size >= 1024 * 1024 else f"{number_text(size / 1024, 1)} KB"
    return f"{item.get('name')}（{kind.word if kind else '未知类型'}，{shown}）"


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
