"""The outcome lists on the rectification page (成果清单: lib.rectification.outcomes): one tab per list, each
entry with the facts that qualify it and its mark (规则计算 / 人工添加), 移除 and 添加 with a reason, and the
Excel export of every list. The province's alone: another account sees nothing of it.

A confirmation runs in the page's flow (the click and the reason just typed arrive in the same run), then
the page reruns so every list shows it; its outcome is kept under ``state.rectify_outcome_key`` until then.
"""

from __future__ import annotations

import streamlit as st

from lib.auth.policy import can
from lib.campaign.board.preparation import change_counter
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.forms.rectification import OUTCOME_VARIABLES
from lib.rectification import outcomes as ro
from lib.rectification.records import ITEMS
from lib.ui import board, context, state
from lib.ui.rows import xlsx_download

PART = "outcomes"  # the part whose outcome message this is (state.rectify_outcome_key)


def _said() -> None:
    said = st.session_state.pop(state.rectify_outcome_key(PART), None)
    if said:
        (st.success if said["kind"] == "success" else st.error)("\n\n".join(said["lines"]))


def _confirm(actor: Actor, lst: ro.OutcomeList, entry: str, action: str, reason: str) -> None:
    try:
        ro.confirm(context.store(), context.catalog(), actor, lst.outcome.key, entry, action, reason)
    except AppError as exc:
        st.error(str(exc))
        return
    st.session_state[state.rectify_outcome_key(PART)] = {"kind": "success", "lines": [f"已{action}「{lst.outcome.name}」的条目：{entry}。"]}
    st.rerun()


def _names(frame, column: str) -> dict[str, str]:
    """Entry key -> how a picker shows it (its name, and the key when they differ)."""
    return {k: (n if n == k else f"{n}（{k}）") for k, n in zip(frame[ro.ENTRY], frame[column].fillna("").astype(str))}


def _one_list(actor: Actor, lst: ro.OutcomeList) -> None:
    outcome = lst.outcome
    if outcome.description:
        st.caption(outcome.description)
    read = [OUTCOME_VARIABLES[outcome.of][name] for name in sorted(outcome.expression.names)]
    if read:  # what each fact beside an entry counts
        st.caption("　".join(f"{v.title}：{v.what}" for v in read))
    board.drill(lst.rows.drop(columns=[ro.ENTRY]), [ro.MARK], state.rectify_table_key(f"outcome_{outcome.key}"),
                f"{outcome.name}.xlsx", label=outcome.name)
    column = ro.NAME_COLUMNS[outcome.of]
    left, right = st.columns(2)
    with left:
        _confirm_one(actor, lst, lst.rows, column, ro.REMOVED)
    with right:
        _confirm_one(actor, lst, lst.candidates, column, ro.ADDED)


def _confirm_one(actor: Actor, lst: ro.OutcomeList, entries, column: str, action: str) -> None:
    """Pick one of ``entries``, give the reason, 移除 or 添加 (``action``) it."""
    name, key = lst.outcome.name, lst.outcome.key
    shown = _names(entries, column)
    entry = st.selectbox(f"{action}条目（{name}）", list(shown), format_func=shown.__getitem__, index=None,
                         placeholder=f"选择要{action}的条目", key=state.outcome_confirm_key(key, action, "pick"))
    reason = st.text_input(f"{action}理由（{name}）", max_chars=ro.MAX_REASON, key=state.outcome_confirm_key(key, action, "reason"))
    if st.button(f"{action}（{name}）", disabled=entry is None, key=state.outcome_confirm_key(key, action, "button")):
        _confirm(actor, lst, entry, action, reason)


def _counter() -> tuple:
    """A key that changes with any row the lists are computed from: the bound forms, the items, the confirmations."""
    store, catalog = context.store(), context.catalog()
    sheets = [*catalog.bindings.form_ids().values(), ITEMS.form_id, ro.CONFIRMATIONS.form_id]
    return change_counter({sheet: store.snapshot(sheet) for sheet in sheets})


@st.cache_resource(max_entries=4, show_spinner=False)
def _lists(counter: tuple, _actor: Actor) -> list[ro.OutcomeList]:
    """The lists, computed once per change of their data and shared by the province's sessions (the page
    runs on every click; at 20,000 items the computation costs a second). ``render`` has checked the role."""
    return ro.outcome_lists(context.store(), context.catalog(), _actor)


def render(actor: Actor) -> None:
    """The 成果清单 section: for the province only (nothing for another account)."""
    if not can(actor, ro.CONFIRM):
        return
    st.subheader("成果清单")
    st.caption("按 campaign.yaml 的成果清单规则计算；省厅可移除或添加条目（须写明理由，记入审计日志）。")
    _said()
    try:
        lists = _lists(_counter(), actor)
    except AppError as exc:
        st.error(str(exc))
        return
    if not lists:
        st.info("本次检查活动没有声明成果清单（rectification.outcomes）。")
        return
    xlsx_download("导出全部成果清单", lambda: ro.export_xlsx(lists), file_name="成果清单.xlsx",
                  key=state.drill_export_key(state.rectify_table_key(PART)))
    tabs = st.tabs([f"{lst.outcome.name}（{len(lst.rows):,}）" for lst in lists])
    for tab, lst in zip(tabs, lists, strict=True):
        with tab:
            _one_list(actor, lst)
