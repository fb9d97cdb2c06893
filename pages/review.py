"""审核: read a row whole and approve it or return it with a reason the filler sees; filter the rows;
act on many at once (a large approval asks to confirm its count); export the filed rows in the
attachment's layout, a sheet per city."""

import streamlit as st

from lib import review
from lib.auth.policy import REVIEW, can
from lib.core.errors import AppError
from lib.core.roles import CITY
from lib.ui import official, page, rows, state
from lib.ui import review as ui

actor, catalog, store = page.start()
cities = catalog.campaign.cities

st.title("审核")
forms = [f for f in catalog.forms() if can(actor, REVIEW, f)]
if not forms:
    st.info("您的账号没有需要审核的表单。")
    st.stop()
# 待办 on the home page opens the form the address names
form = rows.form_picker(forms, key=state.REVIEW_FORM, wanted=st.query_params.get("form"))
st.query_params["form"] = form.id
official.by_city_button(store, form, catalog.campaign, actor)  # every filed row the reviewer reads, not only the queue
waiting_only = st.toggle(f"只看待审核（{'、'.join(review.AWAITING)}）", value=True, key=state.REVIEW_WAITING)
flash = st.session_state.pop(state.FLASH, None)
if flash:
    getattr(st, flash[0])(flash[1])

try:
    queue = review.queue(store, actor, form, review.AWAITING if waiting_only else None)
    reasons = review.return_reasons(store, form, queue)
except AppError as exc:
    st.error(str(exc))
    st.stop()
# A city bureau reviews its city's rows: named as the campaign names the bureau (city_unit), not by a suffix.
scope = (catalog.campaign.city_unit or "{city}").replace("{city}", actor.city) if actor.role == CITY else "全省"
if not queue:
    st.caption(f"审核范围：{scope}")
    st.info("没有待审核的记录。")
    st.stop()
shown = ui.filters(form, queue, cities)
st.caption(f"审核范围：{scope}　共 {len(queue)} 条，筛选后 {len(shown)} 条")
if not shown:
    st.info("没有符合筛选条件的记录。")
    st.stop()
listed = rows.table(form, shown, reasons, key=state.review_page_key(form.id), filer=True)

st.subheader("批量审核")
ui.bulk(store, form, actor, shown, listed)
st.subheader("逐条阅读与审核")
ui.read_and_act(store, form, actor, listed, reasons, cities)
