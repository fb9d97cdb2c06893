"""Streamlit widgets built from field specs: one widget function per widget name of the registry.

Widget values live in ``st.session_state`` under keys from ``lib.ui.state``; answers are read back
from there, so relevance and calculations are recomputed from the latest answers on every run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import streamlit as st

from lib.forms import FieldSpec, FormSpec, check_answers
from lib.forms.types import REGISTRY
from lib.ui import state

YES, NO = "是", "否"
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2035, 12, 31)


def _label(spec: FieldSpec) -> str:
    return f"{spec.label} *" if spec.required else spec.label


def _number(step: float, fmt: str) -> Callable[[FieldSpec, str], None]:
    def widget(spec: FieldSpec, key: str) -> None:
        st.number_input(_label(spec), key=key, step=step, format=fmt, help=spec.help or None, placeholder=spec.placeholder or None)

    return widget


def _text(spec: FieldSpec, key: str) -> None:
    st.text_input(_label(spec), key=key, help=spec.help or None, placeholder=spec.placeholder or None)


def _textarea(spec: FieldSpec, key: str) -> None:
    st.text_area(_label(spec), key=key, help=spec.help or None, placeholder=spec.placeholder or None)


def _date(spec: FieldSpec, key: str) -> None:
    st.date_input(_label(spec), key=key, help=spec.help or None, min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD")


def _select_from(options: Callable[[FieldSpec], list[str]]) -> Callable[[FieldSpec, str], None]:
    def widget(spec: FieldSpec, key: str) -> None:
        st.selectbox(_label(spec), options(spec), key=key, help=spec.help or None, placeholder="请选择")

    return widget


def _multiselect(spec: FieldSpec, key: str) -> None:
    st.multiselect(_label(spec), list(spec.choices or ()), key=key, help=spec.help or None, placeholder="可多选")


def _boolean(spec: FieldSpec, key: str) -> None:
    st.radio(_label(spec), [YES, NO], key=key, help=spec.help or None, horizontal=True)


WIDGETS: dict[str, Callable[[FieldSpec, str], None]] = {
    "text": _text,
    "textarea": _textarea,
    "integer": _number(1, "%d"),
    "decimal": _number(0.01, "%.4f"),
    "money": _number(0.01, "%.2f"),
    "percent": _number(0.01, "%.2f"),
    "date": _date,
    "select": _select_from(lambda spec: list(spec.choices or ())),
    "multiselect": _multiselect,
    "boolean": _boolean,
}


def _empty_state(spec: FieldSpec) -> Any:
    return [] if spec.type == "multiselect" else None


def to_widget_value(spec: FieldSpec, value: Any) -> Any:
    """A stored value as its widget holds it (booleans are 是/否 radios)."""
    if spec.type == "boolean" and value is not None:
        return YES if value else NO
    if spec.type == "multiselect":
        return list(value or [])
    return value


def load_answers(form: FormSpec, values: dict[str, Any]) -> None:
    """Put a record's values (or blanks for a new row) into the fill page's widget state."""
    for spec in form.all_fields():
        value = values.get(spec.key)
        if spec.type == "table":
            _set_rows(form, spec, list(value or []) or [{}])
        elif not spec.calculation:
            st.session_state[state.field_key(form.id, spec.key)] = to_widget_value(spec, value) if value is not None else _empty_state(spec)


def current_answers(form: FormSpec) -> dict[str, Any]:
    """The answers as the widgets hold them now (raw: the validator parses them)."""
    answers: dict[str, Any] = {}
    for spec in form.all_fields():
        if spec.type == "table":
            answers[spec.key] = _table_rows(form, spec)
        elif not spec.calculation:
            answers[spec.key] = st.session_state.get(state.field_key(form.id, spec.key))
    return answers


def _row_key(form: FormSpec, spec: FieldSpec, row: int, sub: FieldSpec) -> str:
    return f"{state.table_data_key(form.id, spec.key)}:{row}:{sub.key}"


def _row_count(form: FormSpec, spec: FieldSpec) -> int:
    start = max(spec.min_rows or 0, 1 if spec.required else 0, 1)
    return st.session_state.setdefault(state.table_count_key(form.id, spec.key), start)


def _table_rows(form: FormSpec, spec: FieldSpec) -> list[dict[str, Any]]:
    """The table's rows as their widgets hold them now."""
    return [
        {sub.key: st.session_state.get(_row_key(form, spec, i, sub)) for sub in spec.fields or ()}
        for i in range(_row_count(form, spec))
    ]


