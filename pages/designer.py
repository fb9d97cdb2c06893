"""表单设计: edit a form's or the campaign's YAML with its problems and a live preview, save a draft, publish
(after the impact on stored rows is confirmed), read the history and restore an earlier version, withdraw a stray
file (lib.ui.designer*)."""

import streamlit as st

from lib.ui import context, designer, designer_history, page, state

actor, catalog, store = page.start()
designer.belong_to(actor)

st.title("表单设计")
if context.settings().forms_source == "files":
    st.warning("本服务器的设置 forms_source = files：表单直接读取 forms 文件夹，在这里发布的版本本服务器不会使用。"
               "请改为 store（默认）后再在线发布。")
files = designer.files(store, catalog, actor)
if not files:
    st.info("您的账号没有可以设计的表单。")
    st.stop()
file = st.selectbox("选择文件", list(files), format_func=lambda f: files[f], key=state.DESIGNER_FILE)
designer.follow(store, actor, file)

found = designer.checked(catalog)  # once per run: the problems, the preview and the palette read it
left, right = st.columns(2)
with left:
    designer.editor(store, catalog, actor, found)
with right:
    designer.preview(catalog, found)
designer.palette(catalog, actor, found)
designer.actions(store, catalog, actor)
designer_history.section(store, catalog, actor, file)
designer_history.withdraw_section(store, catalog, actor, file)
