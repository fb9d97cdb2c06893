"""Router only: page config, the acting identity, and the pages a user may open."""

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager

from lib.ui import context, identity

# Streamlit runs the first script run of a process inside its legacy pages/ wrapper (our pages/
# folder triggers it) until st.navigation switches that off; widgets drawn in that run get ids
# that the next run does not recognise, so the first interaction would be lost. Rerun at once.
legacy_first_run = bool(PagesManager.uses_pages_directory)

st.set_page_config(page_title="广东省上云上平台监督检查", page_icon="📋", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="首页", icon="🏠", default=True),
    st.Page("pages/fill.py", title="在线填报", icon="📝"),
    st.Page("pages/my_submissions.py", title="我的填报", icon="🗂️"),
    st.Page("pages/board.py", title="进度看板", icon="📊"),
    st.Page("pages/register.py", title="台账导入与核对", icon="🧾"),
]

navigation = st.navigation(PAGES)
if legacy_first_run:
    st.rerun()
if context.settings().demo_identity:
    identity.identity_selector(context.store(), context.catalog())
navigation.run()
