"""The router's one workaround (lib.ui.nav.navigation): Streamlit runs a process's first script run in
its legacy pages/ mode when a pages/ folder sits beside the main script, and st.navigation switches that
mode off. These tests fail if a Streamlit upgrade changes either, so the workaround can be dropped then."""

from __future__ import annotations

import textwrap
from pathlib import Path

from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[2]

ROUTER = textwrap.dedent("""
    import sys
    sys.path.insert(0, ROOT)
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager

    from lib.ui import nav

    st.session_state.setdefault("legacy", []).append(PagesManager.uses_pages_directory)

    def page():
        st.session_state["drawn"] = st.session_state.get("drawn", 0) + 1
        st.write("首页")

    nav.navigation([st.Page(page, title="首页", default=True)]).run()
""")


def router_beside_a_pages_folder(tmp_path: Path) -> Path:
    (tmp_path / "pages").mkdir()
    main = tmp_path / "app.py"
    main.write_text(ROUTER.replace("ROOT", repr(str(ROOT))), encoding="utf-8")
    return main


def test_the_first_run_beside_a_pages_folder_is_legacy_and_is_rerun_once(tmp_path):
    at = AppTest.from_file(str(router_beside_a_pages_folder(tmp_path)), default_timeout=30).run()
    assert not at.exception
    # Streamlit still starts in its legacy pages/ mode (the behaviour worked around) and st.navigation
    # still ends it: the router ran twice, the second time not in legacy mode, and then no more.
    assert at.session_state["legacy"] == [True, False]
    assert [m.value for m in at.markdown] == ["首页"] and at.session_state["drawn"] == 1


def test_without_a_pages_folder_nothing_is_rerun(tmp_path):
    main = tmp_path / "app.py"
    main.write_text(ROUTER.replace("ROOT", repr(str(ROOT))), encoding="utf-8")
    at = AppTest.from_file(str(main), default_timeout=30).run()
    assert not at.exception
    assert at.session_state["legacy"] == [False]


def test_the_workaround_lives_in_one_module():
    """Streamlit's legacy pages/ mode is read in lib/ui/nav.py and nowhere else in the app, so a
    Streamlit upgrade that ends it means changing one file (these tests say when)."""
    readers = sorted(str(p.relative_to(ROOT)) for base in ("lib", "pages") for p in (ROOT / base).rglob("*.py")
                     if "PagesManager" in p.read_text(encoding="utf-8"))
    readers += ["app.py"] if "PagesManager" in (ROOT / "app.py").read_text(encoding="utf-8") else []
    assert readers == ["lib/ui/nav.py"]
