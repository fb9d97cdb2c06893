"""我的填报's parts: the chosen row's actions (open to correct, withdraw) and its read-only and print view."""

from __future__ import annotations

import streamlit as st

from lib import submissions
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.statuses import CLOSED, RETURNED, WITHDRAWN
from lib.forms import FormSpec
from lib.store.base import Store
from lib.ui import context, errors, fill, record_view, state


def _withdraw(store: Store, form: FormSpec, actor: Actor, record: Record) -> None:
    try:
        submissions.withdraw(store, form, record.id, actor, base_rev=record.rev, assignments=context.assignments(actor))
    except AppError as exc:  # not the filer's to withdraw, changed meanwhile, the store unavailable
        st.session_state[state.FLASH] = ("error", str(exc))
        return
    st.session_state[state.FLASH] = ("success", f"记录 {record.id} {WITHDRAWN}。")


def actions(store: Store, form: FormSpec, actor: Actor, record: Record, reason: str) -> None:
    """Open to correct and withdraw for a row still in the filer's hands; a note for a finished one."""
    if record.status == RETURNED:
        st.warning(f"审核意见（{RETURNED}）：{record_view.plain_text(reason) or '（未填写原因）'}\n\n请打开修改，改正后重新提交。")
    if record.status in CLOSED:  # rows that can only be read now
        st.caption(f"状态为「{record.status}」的记录不能再修改，可以查看和打印。")
        return
    left, right = st.columns(2)
    if left.button("打开修改", key=state.go_key("edit"), icon="✏️"):  # deliberate: the fill page opens it whatever its status
        fill.ask_to_open(form.id, record.id)
        st.switch_page("pages/fill.py", query_params={"form": form.id, "row": record.id})
    confirm = right.checkbox("确认撤回这条记录", key=state.mine_withdraw_confirm_key(record.id))
    right.button("撤回", disabled=not confirm, key=state.MINE_WITHDRAW, on_click=errors.guarded(_withdraw), args=(store, form, actor, record))


def view(form: FormSpec, record: Record, cities: tuple[str, ...], actor: Actor) -> None:
    """The whole row read-only, open for a finished row (folded for one still being worked on), its
    files as far as ``actor`` may read the row, and its print view."""
    with st.expander(f"查看全部内容（记录 {record.id}，第 {record.rev} 版）", expanded=record.status in CLOSED):
        record_view.show(form, record.values, cities, viewer=actor, record=record, assignments=context.assignments(actor))
    record_view.print_button(form, record, cities, key=state.mine_print_key(record.id))
