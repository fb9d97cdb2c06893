"""What the fill page shows where the filler is looking: the outcome of 提交 / 保存草稿 below the
buttons (a summary of the problems linking to each field, the warnings to confirm, a refusal, a
conflict), the receipt of a submission in place of the form, and the question asked before an
address would drop input.

Each is drawn in one container that ``lib.ui.browser.focus`` scrolls to and focuses, once per
outcome.
"""

from __future__ import annotations

import streamlit as st

from lib.core.errors import AppError
from lib.core.records import Actor
from lib.forms import FormSpec
from lib.store.base import Store
from lib.submissions import record_for_edit
from lib.ui import browser, context, errors, fill, record_view, state, widgets


def form_slot(form: FormSpec, asked: str | None):
    """The place of the form on the page, drawn before what goes above it: a container, or, on a run
    that shows a receipt or ``asked`` a question instead of the form, an empty slot. The browser keeps
    the elements of the last run until this one has ended, so without it the form of the row just
    submitted stayed on screen, answers and all, while the receipt was drawn, and a person who clicked
    新建下一条 at once typed into it: the new row's blank fields were then drawn onto those widgets,
    dropping or mixing what was typed. An empty slot (not a container, whose content the browser keeps)
    removes the form at once."""
    if asked or (fill.receipt(form) and not fill.offered(form)):
        return st.empty()
    return st.container()


def panel_key(form: FormSpec) -> str:
    """The key of the container the outcome (or receipt, or question) is drawn in."""
    return f"fill-outcome-{form.id}"


def show_outcome(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...]) -> None:
    """The outcome of the last action, drawn below the buttons, with the focus moved to it."""
    done = fill.outcome(form)
    if not done or done["kind"] in ("submitted", "copied"):
        return
    kind = done["kind"]
    with st.container(key=panel_key(form)):
        links = [f"- [{record_view.plain_text(p['message'])}](#{widgets.anchor(form.id, p['field'], p['row'])})" for p in done["problems"]]
        if kind == "problems":
            st.error(f"{done['text']}，请修改以下 {len(links)} 处问题（点击跳到该处，问题也标在各字段下方）：\n\n" + "\n".join(links))
        elif kind == "warnings":
            st.warning(f"{done['text']}（共 {len(links)} 条，点击跳到该处）。如内容无误，请勾选下方确认后再点“提交”；"
                       "如需修改，改后再提交即可：\n\n" + "\n".join(links))
            st.checkbox("我已核实以上提醒，确认提交", key=fill.confirm_key(form))
        elif kind in ("refused", "conflict"):
            st.error(record_view.plain_text(done["text"]))
        elif kind == "saved":
            st.success(record_view.plain_text(done["text"]))
        else:
            st.info(record_view.plain_text(done["text"]))
        if kind == "conflict":
            left, right = st.columns(2)
            left.button("重新载入最新版本（放弃我的修改）", on_click=errors.guarded(fill.reload_row), args=(store, form, actor, cities), width="stretch")
            right.button("保留我的修改，基于最新版本", on_click=errors.guarded(fill.keep_mine), args=(store, form, actor), width="stretch")
    browser.focus(panel_key(form), done["nonce"], unless_typing=True)


def offer_panel_key(form: FormSpec) -> str:
    """The key of the container of the note ``fill.offered`` asks for."""
    return f"fill-offer-{form.id}"


def show_offer(form: FormSpec, cities: tuple[str, ...]) -> None:
    """The row the address named was not opened (``lib.ui.fill``): say so at the top, where a person
    who pressed back is looking, with the two deliberate ways on."""
    offer = fill.offered(form)
    with st.container(key=offer_panel_key(form), border=True):
        st.warning(f"记录 {offer['id']} 已提交（状态：{offer['status']}），没有打开修改，以免下一个项目覆盖它。"
                   "如确实要修改这条记录，请点“打开修改记录”；填报下一个项目请点“新建下一条”或直接在下方填写。")
        left, right = st.columns(2)
        left.button(f"打开修改记录 {offer['id']}", on_click=errors.guarded(fill.ask_to_open), args=(form.id, offer["id"]),
                    width="stretch", key=state.fill_button_key(form.id, "offer_open"))
        right.button("新建下一条", on_click=errors.guarded(fill.start_new), args=(form, cities), type="primary",
                     width="stretch", key=state.fill_button_key(form.id, "offer_next"))
    browser.focus(offer_panel_key(form), offer["nonce"])


