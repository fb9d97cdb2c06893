"""我的填报: the rows this account files, told apart by their summary fields; search; the reviewer's
return reason; open to correct and resubmit, withdraw; read and print a row; export one's rows (every
field, and the filed ones in the attachment's layout)."""

import datetime as dt

import streamlit as st

from lib import listing, review, submissions
from lib.auth.policy import CREATE, can
from lib.ui import context, fill, nav, official, page, rows, state
from lib.ui import my_submissions as mine

actor, catalog, store = page.start()
cities = catalog.campaign.cities

st.title("我的填报")
st.caption(f"当前身份：{actor.org}（{actor.account}）")
flash = st.session_state.pop(state.FLASH, None)
if flash:
    getattr(st, flash[0])(flash[1])

assigned = context.assignments(actor)  # an inspector's draw in force (None for the other roles)
forms = [f for f in catalog.forms() if can(actor, CREATE, f, assignments=assigned)]
if not forms:
    st.info(fill.nothing_to_fill(actor, catalog.forms()))
    st.stop()
form = rows.form_picker(forms, key=state.MINE_FORM)
records = submissions.my_records(store, form, actor, assignments=assigned)
if not records:
    st.info("您还没有填报这张表。")
    nav.go_button("去填报", "pages/fill.py", key=state.go_key("fill"), icon="📝", form=form.id)
    st.stop()

reasons = review.open_return_reasons(store, form, records)
found = listing.search(form, records, rows.search_box(form, key=state.MINE_SEARCH))
st.caption(f"共 {len(records)} 条，列出 {len(found)} 条")
rows.export_button(form, records, reasons, label=f"导出我的全部填报（{len(records)} 条，Excel）",
                   file_name=f"我的填报_{form.short_title}_{dt.date.today():%Y-%m-%d}.xlsx", key=state.MINE_EXPORT)
official.own_button(form, catalog.campaign, actor, records)
if not found:
    st.info("没有符合搜索条件的记录。")
    st.stop()
listed = rows.table(form, found, reasons, key=state.mine_page_key(form.id))

record = rows.pick(form, listed, label="选择一条记录", key=state.MINE_PICKED)
mine.actions(store, form, actor, record, reasons.get(record.id, ""))
mine.view(form, record, cities, actor)
