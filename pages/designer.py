"""表单设计: edit a form's or the campaign's YAML with its problems and a live preview, save a draft, publish
(after the impact on stored rows is confirmed), read the history and restore an earlier version (lib.ui.designer*)."""

import streamlit as st

from lib.ui import designer, designer_history, page, state

actor, catalog, store = page.start()

st.title("表单设计")
files = designer.files(store, catalog, actor)
if not files:
    st.info("您的账号没有可以设计的表单。")
    st.stop()
file = st.selectbox("选择文件", list(files), format_func=lambda f: files[f], key=state.DESIGNER_FILE)
designer.follow(store, actor, file)

left, right = st.columns(2)
with left:
    designer.editor(catalog, actor)
with right:
    designer.preview(catalog)
designer.palette(catalog, actor)
designer.actions(store, catalog, actor)
designer_history.section(store, catalog, actor, file)
