"""Navigation: the router's ``st.navigation`` and the one workaround it needs (Streamlit's legacy pages/
mode, ``PagesManager``: read here and nowhere else), and links between
pages as buttons (``st.page_link`` needs the target registered by st.navigation in the same run, which a
page tested alone (AppTest) has not; a button switches page only when clicked)."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime.pages_manager import PagesManager


def navigation(pages: list[StreamlitPage], **options) -> StreamlitPage:
    """``st.navigation(pages, **options)``, leaving Streamlit's legacy pages/ mode at once.

    Streamlit runs the first script run of a process inside its legacy pages/ wrapper (our pages/
    folder triggers it: ``PagesManager.uses_pages_directory``) until st.navigation switches that off;
    widgets drawn in that run get ids the next run does not recognise, so the first interaction would
    be lost. That run is rerun at once. tests/ui/test_nav.py fails if a Streamlit upgrade changes this.
    """
    legacy_first_run = bool(PagesManager.uses_pages_directory)
    chosen = st.navigation(pages, **options)
    if legacy_first_run:
        st.rerun()
    return chosen


def ensure_router() -> None:
    """A page opened by address as the first request of a server process runs inside Streamlit's
    legacy pages/ wrapper, without app.py (no sign-in gate, a navigation listing every page file):
    send it through the router first. Every page calls this before anything else."""
    if PagesManager.uses_pages_directory:
        st.switch_page("app.py")


def go_button(label: str, page: str, *, key: str, icon: str | None = None, **query: str) -> None:
    """A button that opens ``page`` (a path under pages/) with ``query`` as its query parameters."""
    if st.button(label, key=key, icon=icon):
        st.switch_page(page, query_params=query)
