"""The README claims only what exists: its pages table lists exactly the pages app.py registers, and its
settings table exactly the settings lib/settings.py declares, with their defaults (issue 12, outcome 7)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from lib.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _table(heading: str) -> list[list[str]]:
    """The rows (cells stripped) of the first table under ``## heading`` in the README."""
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows[2:]]  # past header and rule


def _registered_pages() -> dict[str, str]:
    """Page title -> file, from app.py's PAGES table (read, not run: app.py is a Streamlit script)."""
    tree = ast.parse((ROOT / "app.py").read_text(encoding="utf-8"))
    table = next(node.value for node in tree.body if isinstance(node, ast.Assign)
                 and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets))
    return {title: path for path, title, _icon in ast.literal_eval(table).values()}


def test_the_pages_table_lists_the_registered_pages_and_no_other():
    documented = [row[0] for row in _table("Pages")]
    assert sorted(documented) == sorted([*_registered_pages(), "登录"])
    assert all((ROOT / path).is_file() for path in _registered_pages().values())


def test_the_settings_table_lists_every_setting_with_its_default():
    rows = {re.fullmatch(r"`(\w+)`", row[0]).group(1): row[1] for row in _table("Settings")}
    assert list(rows) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        shown = rows[setting.name]
        if setting.default:
            assert shown == f"`{setting.default}`", setting.name
        else:
            assert shown.startswith("(empty"), setting.name  # an empty default says what it means
