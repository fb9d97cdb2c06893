"""The home page's 待办 list: what waits for the signed-in account (``lib.todo``), each entry with its due
date (逾期 flagged on the campaign clock) and one click to the page, row or item it is about — or, for
many rectification items in one entry, to the rectification page's 待我办理 list.

What a form still owes in the account's scope is the board's count (未报, from the shared board of
``lib.ui.board``: computed once per data change for every viewer), for the forms the board follows and
where the register lists something in that scope; otherwise a form is due while nothing of it is filed.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib import todo
from lib.auth.policy import CREATE, Assignments, can
from lib.core.errors import AppError
from lib.core.records import Actor
from lib.forms import FormCatalog
from lib.store.base import Store
from lib.ui import board_data, context, nav, state
from lib.ui.record_view import plain_text

#: Entries shown at once; the rest are one click away (folded).
SHOWN = 8
#: Page key -> the state key of the list that page shows, for an entry naming one (``todo.Entry.view``).
VIEWS = {"rectification": state.RECTIFY_LIST}


def campaign_today() -> dt.date:
    """The campaign clock: setting ``campaign_today``, else today."""
    return context.settings().campaign_today or dt.date.today()


def unfiled(catalog: FormCatalog, actor: Actor, today: dt.date, assignments: Assignments | None) -> dict[str, int] | None:
    """Form id -> register entries in ``actor``'s scope not filed yet (the board's 未报), for the forms
    it fills that the board follows and for which its scope's register lists something; None when it
    fills none of them or the board cannot be drawn (its reason is the board page's to show)."""
    try:
        cal = board_data.calendar()
        ids = {cal.title(f.id): f.id for f in catalog.forms() if f.id in cal.forms and can(actor, CREATE, f, assignments=assignments)}
        if not ids:
            return None
        progress = board_data.current_board(actor, today).progress
    except AppError:
        return None
    mine = progress[progress["表单"].isin(list(ids))]
    due = mine.groupby("表单")[["应报", "未报"]].sum()
    return {ids[title]: int(row["未报"]) for title, row in due.iterrows() if row["应报"] > 0}


def _due_text(entry: todo.Entry) -> str:
    if entry.due is None:
        return ""
    return f"截止 {entry.due:%Y-%m-%d}" + ("　:red[**逾期**]" if entry.overdue else "")


def _entry(n: int, entry: todo.Entry) -> None:
    with st.container(border=True):
        left, middle, right = st.columns([6, 2, 1], vertical_alignment="center")
        left.markdown(f"**{entry.kind}**　{plain_text(entry.what)}")
        if entry.detail:  # names and reasons people typed: shown as typed, never as links or formatting
            left.caption(plain_text(entry.detail))
        middle.markdown(_due_text(entry) or "—")
        with right:
            if not entry.view:
                nav.go_button("打开", f"pages/{entry.page}.py", key=state.todo_open_key(n), **dict(entry.query))
            elif st.button("打开清单", key=state.todo_open_key(n)):
                # which list the page shows is its radio's state: set now, the page's radio opens on it
                st.session_state[VIEWS[entry.page]] = entry.view
                st.switch_page(f"pages/{entry.page}.py", query_params=dict(entry.query))


def render(store: Store, catalog: FormCatalog, actor: Actor) -> None:
    """The 待办 list of ``actor`` as of the campaign clock."""
    today = campaign_today()
    assigned = context.assignments(actor)
    entries = todo.todo(store, catalog, actor, today, assignments=assigned, unfiled=unfiled(catalog, actor, today, assigned),
                        accounts=context.accounts().all())
    st.subheader("待办")
    if not entries:
        st.success(f"截至 {today:%Y-%m-%d}，没有等待您处理的事项。")
        return
    late = sum(e.overdue for e in entries)
    st.caption(f"截至 {today:%Y-%m-%d}（活动时钟）共 {len(entries)} 条待办" + (f"，其中逾期 {late} 条" if late else "")
               + "；逾期的排在前面，其余按截止日期排列。"
               + ("同一办理事项较多的整改事项合为一条，打开清单后逐项办理。" if any(e.view for e in entries) else ""))
    for n, entry in enumerate(entries[:SHOWN]):
        _entry(n, entry)
    if len(entries) > SHOWN:
        with st.expander(f"其余 {len(entries) - SHOWN} 项"):
            for n, entry in enumerate(entries[SHOWN:], start=SHOWN):
                _entry(n, entry)

