"""The rectification page's parts (全面整改): the lists the office works from (lib.rectification.lists), narrowed
by city, status and category, each exported to Excel; the province's 生成整改事项 and 新增整改事项
(lib.rectification.generate: the acting organisation found among the accounts). The items the province
must repair (无对应账号, a changed source) and its 改派 / 撤销: lib.ui.rectification_admin. One item, its
checklist and its actions: lib.ui.rectification_item.

Each action runs in its button's callback and leaves its outcome under its own key (state.rectify_outcome_key),
shown in its part until the next action; a refusal is the lib error's Chinese message, and nothing is written.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from lib.auth.policy import RECTIFY_GENERATE, can
from lib.campaign.board import figures
from lib.core.errors import AppError
from lib.core.records import Actor, Record
from lib.core.roles import CITY
from lib.forms.rectification import Rectification
from lib.rectification import generate
from lib.rectification import lists as rl
from lib.rectification.records import ALL_STATUSES
from lib.todo import ITEM_QUERY
from lib.ui import board, context, errors, rectification_admin, state

ALL = figures.ALL  # the word a filter shows for "no narrowing", as the board's tables
TITLE = rl.TITLE


def today() -> dt.date:
    """The campaign clock (setting ``campaign_today``, else today): what 逾期 is judged on."""
    return context.settings().campaign_today or dt.date.today()


def section() -> Rectification | None:
    """The served campaign's ``rectification:`` section; None (with a note on the page) when it has none."""
    declared = context.catalog().campaign.rectification
    if declared is None:
        st.info("本次检查活动的 campaign.yaml 没有声明全面整改（rectification），没有整改事项。")
    return declared


def outcome(part: str, kind: str, *lines: str) -> None:
    st.session_state[state.rectify_outcome_key(part)] = {"kind": kind, "lines": list(lines)}


def show_outcome(part: str) -> None:
    said = st.session_state.get(state.rectify_outcome_key(part))
    if said:
        {"success": st.success, "error": st.error, "info": st.info}[said["kind"]]("\n\n".join(said["lines"]))


def follow_link() -> None:
    """An address naming an item (``?item=``: the 待办 list's link) opens it: the narrowing is cleared so the
    item is listed, and the address forgets it, so the picker chooses freely afterwards."""
    wanted = st.query_params.get(ITEM_QUERY)
    if not wanted:
        return
    for key in (state.RECTIFY_CITY, state.RECTIFY_STATUS, state.RECTIFY_CATEGORY):
        st.session_state.pop(key, None)
    st.session_state[state.RECTIFY_PICK] = wanted
    del st.query_params[ITEM_QUERY]


def narrowing(declared: Rectification, actor: Actor) -> rl.Narrowing:
    """Three selectboxes narrowing every list: 督办地市 (not for a city bureau, which sees its own), 状态, 整改类别."""
    cities = context.catalog().campaign.cities
    names = {c.key: c.name for c in declared.categories}
    left, middle, right = st.columns(3)
    city = ALL if actor.role == CITY else left.selectbox(TITLE["city"], [ALL, *cities], key=state.RECTIFY_CITY)
    status = middle.selectbox(rl.STATUS, [ALL, *ALL_STATUSES], key=state.RECTIFY_STATUS)
    category = right.selectbox(TITLE["category"], [ALL, *names], key=state.RECTIFY_CATEGORY,
                               format_func=lambda k: names.get(k, k))
    return rl.Narrowing(*("" if v == ALL else v for v in (city, status, category)))


def lists_section(items: list[Record], actor: Actor) -> None:
    """The list the viewer opens (one at a time: five lists of 20,000 items built on every run would be
    four for nothing), narrowed further by its table's own filters and exported to Excel."""
    name = st.radio("清单", list(rl.LISTS), format_func=rl.LISTS.__getitem__, horizontal=True, key=state.RECTIFY_LIST)
    frame = rl.office_list(name, items, context.catalog(), actor, today())
    board.drill(frame, rl.FILTERS[name], state.rectify_table_key(name), f"{rl.LISTS[name]}.xlsx", label=rl.LISTS[name], kinds=rl.KINDS)
    rectification_admin.lists(items, actor, context.catalog().campaign.rectification, today())


def _generate(actor: Actor) -> None:
    try:
        summary = generate.generate(context.store(), context.catalog(), actor, today(), accounts=context.accounts().all())
    except AppError as exc:
        outcome("generate", "error", str(exc))
        return
    outcome("generate", "success", summary.text())


def generate_section(actor: Actor) -> None:
    """生成整改事项 (idempotent: a finding opens its item once) — the province's."""
    if not can(actor, RECTIFY_GENERATE):
        return
    st.subheader("生成整改事项")
    st.caption("按 campaign.yaml 的整改规则，从已报送的检查记录和填报中找出问题并生成整改事项；再次生成只新增此前没有的问题。")
    st.button("生成整改事项", key=state.RECTIFY_GENERATE, type="primary", on_click=errors.guarded(_generate), args=(actor,))
    show_outcome("generate")


def _add(actor: Actor) -> None:
    values = {key: st.session_state.get(state.rectify_add_key(key)) for key in ADD_FIELDS}
    try:
        record = generate.add_item(context.store(), context.catalog(), actor, values, today(), accounts=context.accounts().all())
    except AppError as exc:
        outcome("add", "error", str(exc))
        return
    outcome("add", "success", f"已新增整改事项 {record.values['item_id']}。")
    for key in ADD_FIELDS:  # the next item starts from an empty form
        st.session_state.pop(state.rectify_add_key(key), None)


#: The fields of an item added by hand (generate.add_item's values), in the form's order.
ADD_FIELDS = ("category", "city", "party_kind", "party", "party_code", "actor_org", "actor_reason", "voucher", "project", "finding",
              "due")


def add_section(actor: Actor, declared: Rectification) -> None:
    """新增整改事项 by hand — the province's; a refused value is named, nothing written."""
    if not can(actor, RECTIFY_GENERATE):
        return
    names = {c.key: c.name for c in declared.categories}
    with st.expander("新增整改事项（手工）"):
        with st.form(state.RECTIFY_ADD, border=False):
            key = state.rectify_add_key
            left, right = st.columns(2)
            left.selectbox(TITLE["category"], list(names), format_func=names.__getitem__, key=key("category"))
            right.selectbox(TITLE["city"], list(context.catalog().campaign.cities), key=key("city"))
            left.selectbox(TITLE["party_kind"], list(generate.PARTY_WORDS), format_func=generate.PARTY_WORDS.__getitem__,
                           key=key("party_kind"))
            right.text_input(TITLE["party"], key=key("party"))
            left.text_input(TITLE["party_code"], key=key("party_code"), help="选填；填写则须为有效的统一社会信用代码。")
            right.text_input(TITLE["actor_org"], key=key("actor_org"), help="责任主体为企业时必填：代企业办理整改的服务商（须有账号）。")
            st.text_input("指定理由", key=key("actor_reason"), help="办理服务商没有为该企业报送过项目时必填：说明为何由它办理。")
            left.text_input(TITLE["voucher"], key=key("voucher"))
            right.text_input(TITLE["project"], key=key("project"))
            st.text_area(TITLE["finding"], key=key("finding"))
            st.date_input(TITLE["due"], value=declared.due, key=key("due"), format="YYYY-MM-DD",
                          help=f"不早于今天，不晚于今天起 {generate.DUE_MAX_DAYS} 天。")
            st.form_submit_button("新增整改事项", on_click=errors.guarded(_add), args=(actor,))
    show_outcome("add")
