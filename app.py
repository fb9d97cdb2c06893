"""Router only: page config, the acting identity, and the pages a user may open."""

import streamlit as st

from lib.ui import context, identity

st.set_page_config(page_title="广东省上云上平台监督检查", page_icon="📋", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="首页", icon="🏠", default=True),
    st.Page("pages/fill.py", title="在线填报", icon="📝"),
    st.Page("pages/my_submissions.py", title="我的填报", icon="🗂️"),
]

if context.settings().demo_identity:
    identity.identity_selector(context.store(), context.catalog())
st.navigation(PAGES).run()
