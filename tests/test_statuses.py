"""Row statuses are declared once, in lib/core/statuses.py (issue 12, outcome 3): a campaign file does
not declare them, may restate them exactly, and is refused at load when it changes one; no page or
app.py spells a status word."""

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
#: Page texts that hold a status word without naming the status, with the reason.
NOT_A_STATUS = {"保存草稿": "the button that saves a draft names the action, not a row's status"}


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


def status_texts(paths: list[Path]) -> list[tuple[str, int, str]]:
    """(file name, line, text) of each string constant (f-string parts included) holding a status word."""
    found = []
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value not in NOT_A_STATUS \
                    and any(word in node.value for word in statuses.ALL):
                found.append((path.name, node.lineno, node.value))
    return found


def test_no_page_spells_a_status_word():
    # Pages compare against and show lib.core.statuses' names (or lib.review's groups of them).
    assert status_texts([*sorted((ROOT / "pages").glob("*.py")), ROOT / "app.py"]) == []


def test_the_scan_finds_a_status_word_inside_a_page_text(tmp_path):
    page = tmp_path / "page.py"
    page.write_text('import streamlit as st\nst.toggle(f"只看{kind}（已提交）")\nst.button("保存草稿")\n', encoding="utf-8")
    assert status_texts([page]) == [("page.py", 2, "（已提交）")]
