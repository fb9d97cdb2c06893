"""审核: approve rows, or return them with a reason the filler sees, many at once."""

import streamlit as st

from lib import review
from lib.auth.policy import REVIEW, can
from lib.store.base import StoreError
from lib.ui import context, identity, state
from lib.ui import review as actions

catalog = context.catalog()
store = context.store()
actor = identity.current_actor()

st.title("审核")
forms = [f for f in catalog.forms() if can(actor, REVIEW, f)]
if not forms:
    st.info("您的账号没有需要审核的表单。")
    st.stop()
form = st.selectbox("表单", forms, format_func=lambda f: f.title, key="review:form")
waiting_only = st.toggle("只看待审核（已提交、已重新提交）", value=True, key="review:waiting")
flash = st.session_state.pop(state.FLASH, None)
if flash:
    getattr(st, flash[0])(flash[1])

try:
    rows = review.queue(store, actor, form, review.AWAITING if waiting_only else None)
except StoreError as exc:
    st.error(str(exc))
    st.stop()
scope = f"{actor.city}市" if actor.role == "city" else "全省"
st.caption(f"审核范围：{scope}　共 {len(rows)} 条")
if not rows:
    st.info("没有待审核的记录。")
    st.stop()
st.dataframe(review.review_table(form, rows, review.return_reasons(store, form, rows)), hide_index=True, height=320)

waiting = {r.id: r for r in rows if r.status in review.AWAITING}
st.session_state[actions.REVS] = {rid: r.rev for rid, r in waiting.items()}
every = st.checkbox(f"选择全部待审核记录（{len(waiting)} 条）", key=actions.ALL)
picked = st.multiselect("选择记录", list(waiting), key=actions.PICKED, disabled=every, placeholder="输入记录编号或单位名称",
                        format_func=lambda rid: f"{rid}｜{waiting[rid].org or waiting[rid].owner}")
count = len(waiting) if every else len(picked)
st.text_area("退回原因（退回时必填，填报单位将看到）", key=actions.REASON, max_chars=review.MAX_REASON)
left, right = st.columns(2)
left.button(f"通过所选（{count} 条）", type="primary", disabled=not count, width="stretch",
            on_click=actions.act, args=(store, form, actor, True))
right.button(f"退回修改（{count} 条）", disabled=not count, width="stretch",
             on_click=actions.act, args=(store, form, actor, False))
