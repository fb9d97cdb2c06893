"""填报: fill one form by sections, save a draft, submit, or correct one of one's own rows."""

import streamlit as st

from lib import review
from lib.auth.policy import CREATE, account_answers, can
from lib.core.statuses import DRAFT, RETURNED
from lib.ui import bulk_import, complaints, context, errors, fill, fill_outcome, inspection, page, record_view, widgets

actor, catalog, store = page.start()
fill.belong_to(actor)
campaign = catalog.campaign
cities = campaign.cities
assigned = context.assignments(actor)  # an inspector's draw in force (None for the other roles)
forms = [f for f in catalog.forms() if can(actor, CREATE, f, assignments=assigned)]

st.title("在线填报")
# What is drawn only at times goes into containers drawn always, so the form below keeps its place
# among the page's elements: a form that moved is drawn anew by the browser, dropping what is being
# typed or picked while a slow rerun arrives (lib.ui.widgets.render_form).
with st.container():
    for filename, problems in catalog.problems().items():
        st.warning(f"表单文件 {filename} 有错误，仍按上一个有效版本显示：\n\n" + "\n".join(f"- {p}" for p in problems))

if not forms:
    st.info(fill.nothing_to_fill(actor, catalog.forms()))
    st.stop()
ids = [f.id for f in forms]
wanted = st.query_params.get("form")
form_id = st.selectbox("选择表单", ids, index=ids.index(wanted) if wanted in ids else 0, format_func=lambda i: catalog.form(i).title)
form = catalog.form(form_id)
st.query_params["form"] = form.id

asked = fill.follow_address(store, form, actor, cities)
row = fill.editing(form)

deadline = campaign.deadlines.get(form.deadline) if form.deadline else None
st.caption(
    f"填报单位：{campaign.roles.get(form.filled_by, form.filled_by)}"
    + (f"　截止日期：{deadline:%Y-%m-%d}" if deadline else "")
    + f"　当前身份：{actor.org}（{actor.account}）"
)
top = st.container()
form_slot = fill_outcome.form_slot(form, asked)  # before the receipt or question drawn above it
with top:
    if asked:
        fill_outcome.ask_before_switching(store, form, actor, cities, asked)
        st.stop()
    if fill.offered(form):
        fill_outcome.show_offer(form, cities)
    elif fill.receipt(form):
        fill_outcome.show_receipt(store, form, actor, cities)
        st.stop()
    if form.description:
        st.info(form.description)
    bulk_import.panel(store, catalog, form, actor)
    if row:
        st.info(f"正在修改记录 {row['id']}（基于版本 {row['rev']}，状态：{row['status']}）")
        if row["status"] == RETURNED:
            reason = review.return_reasons(store, form, [fill.editing_record(store, form, actor)]).get(row["id"])
            st.warning(f"审核意见（{RETURNED}）：{record_view.plain_text(reason) if reason else '（未填写原因）'}")
        st.button("放弃修改，新建一条", on_click=errors.guarded(fill.start_new), args=(form, cities))
    fill_outcome.show_notes(form)
    inspection.panel(store, catalog, form, actor, assigned, cities)  # the inspection form's companion
    complaints.voucher_warning(store, catalog, form)  # the complaint form's: a voucher no project has

locked = widgets.lock(form, account_answers(form, actor), cities)
with form_slot:
    widgets.render_form(form, cities, locked=locked, problems=fill.problems(form))

left, right = st.columns(2)
drawn_with = fill.token(form)
if not row or row["status"] == DRAFT:
    left.button("保存草稿", on_click=errors.guarded(fill.save), args=(store, form, actor, cities, drawn_with), kwargs={"draft": True}, width="stretch")
right.button(
    "重新提交" if row and row["status"] != DRAFT else "提交",
    on_click=errors.guarded(fill.save),
    args=(store, form, actor, cities, drawn_with),
    kwargs={"draft": False},
    type="primary",
    width="stretch",
)
fill_outcome.show_outcome(store, form, actor, cities)
