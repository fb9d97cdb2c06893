"""What the people using the app must know about the store now: that it cannot be opened (everyone),
or writes it could not make and keeps trying (the people who run the app)."""

from __future__ import annotations

import streamlit as st
from streamlit.logger import get_logger

from lib.auth.accounts import Account
from lib.core import roles
from lib.store.base import Store, StoreError
from lib.ui import context

log = get_logger(__name__)

#: Roles that answer for the data: they see the store's problems on every page.
RUNS_THE_APP = (roles.PROVINCE, roles.ADMIN)
UNAVAILABLE = "数据存储暂时无法打开，页面暂不能使用，请稍后刷新重试；如一直如此，请联系管理员。原因：{reason}"


def open_store() -> Store | None:
    """The process's store, or None after telling the person, in Chinese, why it cannot be opened
    (a Google spreadsheet out of reach, a log that cannot be read). Not remembered: the next page run
    tries again, so the app recovers by itself once the store does."""
    try:
        return context.store()
    except StoreError as exc:
        log.warning("数据存储无法打开（代码 %s）：%s", exc.code, exc)
        st.error(UNAVAILABLE.format(reason=exc))
        return None


def store_problems(account: Account, store: Store) -> None:
    """A sidebar warning listing ``Store.problems()`` for the province and the administrator."""
    if account.role not in RUNS_THE_APP:
        return
    problems = store.problems()
    if problems:
        st.sidebar.warning("数据存储有未完成的写入，系统会继续重试：\n\n" + "\n".join(f"- {p}" for p in problems))
