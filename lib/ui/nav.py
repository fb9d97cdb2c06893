"""Navigation: the router's ``st.navigation`` and the two workarounds it needs (Streamlit's legacy pages/
mode, ``PagesManager``: read here and nowhere else; a page change that drops input still on its way to the
server, ``keep_input_on_page_change``), and links between
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


def keep_input_on_page_change() -> None:
    """Keep what a person typed just before clicking another page in the sidebar.

    The browser sends a field's value (on Enter or leaving the field) as a rerun request, and a click on a
    page link as another one that carries no widget state at all. When the first has not started yet (the
    server is busy with a run: .streamlit/config.toml queues reruns, ``runner.fastReruns = false``),
    Streamlit folds the two into one (``script_requests._coalesce_widget_states``) and keeps, of the earlier
    request, only button clicks: the value is lost, and the fill page shows the last saved answer when the
    person comes back (a CI run lost 企业名称 so). Here the fold keeps every value of the earlier request that
    the later one does not name, so the value reaches the session as if its own run had gone first (the fill
    widgets persist across pages). Idempotent; app.py calls it on each run. tests/ui/test_nav.py fails if a
    Streamlit upgrade changes the fold (or mends it); tests/browser/test_slow_server.py shows it in Chromium."""
    from streamlit.runtime.scriptrunner_utils import script_requests

    fold = script_requests._coalesce_widget_states
    if getattr(fold, "keeps_input", False):
        return

    def keeping(old_states, new_states):
        merged = fold(old_states, new_states)
        if not old_states or merged is None:
            return merged
        named = {w.id for w in merged.widgets}
        merged.widgets.extend(w for w in old_states.widgets if w.id not in named)
        return merged

    keeping.keeps_input = True
    script_requests._coalesce_widget_states = keeping


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
