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


def _states(**values: str):
    from streamlit.proto.WidgetStates_pb2 import WidgetStates

    states = WidgetStates()
    for wid, value in values.items():
        widget = states.widgets.add()
        widget.id = wid
        widget.string_value = value
    return states


def _fold_typed_then_page_change():
    """A field's value sent as a rerun that has not started, then a sidebar click (no widget state): the one
    rerun Streamlit makes of the two, as the script runner receives it."""
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    requests = ScriptRequests()
    requests.request_rerun(RerunData(widget_states=_states(client="草稿中的企业", city="佛山"), page_script_hash="fill"))
    requests.request_rerun(RerunData(widget_states=_states(), page_script_hash="mine"))
    return requests.on_scriptrunner_ready().rerun_data


def test_a_value_typed_just_before_a_page_change_is_kept(monkeypatch):
    from streamlit.runtime.scriptrunner_utils import script_requests

    monkeypatch.setattr(script_requests, "_coalesce_widget_states", script_requests._coalesce_widget_states)  # restored after
    from lib.ui import nav

    nav.keep_input_on_page_change()
    nav.keep_input_on_page_change()  # idempotent: app.py calls it on every run
    assert script_requests._coalesce_widget_states.keeps_input
    run = _fold_typed_then_page_change()
    assert run.page_script_hash == "mine"
    assert {w.id: w.string_value for w in run.widget_states.widgets} == {"client": "草稿中的企业", "city": "佛山"}


def test_a_newer_value_still_wins_over_an_older_one(monkeypatch):
    from streamlit.runtime.scriptrunner_utils import script_requests
    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    monkeypatch.setattr(script_requests, "_coalesce_widget_states", script_requests._coalesce_widget_states)
    from lib.ui import nav

    nav.keep_input_on_page_change()
    requests = ScriptRequests()
    requests.request_rerun(RerunData(widget_states=_states(client="甲", city="佛山"), page_script_hash="fill"))
    requests.request_rerun(RerunData(widget_states=_states(client="乙"), page_script_hash="fill"))
    run = requests.on_scriptrunner_ready().rerun_data
    assert {w.id: w.string_value for w in run.widget_states.widgets} == {"client": "乙", "city": "佛山"}


def test_streamlit_itself_drops_the_value_so_the_workaround_is_still_needed():
    """Without the workaround (a process that never ran app.py): the typed value is lost in the fold. When a
    Streamlit upgrade keeps it, this fails and ``nav.keep_input_on_page_change`` can go."""
    import subprocess
    import sys

    probe = textwrap.dedent("""
        import sys
        sys.path.insert(0, ROOT)
        from tests.ui.test_nav import _fold_typed_then_page_change
        print(sorted(w.id for w in _fold_typed_then_page_change().widget_states.widgets))
    """).replace("ROOT", repr(str(ROOT)))
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
