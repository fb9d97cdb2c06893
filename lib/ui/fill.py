"""The fill page's actions, run as button callbacks so they may reset widget state before the rerun."""

from __future__ import annotations

import streamlit as st

from lib import submissions
from lib.forms import FormProblem, FormSpec
from lib.store.base import Actor, ConflictError, Store, StoreError, is_pending
from lib.ui import state, widgets

PROBLEMS = "fill:problems"  # list of problem strings from the last failed submit
CONFLICT = "fill:conflict"  # Chinese message of the last conflict, while the filler decides


def editing(form: FormSpec) -> dict | None:
    """{'id', 'rev', 'status'} of the row being edited, or None for a new row."""
    return st.session_state.get(state.editing_key(form.id))


def open_row(store: Store, form: FormSpec, row_id: str, actor: Actor) -> None:
    """Load one of the actor's rows into the form for correction (refused, and audited, for others')."""
    try:
        record = submissions.record_for_edit(store, form, row_id, actor)
    except StoreError as exc:
        st.session_state[state.FLASH] = ("error", f"{exc} 不能打开修改。")
        return
    widgets.load_answers(form, record.values)
    st.session_state[state.editing_key(form.id)] = {"id": record.id, "rev": record.rev, "status": record.status}
    st.session_state.pop(PROBLEMS, None)
    st.session_state.pop(CONFLICT, None)


def editing_record(store: Store, form: FormSpec, actor: Actor):
    """The stored row being edited (checked: the actor may edit it)."""
    return submissions.record_for_edit(store, form, editing(form)["id"], actor)


def start_new(form: FormSpec) -> None:
    widgets.load_answers(form, {})
    st.session_state.pop(state.editing_key(form.id), None)
    st.session_state.pop(PROBLEMS, None)
    st.session_state.pop(CONFLICT, None)


def _describe(problems: list[FormProblem]) -> list[str]:
    return [str(p) for p in problems]


def save(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...], *, draft: bool) -> None:
    """Submit (or save as draft) what the widgets hold; outcome goes to FLASH / PROBLEMS / CONFLICT."""
    row = editing(form)
    action = submissions.save_draft if draft else submissions.submit
    try:
        result = action(
            store,
            form,
            widgets.current_answers(form),
            actor,
            cities=cities,
            row_id=row["id"] if row else None,
            base_rev=row["rev"] if row else None,
        )
    except ConflictError as exc:
        st.session_state[CONFLICT] = str(exc)
        return
    except StoreError as exc:
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    if not result.ok:
        st.session_state[PROBLEMS] = _describe(result.problems)
        return
    record = result.record
    if draft:
        st.session_state[state.editing_key(form.id)] = {"id": record.id, "rev": record.rev, "status": record.status}
        st.session_state[state.FLASH] = ("success", f"草稿已保存，记录编号 {record.id}。可在“我的填报”中继续填写。")
        st.session_state.pop(PROBLEMS, None)
        return
    start_new(form)
    if is_pending(record):
        st.session_state[state.FLASH] = (
            "warning",
            f"已保存在本机，待同步：共享表格暂时无法连接，恢复后自动提交。记录编号 {record.id}（状态：{record.status}，待同步）",
        )
    else:
        st.session_state[state.FLASH] = ("success", f"提交成功！记录编号 {record.id}（状态：{record.status}）")


def reload_row(store: Store, form: FormSpec, actor: Actor) -> None:
    """After a conflict: load the row as it is now, discarding the edits on screen."""
    row = editing(form)
    if row:
        open_row(store, form, row["id"], actor)
        st.session_state[state.FLASH] = ("info", "已载入最新版本，请重新修改后提交。")


def show_messages() -> None:
    """Show (once) the outcome of the last action."""
    flash = st.session_state.pop(state.FLASH, None)
    if flash:
        kind, text = flash
        getattr(st, kind)(text)
    problems = st.session_state.get(PROBLEMS)
    if problems:
        st.error("提交未成功，请修改以下问题：\n\n" + "\n".join(f"- {p}" for p in problems))
