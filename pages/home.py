"""首页: what waits for the account (待办), the campaign at a glance and the forms to fill, with deadlines and who fills them."""

import streamlit as st

from lib.auth.policy import CREATE, can
from lib.ui import nav, page, state, todo
from lib.ui.contacts import contacts_box

actor, catalog, store = page.start()
campaign = catalog.campaign

st.title(campaign.title)
st.caption(f"依据：{campaign.notice}　当前身份：{actor.org}（{actor.account}）")
todo.render(store, catalog, actor)

st.subheader("工作阶段")
st.dataframe(
    [{"阶段": p.name, "开始": f"{p.start:%Y-%m-%d}", "结束": f"{p.end:%Y-%m-%d}", "说明": p.description} for p in campaign.phases],
    hide_index=True,
)

st.subheader("表单")
for form in catalog.forms():
    deadline = campaign.deadlines.get(form.deadline) if form.deadline else None
    with st.container(border=True):
        st.markdown(f"**{form.title}**")
        st.caption(
            f"填报：{campaign.roles[form.filled_by]}"
            + (f"　审核：{campaign.roles[form.reviewed_by]}" if form.reviewed_by else "")
            + (f"　截止：{deadline:%Y-%m-%d}" if deadline else "")
            + f"　表单版本：{form.version}"
        )
        if can(actor, CREATE, form):
            nav.go_button("去填报", "pages/fill.py", key=state.go_key(f"form:{form.id}"), icon="📝", form=form.id)

contacts_box(campaign.contacts, title="联系方式", note="填报、审核或使用系统遇到问题，请联系：")

for filename, problems in catalog.problems().items():
    st.warning(f"表单文件 {filename} 有错误，仍按上一个有效版本显示：\n\n" + "\n".join(f"- {p}" for p in problems))
