"""Row statuses are declared once, in lib/core/statuses.py (issue 12, outcome 3): a campaign file does
not declare them, may restate them exactly, and is refused at load when it changes one."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.core import statuses
from lib.forms import FormDefinitionError, load_catalog
from lib.forms.loader import parse_campaign

ROOT = Path(__file__).resolve().parents[1]
CAMPAIGNS = [ROOT / "forms", ROOT / "tests" / "campaigns" / "other"]
RESTATED = "statuses:\n" + "".join(f"  {key}: {word}\n" for key, word in statuses.KEYS.items())


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