def show_notes(form: FormSpec) -> None:
    """Notes for the top of the form: a row this session submitted is open again (asked for from
    我的填报 or the note of ``show_offer``), a new row was copied from another."""
    row = fill.editing(form)
    if row and row["id"] in fill.submitted(form):
        st.warning(f"记录 {row['id']} 刚刚已经提交，现在再次打开修改它。如要填报下一个项目，请点“放弃修改，新建一条”。")
    done = fill.outcome(form)
    if done and done["kind"] == "copied":
        st.info(record_view.plain_text(done["text"]))


def _back_to_my_rows(form: FormSpec) -> None:
    fill.forget_receipt(form)
    st.switch_page("pages/my_submissions.py", query_params={"form": form.id})


def show_receipt(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...]) -> None:
    """The receipt of the submission just made (row id, revision, time), what to do next, and the
    submitted answers with their print view."""
    done = fill.receipt(form)
    try:
        record = record_for_edit(store, form, done["id"], actor, assignments=context.assignments(actor))
    except AppError as exc:  # e.g. the store cannot be read just now: the receipt stands alone
        record, unreadable = None, str(exc)
    with st.container(key=panel_key(form), border=True):
        if done["pending"]:
            st.warning(f"已保存在本机，待同步：共享表格暂时无法连接，恢复后自动提交。记录编号 {done['id']}（状态：{done['status']}，待同步）")
        else:
            st.success(f"提交成功！记录编号 {done['id']}（状态：{done['status']}）")
        st.markdown(f"**回执**　记录编号：{done['id']}　版本：{done['rev']}　提交时间：{done['time']}")
        first, second, third = st.columns(3)
        first.button("新建下一条", type="primary", on_click=errors.guarded(fill.start_new), args=(form, cities), width="stretch", key=state.fill_button_key(form.id, "next"))
        second.button("复制为新记录", on_click=errors.guarded(fill.copy_as_new), args=(store, form, done["id"], actor, cities), width="stretch",
                      key=state.fill_button_key(form.id, "copy"), help="新记录沿用本条的填写，只留空标识项目的字段（如服务券编号）")
        if third.button("返回我的填报", width="stretch", key=state.fill_button_key(form.id, "mine")):
            _back_to_my_rows(form)
        if record is not None:
            record_view.print_button(form, record, cities, key=state.fill_button_key(form.id, "print"), receipt=True)
        else:
            st.caption(f"暂时无法显示提交的内容：{unreadable}")
    outcome = fill.outcome(form)
    if outcome:
        browser.focus(panel_key(form), outcome["nonce"])
    if record is not None:
        with st.expander("查看提交的内容"):
            record_view.show(form, record.values, cities, viewer=actor, record=record, assignments=context.assignments(actor))


def ask_before_switching(store: Store, form: FormSpec, actor: Actor, cities: tuple[str, ...], row_id: str) -> None:
    """The address names a row that ``fill.follow_address`` did not open, as the form on screen
    holds unsaved input: ask first."""
    row = fill.editing(form)
    on_screen = f"记录 {row['id']} 的修改" if row else "新填写的内容"
    with st.container(key=panel_key(form), border=True):
        st.warning(f"当前表单中有尚未保存的{on_screen}。打开记录 {row_id} 会放弃这些内容；如需保留，请先返回并点“保存草稿”。")
        go, stay = f"放弃这些内容，打开记录 {row_id}", "返回当前表单"
        left, right = st.columns(2)
        left.button(go, on_click=errors.guarded(fill.switch_to), args=(store, form, row_id, actor, cities), width="stretch")
        right.button(stay, on_click=errors.guarded(fill.switch_to), args=(store, form, None, actor, cities), type="primary", width="stretch")
    browser.focus(panel_key(form), f"ask:{form.id}:{row_id}")
