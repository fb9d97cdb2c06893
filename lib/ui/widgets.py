"""Streamlit widgets built from field specs: one widget function per widget name of the registry.

Widget values live in ``st.session_state`` under keys from ``lib.ui.state``; answers are read back
from there, so relevance and calculations are recomputed from the latest answers on every run.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Callable

import pandas as pd
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
            st.session_state[state.table_data_key(form.id, spec.key)] = list(value or [])
        elif not spec.calculation:
            st.session_state[state.field_key(form.id, spec.key)] = to_widget_value(spec, value) if value is not None else _empty_state(spec)
    st.session_state[state.generation_key(form.id)] = st.session_state.get(state.generation_key(form.id), 0) + 1


def current_answers(form: FormSpec) -> dict[str, Any]:
    """The answers as the widgets hold them now (raw: the validator parses them)."""
    answers: dict[str, Any] = {}
    for spec in form.all_fields():
        if spec.type == "table":
            answers[spec.key] = st.session_state.get(state.table_data_key(form.id, spec.key) + ":current") or st.session_state.get(
                state.table_data_key(form.id, spec.key), []
            )
        elif not spec.calculation:
            answers[spec.key] = st.session_state.get(state.field_key(form.id, spec.key))
    return answers


def _table(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...]) -> None:
    subfields = spec.fields or ()
    rows = st.session_state.get(state.table_data_key(form.id, spec.key), [])
    frame = pd.DataFrame(rows, columns=[f.key for f in subfields])
    config = {}
    for sub in subfields:
        label = _label(sub)
        if sub.type in ("select", "city"):
            options = list(sub.choices or ()) if sub.type == "select" else list(cities)
            config[sub.key] = st.column_config.SelectboxColumn(label, options=options, help=sub.help or None)
        elif REGISTRY[sub.type].numeric:
            config[sub.key] = st.column_config.NumberColumn(label, help=sub.help or None)
            frame[sub.key] = pd.to_numeric(frame[sub.key])
        elif sub.type == "date":
            config[sub.key] = st.column_config.DateColumn(label, format="YYYY-MM-DD", help=sub.help or None)
            frame[sub.key] = pd.to_datetime(frame[sub.key]).dt.date
        elif sub.type == "boolean":
            config[sub.key] = st.column_config.CheckboxColumn(label, help=sub.help or None)
        else:
            config[sub.key] = st.column_config.TextColumn(label, help=sub.help or None)
            frame[sub.key] = frame[sub.key].astype("string")
    st.markdown(f"**{_label(spec)}**")
    if spec.help:
        st.caption(spec.help)
    generation = st.session_state.get(state.generation_key(form.id), 0)
    edited = st.data_editor(
        frame,
        column_config=config,
        num_rows="dynamic",
        hide_index=True,
        key=f"{state.table_data_key(form.id, spec.key)}:editor:{generation}",
        width="stretch",
    )
    st.session_state[state.table_data_key(form.id, spec.key) + ":current"] = [
        {k: _plain(v) for k, v in row.items()} for row in edited.to_dict("records")
    ]


def _plain(value: Any) -> Any:
    """Data-editor cells as plain values: NaN/NaT/<NA> are blank, timestamps are dates."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    return value


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
