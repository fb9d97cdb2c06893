from pathlib import Path

from lib.core import statuses
from lib.forms import load_catalog

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_campaign_declares_the_statuses_the_code_compares_against():
    declared = load_catalog(ROOT / "forms").campaign.statuses
    assert declared == {name.lower(): getattr(statuses, name) for name in
                        ("DRAFT", "SUBMITTED", "RETURNED", "RESUBMITTED", "APPROVED", "WITHDRAWN")}
    assert tuple(declared.values()) == statuses.ALL
