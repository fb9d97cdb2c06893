"""Streamlit widgets built from field specs: one widget function per widget name of the registry.

Widget values live in ``st.session_state`` under keys from ``lib.ui.state``; answers are read back
from there, so relevance and calculations are recomputed from the latest answers on every run.
Every widget keeps its value for the whole session (``persist_state="session"``): Streamlit drops a
widget's value when a run does not draw it, which would blank a half-filled form as soon as the
filler opens another page, or another form, and comes back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import math
import numbers
from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

from lib.core.blobs import Blobs
from lib.core.values import NO, YES, number_text
from lib.forms import FieldSpec, FormSpec, check_answers
from lib.forms.display import file_text, value_text
from lib.forms.types import (
    MAX_FILES,
    REGISTRY,
    FileRefused,
    ValueProblem,
    accepted_kinds,
    file_limit_bytes,
    take_file,
)
from lib.forms.validate import is_blank
from lib.ui import context, errors, state

EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2035, 12, 31)
PHONE_PLACEHOLDER = "例如：13800138000"
_NUMBERS = ("integer", "decimal", "money", "percent")

#: A widget function: (field, widget key, locked) -> draws the widget.
Widget = Callable[[FieldSpec, str, bool], None]


def _label(spec: FieldSpec) -> str:
    return f"{spec.label} *" if spec.required else spec.label


def _common(spec: FieldSpec, key: str, locked: bool) -> dict[str, Any]:
    note = "（由本账号信息填写，不能修改）" if locked else ""
    return {"key": key, "help": (spec.help + note) or None, "disabled": locked, "persist_state": "session"}


def _number(step: float, fmt: str) -> Widget:
    def widget(spec: FieldSpec, key: str, locked: bool) -> None:
        st.number_input(_label(spec), step=step, format=fmt, placeholder=spec.placeholder or None, **_common(spec, key, locked))

    return widget


def _text(spec: FieldSpec, key: str, locked: bool) -> None:
    # A phone field is a native tel input: phones open the numeric keypad, browsers offer to autofill.
    native = {"type": "phone", "icon": "", "autocomplete": "tel"} if spec.type == "phone" else {}
    placeholder = spec.placeholder or (PHONE_PLACEHOLDER if spec.type == "phone" else None)
    st.text_input(_label(spec), placeholder=placeholder, **native, **_common(spec, key, locked))


def _textarea(spec: FieldSpec, key: str, locked: bool) -> None:
    st.text_area(_label(spec), placeholder=spec.placeholder or None, **_common(spec, key, locked))


def _date(spec: FieldSpec, key: str, locked: bool) -> None:
    st.date_input(_label(spec), min_value=EARLIEST, max_value=LATEST, format="YYYY-MM-DD", **_common(spec, key, locked))


def _select_from(options: Callable[[FieldSpec], list[str]]) -> Widget:
    def widget(spec: FieldSpec, key: str, locked: bool) -> None:
        st.selectbox(_label(spec), options(spec), placeholder="请选择", **_common(spec, key, locked))

    return widget


def _multiselect(spec: FieldSpec, key: str, locked: bool) -> None:
    st.multiselect(_label(spec), list(spec.choices or ()), placeholder="可多选", **_common(spec, key, locked))


def _boolean(spec: FieldSpec, key: str, locked: bool) -> None:
    st.radio(_label(spec), [YES, NO], horizontal=True, **_common(spec, key, locked))


def stored_files() -> Blobs:
    """The app's content-addressed files (a ``file`` field's photos and PDFs), in the data folder."""
    return Blobs(context.settings().data_dir / "files")


def _upload_key(key: str) -> str:
    """The uploader's key in the field's current upload round (lib.ui.state.file_upload_key)."""
    return state.file_upload_key(key, (st.session_state.get(state.file_upload_state_key(key)) or {}).get("round", 0))


def _take_uploads(spec: FieldSpec, key: str) -> None:
    """The uploader's files, each checked (take_file: content, size, kind) and only then stored,
    join the answer; a refused one is named under the widget and nothing of it is written."""
    held = list(st.session_state.get(key) or [])
    notes: list[str] = []
    files = stored_files()
    for upload in st.session_state.get(_upload_key(key)) or []:
        try:
            item, body = take_file(spec, upload.name, upload, held=len(held))
        except FileRefused as refused:
            notes.append(str(refused))
            continue
        if all(h.get("sha256") != item["sha256"] for h in held):
            files.put(body)  # what was checked: an image without anything after its end
            held.append(item)
    st.session_state[key] = held
    round_ = (st.session_state.get(state.file_upload_state_key(key)) or {}).get("round", 0)
    st.session_state[state.file_upload_state_key(key)] = {"round": round_ + 1, "notes": notes}


def _remove_file(key: str, digest: str) -> None:
    """Take one file out of the answer (its stored bytes stay: another row may hold the same file)."""
    st.session_state[key] = [h for h in st.session_state.get(key) or [] if h.get("sha256") != digest]


def _file(spec: FieldSpec, key: str, locked: bool) -> None:
    kinds = accepted_kinds(spec)
    limit_mb = file_limit_bytes(spec) / 1024 / 1024
    note = f"可上传 {'、'.join(k.word for k in kinds)}，每个不超过 {number_text(limit_mb)} MB，最多 {MAX_FILES} 个。"
    # The browser filters the picker by these; the server judges each file by its content (check_file).
    accept = [k.mime for k in kinds] + [ext for k in kinds for ext in k.extensions]
    st.file_uploader(_label(spec), type=accept, accept_multiple_files=True, key=_upload_key(key), disabled=locked,
                     help=" ".join(t for t in (spec.help, note) if t), max_upload_size=max(1, math.ceil(limit_mb)),
                     on_change=errors.guarded(_take_uploads), args=(spec, key))
    for refusal in (st.session_state.get(state.file_upload_state_key(key)) or {}).get("notes", []):
        st.error(refusal)
    for item in st.session_state.get(key) or []:
        name, remove = st.columns([6, 1], vertical_alignment="center")
        name.text(file_text(item))  # plain text: a name is never markdown
        remove.button("删除", key=state.file_remove_key(key, item["sha256"]), on_click=errors.guarded(_remove_file),
                      args=(key, item["sha256"]), disabled=locked, help="从本项中删除这个文件")


WIDGETS: dict[str, Widget] = {
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
    "file": _file,
}


def _empty_state(spec: FieldSpec) -> Any:
    return [] if spec.type in ("multiselect", "file") else None


def to_widget_value(spec: FieldSpec, value: Any) -> Any:
    """A stored value as its widget holds it (booleans are 是/否 radios)."""
    if spec.type == "boolean" and value is not None:
        return YES if value else NO
    if spec.type == "multiselect":
        return list(value or [])
    return value


def fit(spec: FieldSpec, value: Any, cities: tuple[str, ...]) -> tuple[Any, str]:
    """``value`` as the widget of ``spec`` can hold it, and "" — or the blank widget value and why
    the widget cannot show it (a stored value may be anything: an old form version, an edited
    workbook, a date outside the date picker's range); a widget given such a value would raise.
    """
    if value is None:
        return _empty_state(spec), ""
    held = to_widget_value(spec, value)
    if spec.type == "date":
        if isinstance(held, dt.datetime):
            held = held.date()
        if isinstance(held, str):
            try:
                held = dt.date.fromisoformat(held.strip())
            except ValueError:
                return None, "不是日期"
        if not isinstance(held, dt.date):
            return None, "不是日期"
        if not EARLIEST <= held <= LATEST:
            return None, f"超出可选日期范围 {EARLIEST:%Y-%m-%d} 至 {LATEST:%Y-%m-%d}"
        return held, ""
    if spec.type in _NUMBERS:
        if isinstance(held, bool) or not isinstance(held, numbers.Real) or not math.isfinite(held):
            return None, "不是数字"
        if spec.type == "integer":
            return (int(held), "") if float(held).is_integer() else (None, "不是整数")
        return float(held), ""
    if spec.type == "file":
        try:  # the answer holds only stored files of the field's shape (the file type's own parser)
            return REGISTRY["file"].parse(held, spec, {}), ""
        except ValueProblem:
            return [], "不是已上传的文件"
    if spec.type == "multiselect":
        kept = [v for v in held if v in (spec.choices or ())]
        return kept, "" if len(kept) == len(held) else "含有不是可选项的内容"
    if spec.type in ("select", "city"):
        return (held, "") if held in (cities if spec.type == "city" else spec.choices or ()) else (None, "不是可选项")
    if spec.type == "boolean":
        return (held, "") if held in (YES, NO) else (None, "不是“是”或“否”")
    return (held if isinstance(held, str) else str(held)), ""


def _put(form: FormSpec, spec: FieldSpec, key: str, value: Any, cities: tuple[str, ...], where: str = "", space: str = "") -> None:
    held, why = fit(spec, value, cities)
    st.session_state[key] = held
    warnings = st.session_state.setdefault(state.spaced(space, state.load_warnings_key(form.id)), {})
    if why:
        warnings[key] = f"{where}「{spec.label}」的原值“{value}”{why}，无法在此显示，已留空，请重新填写。"
    else:
        warnings.pop(key, None)


def load_answers(form: FormSpec, values: Mapping[str, Any], cities: tuple[str, ...], *, space: str = "") -> None:
    """Put a record's values (or blanks for a new row) into the fill page's widget state.

    A value its widget cannot show is left blank, with a warning naming the field (``warnings``).
    ``space``: the key space of the widgets (lib.ui.state.spaced; "" the fill page's), as for every function here.
    """
    st.session_state[state.spaced(space, state.load_warnings_key(form.id))] = {}
    for spec in form.all_fields():
        value = values.get(spec.key)
        if spec.type == "table":
            _set_rows(form, spec, list(value or []) or [{}], cities, space)
        elif not spec.calculation:
            _put(form, spec, state.spaced(space, state.field_key(form.id, spec.key)), value, cities, space=space)
    st.session_state[state.spaced(space, state.baseline_key(form.id))] = fingerprint(form, space=space)


def warnings(form: FormSpec, *, space: str = "") -> dict[str, str]:
    """{widget key: message} of the stored values the last load could not show."""
    return st.session_state.get(state.spaced(space, state.load_warnings_key(form.id))) or {}


def current_answers(form: FormSpec, *, space: str = "") -> dict[str, Any]:
    """The answers as the widgets hold them now (raw: the validator parses them)."""
    answers: dict[str, Any] = {}
    for spec in form.all_fields():
        if spec.type == "table":
            answers[spec.key] = _table_rows(form, spec, space)
        elif not spec.calculation:
            answers[spec.key] = st.session_state.get(state.spaced(space, state.field_key(form.id, spec.key)))
    return answers


def fingerprint(form: FormSpec, *, space: str = "") -> str:
    """A digest of the answers on screen, to tell unsaved input: equal answers, equal digests.
    Fields the account may answer are left out (``lock`` sets them after a load)."""
    typed = {k: v for k, v in current_answers(form, space=space).items() if not form.field(k).from_account}
    return hashlib.sha256(repr(sorted(typed.items())).encode()).hexdigest()


def has_unsaved_input(form: FormSpec) -> bool:
    """Whether the answers on screen differ from those last loaded or saved (a new blank form
    counts as loaded)."""
    baseline = st.session_state.get(state.baseline_key(form.id))
    return baseline is not None and baseline != fingerprint(form)


def mark_saved(form: FormSpec) -> None:
    """The answers on screen are now the saved ones."""
    st.session_state[state.baseline_key(form.id)] = fingerprint(form)


def _row_key(form: FormSpec, spec: FieldSpec, row: int, sub: FieldSpec, space: str = "") -> str:
    return state.spaced(space, state.table_cell_key(form.id, spec.key, row, sub.key))


def _row_count(form: FormSpec, spec: FieldSpec, space: str = "") -> int:
    start = max(spec.min_rows or 0, 1 if spec.required else 0, 1)
    return st.session_state.setdefault(state.spaced(space, state.table_count_key(form.id, spec.key)), start)


def _table_rows(form: FormSpec, spec: FieldSpec, space: str = "") -> list[dict[str, Any]]:
    """The table's rows as their widgets hold them now."""
    return [
        {sub.key: st.session_state.get(_row_key(form, spec, i, sub, space)) for sub in spec.fields or ()}
        for i in range(_row_count(form, spec, space))
    ]


def _set_rows(form: FormSpec, spec: FieldSpec, rows: list[dict[str, Any]], cities: tuple[str, ...], space: str = "") -> None:
    for i, row in enumerate(rows):
        for sub in spec.fields or ():
            _put(form, sub, _row_key(form, spec, i, sub, space), row.get(sub.key), cities, where=f"「{spec.label}」第 {i + 1} 行", space=space)
    st.session_state[state.spaced(space, state.table_count_key(form.id, spec.key))] = len(rows)


def _add_row(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...], space: str = "") -> None:
    _set_rows(form, spec, _table_rows(form, spec, space) + [{}], cities, space)


def _delete_row(form: FormSpec, spec: FieldSpec, index: int, cities: tuple[str, ...], space: str = "") -> None:
    rows = _table_rows(form, spec, space)
    _set_rows(form, spec, rows[:index] + rows[index + 1 :], cities, space)


def anchor(form_id: str, key: str, row: int | None = None) -> str:
    """The HTML id of the problem shown next to a field (or a table row): the summary links to it."""
    return f"problem-{form_id}-{key}" + (f"-{row}" if row else "")


def _problem_note(element_id: str, texts: list[str]) -> None:
    """The problems of one field (or table row), in red under it, addressable by ``element_id``."""
    body = "<br>".join(html.escape(t) for t in texts)
    # The note sits under its field: a link to it scrolls the field above it into view as well.
    style = "color:#b3261e;font-size:0.9rem;scroll-margin-top:7rem"
    st.markdown(f'<div id="{element_id}" tabindex="-1" style="{style}">⚠ {body}</div>', unsafe_allow_html=True)


def _draw(form: FormSpec, spec: FieldSpec, key: str, cities: tuple[str, ...], locked: bool, space: str = "") -> None:
    # A value held since before the form file changed (a field's type or choices) may no longer fit.
    if fit(spec, st.session_state.get(key), cities)[1]:
        _put(form, spec, key, st.session_state.get(key), cities, space=space)
    if spec.type == "city":
        _select_from(lambda _s: list(cities))(spec, key, locked)
    else:
        WIDGETS[REGISTRY[spec.type].widget](spec, key, locked)
    note = warnings(form, space=space).get(key)
    if note and is_blank(st.session_state.get(key)):
        st.warning(note)
    elif note:  # answered again: the note has done its work
        warnings(form, space=space).pop(key)


Problems = Mapping[str, Mapping[int | None, list[str]]]  # field key -> table row (or None) -> messages


def _filled_rows(form: FormSpec, spec: FieldSpec, space: str = "") -> list[int]:
    """Widget indexes of the rows the validator sees: its row n is the n-th row with an answer."""
    return [i for i, row in enumerate(_table_rows(form, spec, space)) if not all(is_blank(v) for v in row.values())]


def _table(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...], problems: Mapping[int | None, list[str]], space: str = "") -> None:
    """A repeatable group: one line of sub-field widgets per row, with add and delete buttons."""
    subfields = spec.fields or ()
    st.markdown(f"**{spec.label}**" + (" \\*" if spec.required else ""), help=spec.help or None)
    with st.container():  # a slot whether or not there is a note: the rows below keep their place (see render_form)
        if problems.get(None):
            _problem_note(anchor(form.id, spec.key), problems[None])
    filled = _filled_rows(form, spec, space)
    row_problems = {filled[n - 1]: (n, texts) for n, texts in problems.items() if n and n <= len(filled)}
    for i in range(_row_count(form, spec, space)):
        with st.container(border=True):
            columns = st.columns([3] * len(subfields) + [1], vertical_alignment="bottom")
            for column, sub in zip(columns, subfields):
                with column:
                    key = _row_key(form, spec, i, sub, space)
                    st.session_state.setdefault(key, _empty_state(sub))
                    _draw(form, sub, key, cities, False, space)
            columns[-1].button("删除", key=state.spaced(space, state.table_delete_key(form.id, spec.key, i)), on_click=errors.guarded(_delete_row),
                               args=(form, spec, i, cities, space), help=f"删除第 {i + 1} 行")
            if i in row_problems:
                n, texts = row_problems[i]
                _problem_note(anchor(form.id, spec.key, n), texts)
    st.button(f"添加一行（{spec.label}）", key=state.spaced(space, state.table_add_key(form.id, spec.key)), on_click=errors.guarded(_add_row),
              args=(form, spec, cities, space))


