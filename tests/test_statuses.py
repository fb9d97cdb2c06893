"""Row statuses are declared once, in lib/core/statuses.py (issue 12, outcome 3): a campaign file does
not declare them, may restate them exactly, and is refused at load when it changes one; no page,
app.py, page helper (lib/ui) or board (lib/campaign) spells a status word."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lib.core import statuses
from lib.forms import FormDefinitionError, load_catalog
from lib.forms.loader import parse_campaign

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGNS = [ROOT / "forms", ROOT / "tests" / "campaigns" / "other"]
RESTATED = "statuses:\n" + "".join(f"  {key}: {word}\n" for key, word in statuses.KEYS.items())
#: Phrases of page texts that hold a status word without naming the status, with the reason.
NOT_A_STATUS = {
    "保存草稿": "the button that saves a draft names the action, not a row's status",
    "草稿已保存": "what 保存草稿 did, in the button's words",
    "已提交（状态：": "the fill page's offer says the row was filed, then names its status as the row holds it",
}
#: Where texts a person sees are written: the pages, app.py, the pages' helpers and the boards' tables.
SHOWN = [*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py", *sorted((ROOT / "lib" / "ui").rglob("*.py")),
         *sorted((ROOT / "lib" / "campaign").rglob("*.py"))]


def test_the_keys_name_every_status_once_in_the_order_of_all():
    assert tuple(statuses.KEYS.values()) == statuses.ALL and len(set(statuses.KEYS)) == len(statuses.ALL)
    assert set(statuses.CLOSED) < set(statuses.ALL)


@pytest.mark.parametrize("folder", CAMPAIGNS, ids=lambda p: p.name)
def test_the_campaign_files_leave_the_statuses_to_the_application(folder):
    assert "\nstatuses:" not in (folder / "campaign.yaml").read_text(encoding="utf-8")
    assert load_catalog(folder).campaign.statuses == statuses.KEYS


def test_a_campaign_file_that_restates_the_statuses_exactly_still_loads():
    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8")
    assert parse_campaign(text + RESTATED).statuses == statuses.KEYS


@pytest.mark.parametrize("change", [
    ("  approved: 已通过\n", "  approved: 审核通过\n"),  # renamed
    ("  withdrawn: 已撤回\n", ""),  # dropped
    ("  withdrawn: 已撤回\n", "  withdrawn: 已撤回\n  archived: 已归档\n"),  # added
], ids=["renamed", "dropped", "added"])
def test_a_campaign_file_that_changes_a_status_is_refused_at_its_line(change):
    text = (ROOT / "forms" / "campaign.yaml").read_text(encoding="utf-8") + RESTATED.replace(*change)
    line = text.splitlines().index("statuses:") + 1
    with pytest.raises(FormDefinitionError) as refused:
        parse_campaign(text)
    assert [(p.code, p.where) for p in refused.value.problems] == [("invalid_definition", f"campaign.yaml 第 {line} 行")]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring nodes of ``tree`` (for the reader of the code: never shown)."""
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def status_texts(paths: list[Path]) -> list[tuple[str, int, str]]:
    """(file path, line, text) of each string constant (f-string parts included, docstrings not)
    holding a status word outside the phrases of ``NOT_A_STATUS``."""
    found = []
    for path in paths:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or id(node) in docs:
                continue
            text = node.value
            for phrase in NOT_A_STATUS:
                text = text.replace(phrase, "")
            if any(word in text for word in statuses.ALL):
                name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
                found.append((name, node.lineno, node.value))
    return sorted(found)


def test_no_page_or_page_helper_or_board_spells_a_status_word():
    # They compare against and show lib.core.statuses' names (or its groups of them, or lib.review's).
    assert {p.relative_to(ROOT).parts[0] for p in SHOWN} == {"pages", "app.py", "lib"}
    assert status_texts(SHOWN) == []


def test_the_scan_finds_a_status_word_inside_a_page_text_but_not_in_a_docstring_or_an_action(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('"""只看已提交的记录。"""\nimport streamlit as st\nst.toggle(f"只看{kind}（已提交）")\n'
                    'st.button("保存草稿")\nst.error("保存草稿后退回修改")\n', encoding="utf-8")
    assert [(line, text) for _, line, text in status_texts([page])] == [(3, "（已提交）"), (5, "保存草稿后退回修改")]
