"""Links between pages as buttons: ``st.page_link`` needs the target registered by st.navigation in
the same run, which a page tested alone (AppTest) has not; a button switches page only when clicked."""

from __future__ import annotations

import streamlit as st


def go_button(label: str, page: str, *, key: str, icon: str | None = None, **query: str) -> None:
    """A button that opens ``page`` (a path under pages/) with ``query`` as its query parameters."""
    if st.button(label, key=key, icon=icon):
        st.switch_page(page, query_params=query)
