"""What the people who run the app must know now: writes the store could not make and keeps trying."""

from __future__ import annotations

import streamlit as st

from lib.auth.accounts import Account
from lib.store.base import Store

#: Roles that answer for the data: they see the store's problems on every page.
RUNS_THE_APP = ("province", "admin")


def store_problems(account: Account, store: Store) -> None:
    """A sidebar warning listing ``Store.problems()`` for the province and the administrator."""
    if account.role not in RUNS_THE_APP:
        return
    problems = store.problems()
    if problems:
        st.sidebar.warning("数据存储有未完成的写入，系统会继续重试：\n\n" + "\n".join(f"- {p}" for p in problems))