def _set_rows(form: FormSpec, spec: FieldSpec, rows: list[dict[str, Any]]) -> None:
    for i, row in enumerate(rows):
        for sub in spec.fields or ():
            value = row.get(sub.key)
            st.session_state[_row_key(form, spec, i, sub)] = to_widget_value(sub, value) if value is not None else _empty_state(sub)
    st.session_state[state.table_count_key(form.id, spec.key)] = len(rows)


def _add_row(form: FormSpec, spec: FieldSpec) -> None:
    _set_rows(form, spec, _table_rows(form, spec) + [{}])


def _delete_row(form: FormSpec, spec: FieldSpec, index: int) -> None:
    rows = _table_rows(form, spec)
    _set_rows(form, spec, rows[:index] + rows[index + 1 :])


def _table(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...]) -> None:
    """A repeatable group: one line of sub-field widgets per row, with add and delete buttons."""
    subfields = spec.fields or ()
    st.markdown(f"**{spec.label}**" + (" \\*" if spec.required else ""), help=spec.help or None)
    for i in range(_row_count(form, spec)):
        with st.container(border=True):
            columns = st.columns([3] * len(subfields) + [1], vertical_alignment="bottom")
            for column, sub in zip(columns, subfields):
                with column:
                    key = _row_key(form, spec, i, sub)
                    st.session_state.setdefault(key, _empty_state(sub))
                    if sub.type == "city":
                        _select_from(lambda _s: list(cities))(sub, key)
                    else:
                        WIDGETS[REGISTRY[sub.type].widget](sub, key)
            columns[-1].button("删除", key=f"{state.table_data_key(form.id, spec.key)}:delete:{i}", on_click=_delete_row, args=(form, spec, i), help=f"删除第 {i + 1} 行")
    st.button(f"添加一行（{spec.label}）", key=f"{state.table_data_key(form.id, spec.key)}:add", on_click=_add_row, args=(form, spec))


def _format(value: Any) -> str:
    if value is None:
        return "（待计算）"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _field(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...], computed: dict[str, Any]) -> None:
    if spec.type == "table":
        _table(form, spec, cities)
    elif spec.calculation:
        st.markdown(f"**{spec.label}**（自动计算）：{_format(computed.get(spec.key))}", help=spec.help or None)
    elif spec.type == "city":
        _select_from(lambda _s: list(cities))(spec, state.field_key(form.id, spec.key))
    else:
        WIDGETS[REGISTRY[spec.type].widget](spec, state.field_key(form.id, spec.key))


def render_form(form: FormSpec, cities: tuple[str, ...]) -> None:
    """Draw the form by sections, showing only relevant fields and live calculations.

    Short fields go two to a line; long ones (text areas, tables, multi-selects) take a line.
    """
    for spec in form.all_fields():
        if spec.type != "table" and not spec.calculation:
            st.session_state.setdefault(state.field_key(form.id, spec.key), _empty_state(spec))
    preview = check_answers(form, current_answers(form), cities=cities, draft=True)
    for section in form.sections:
        visible = [f for f in section.fields if f.key not in preview.hidden]
        if not visible:
            continue
        st.subheader(section.title)
        if section.help:
            st.caption(section.help)
        pending: list[FieldSpec] = []
        for spec in visible + [None]:
            wide = spec is None or spec.type in ("textarea", "table", "multiselect")
            if not wide:
                pending.append(spec)
            if pending and (wide or len(pending) == 2):
                for column, short in zip(st.columns(2), pending):
                    with column:
                        _field(form, short, cities, preview.values)
                pending = []
            if spec is not None and wide:
                _field(form, spec, cities, preview.values)
