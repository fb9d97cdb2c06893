"""The acting account: the signed-in user, as the Actor every row and audit entry records."""

from __future__ import annotations

import streamlit as st

from lib.core.records import Actor
from lib.ui import auth, nav


def current_actor() -> Actor:
    """The signed-in user's Actor; a page opened without a session stops with a message."""
    nav.ensure_router()
    account = auth.current_account()
    if account is None:
        st.warning("请先登录。")
        st.stop()
    return account.actor()
