"""Every session_state key (a widget's ``key`` included) is named in lib/ui/state.py: a key spelled
where it is used can drift from the copy another module reads, or collide with another area's."""

from __future__ import annotations

import ast
from pathlib import Path

from lib.ui import state

ROOT = Path(__file__).resolve().parents[2]
#: Modules whose keys still live beside them; their owner moves them to the functions state.py has
#: for them (state.BOARD_*, board_table_key, drill_*_key; issue 11).
NOT_YET: set[str] = set()


def _spelled(node: ast.AST) -> bool:
    """A key written as a literal (``"x"`` or ``f"x:{y}"``) rather than taken from lib.ui.state."""
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _session_state(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "session_state"


def spelled_keys(path: Path) -> list[int]:
    """The lines of ``path`` that spell a session key."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            keys = [k.value for k in node.keywords if k.arg == "key"]
            func = node.func
            if isinstance(func, ast.Attribute) and node.args and (
                func.attr == "form" or (func.attr in ("get", "pop", "setdefault") and _session_state(func.value))
            ):
                keys.append(node.args[0])
            if any(_spelled(k) for k in keys):
                found.add(node.lineno)
        elif isinstance(node, ast.Subscript) and _session_state(node.value) and _spelled(node.slice):
            found.add(node.lineno)
    return sorted(found)


def test_no_session_key_is_spelled_outside_lib_ui_state():
    files = [*sorted((ROOT / "lib" / "ui").glob("*.py")), *sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]
    checked = [p.relative_to(ROOT).as_posix() for p in files]
    spelled = {where: lines for where in checked if where not in NOT_YET and where != "lib/ui/state.py"
               for lines in [spelled_keys(ROOT / where)] if lines}
    assert spelled == {}


def test_the_check_sees_every_way_of_spelling_a_key(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('import streamlit as st\nst.button("x", key="a:b")\nst.session_state["c"] = 1\n'
                    'st.session_state.get(f"d:{1}")\nwith st.form("e"):\n    pass\nst.button("y", key=K)\n'
                    'st.session_state[K] = st.session_state.get(K)\n', encoding="utf-8")
    assert spelled_keys(page) == [2, 3, 4, 5]


def test_field_keys_cannot_take_the_place_of_the_fill_pages_own_keys():
    own = {f(form_id="f") for f in (state.editing_key, state.outcome_key, state.receipt_key, state.submitted_key,
                                     state.token_key, state.baseline_key, state.load_warnings_key, state.open_key, state.offer_key)}
    for name in ("editing", "outcome", "receipt", "submitted", "token", "baseline", "load_warnings", "open", "offer", "button"):
        assert state.field_key("f", name) not in own and state.table_count_key("f", name) not in own
