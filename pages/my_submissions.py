"""我的填报: the rows this account files: status, the reviewer's return reason, open to correct and
resubmit, withdraw."""

import streamlit as st

from lib import review, submissions
from lib.auth.policy import CREATE, can
from lib.store.base import StoreError, is_pending
from lib.ui import context, identity, nav

catalog = context.catalog()
store = context.store()
actor = identity.current_actor()

st.title("我的填报")
st.caption(f"当前身份：{actor.org}（{actor.account}）")

forms = [f for f in catalog.forms() if can(actor, CREATE, f)]
if not forms:
    st.info("您的账号不需要填报表单。")
    st.stop()
form = st.selectbox("表单", forms, format_func=lambda f: f.title)
records = submissions.my_records(store, form, actor)
if not records:
    st.info("您还没有填报这张表。")
    nav.go_button("去填报", "pages/fill.py", key="go:fill", icon="📝", form=form.id)
    st.stop()

reasons = review.return_reasons(store, form, records)
summary_keys = [f.key for f in form.all_fields() if f.type in ("text", "select", "city")][:3]
st.dataframe(
    [
        {"记录编号": r.id, "状态": r.status + ("（待同步）" if is_pending(r) else ""), "版本": r.rev, "更新时间": f"{r.updated_at:%Y-%m-%d %H:%M}"}
        | {"退回原因": reasons.get(r.id, "") if r.status == submissions.RETURNED else ""}
        | {form.field(k).label: r.values.get(k) for k in summary_keys}
        for r in records
    ],
    hide_index=True,
)

row_id = st.selectbox("选择一条记录", [r.id for r in records])
record = next(r for r in records if r.id == row_id)
if record.status == submissions.RETURNED:
    st.warning(f"审核意见（退回修改）：{reasons.get(record.id) or '（未填写原因）'}\n\n请打开修改，改正后重新提交。")
left, right = st.columns(2)
if record.status not in (submissions.APPROVED, submissions.WITHDRAWN):
    with left:
        nav.go_button("打开修改", "pages/fill.py", key="go:edit", icon="✏️", form=form.id, row=record.id)
    confirm = right.checkbox("确认撤回这条记录", key=f"withdraw:{record.id}")
    if right.button("撤回", disabled=not confirm):
        try:
            submissions.withdraw(store, form, record.id, actor, base_rev=record.rev)
            st.success(f"记录 {record.id} 已撤回。")
            st.rerun()
        except StoreError as exc:
            st.error(str(exc))
else:
    left.caption(f"状态为「{record.status}」的记录不能再修改。")