def _field(form: FormSpec, spec: FieldSpec, cities: tuple[str, ...], computed: dict[str, Any], locked: Mapping[str, Any], problems: Problems,
           space: str = "") -> None:
    if spec.type == "table":
        _table(form, spec, cities, problems.get(spec.key, {}), space)
        return
    if spec.calculation:
        shown = value_text(spec, computed.get(spec.key)) or "（待计算）"
        st.markdown(f"**{spec.label}**（自动计算）：{shown}", help=spec.help or None)
    else:
        _draw(form, spec, state.spaced(space, state.field_key(form.id, spec.key)), cities, spec.key in locked, space)
    texts = [t for texts in problems.get(spec.key, {}).values() for t in texts]
    if texts:
        _problem_note(anchor(form.id, spec.key), texts)


def lock(form: FormSpec, answers: Mapping[str, Any], cities: tuple[str, ...]) -> dict[str, Any]:
    """Put the answers the account gives itself into their widgets; returns those that fit (the
    fields to draw locked). Call before ``render_form`` on every run, so they cannot drift."""
    locked: dict[str, Any] = {}
    for key, value in answers.items():
        spec = form.field(key)
        held, why = fit(spec, value, cities)
        if not why:
            st.session_state[state.field_key(form.id, key)] = held
            locked[key] = held
    return locked


def _carry_renamed(form: FormSpec, cities: tuple[str, ...], space: str) -> None:
    """An answer typed, not yet saved, under a field's old key while the form was renamed (表单设计 published a
    field with ``replaces:``) moves to the field, as the stored values did, with a note: never lost unsaid."""
    moved, lost = [], []
    for spec in form.all_fields():
        if not spec.replaces or spec.type == "table" or spec.calculation:
            continue
        old = state.spaced(space, state.field_key(form.id, spec.replaces))
        new = state.spaced(space, state.field_key(form.id, spec.key))
        if old in st.session_state and new not in st.session_state:
            typed = st.session_state.pop(old)
            if typed not in (None, "", []):
                value, why = fit(spec, typed, cities)
                st.session_state[new] = value
                (lost if why else moved).append(spec.label)
    if moved:
        st.info("表单已更新：" + "、".join(f"「{label}」" for label in moved) + "是改名后的字段，刚才填写的内容已移到这里，请核对。")
    if lost:  # renamed and retyped at once: what was typed does not fit the new field
        st.warning("表单已更新：" + "、".join(f"「{label}」" for label in lost) + "已改名并改变了填写方式，刚才填写的内容无法沿用，请重新填写。")


_WIDE = ("textarea", "table", "multiselect", "file")  # field types that take a line of their own


def _lines(fields: list[FieldSpec]) -> list[list[FieldSpec]]:
    """A section's fields by line: short fields two to a line, a long one alone. Paired over every
    field, shown or not, so a field that appears or goes leaves the other lines as they were."""
    lines: list[list[FieldSpec]] = []
    for spec in fields:
        if spec.type in _WIDE or not lines or len(lines[-1]) == 2 or lines[-1][0].type in _WIDE:
            lines.append([spec])
        else:
            lines[-1].append(spec)
    return lines


def render_form(form: FormSpec, cities: tuple[str, ...], *, locked: Mapping[str, Any] | None = None,
                problems: Problems | None = None, space: str = "") -> None:
    """Draw the form by sections, showing only relevant fields and live calculations.

    ``locked`` fields are drawn disabled (see ``lock``); ``problems`` are shown next to their
    fields. Short fields go two to a line; long ones (text areas, tables, multi-selects) take a line.
    ``space``: the widgets' key space (lib.ui.state.spaced): the designer's preview draws a form apart from the fill page's.

    Every note, section and line is drawn in a container of its own, present whether or not it
    holds anything: the browser places a line by its position among the page's elements and draws
    a line that moved as a new one, which drops what the person is typing into it and the choice
    being made in it. A field that appears by relevance, or a problem noted under a field, so never
    moves the fields after it while a rerun is drawn on a slow server.
    """
    locked, problems = locked or {}, problems or {}
    notes = st.container()
    with notes:
        _carry_renamed(form, cities, space)
    for spec in form.all_fields():
        if spec.type != "table" and not spec.calculation:
            st.session_state.setdefault(state.spaced(space, state.field_key(form.id, spec.key)), _empty_state(spec))
    baseline = state.spaced(space, state.baseline_key(form.id))
    if baseline not in st.session_state:  # a form never loaded: blank is its baseline
        st.session_state[baseline] = fingerprint(form, space=space)
    if warnings(form, space=space):
        notes.warning("部分原值无法在表单中显示，已留空并在字段下方说明，请重新填写后保存。")
    preview = check_answers(form, current_answers(form, space=space), cities=cities, draft=True)
    for section in form.sections:
        with st.container():
            if all(f.key in preview.hidden for f in section.fields):
                continue
            st.subheader(section.title)
            if section.help:
                st.caption(section.help)
            for line in _lines(list(section.fields)):
                with st.container():
                    if line[0].type in _WIDE:
                        if line[0].key not in preview.hidden:
                            _field(form, line[0], cities, preview.values, locked, problems, space)
                        continue
                    for column, short in zip(st.columns(2), line):
                        if short.key not in preview.hidden:
                            with column:
                                _field(form, short, cities, preview.values, locked, problems, space)
