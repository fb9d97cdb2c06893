"""Test tiers, by where a test lives: ``browser`` (a real Streamlit server driven by Chromium) and
``slow`` (crash, multi-process, load and 20k-row tests). The fast lane is
``./dev test -m "not browser and not slow"``; CI runs everything."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
SLOW = {  # files whose every test starts processes, kills them or writes tens of thousands of rows
    "store/test_crash.py",
    "store/test_concurrency.py",
    "sheets/test_sheets_load.py",
    "sheets/test_sheets_two_servers.py",
}
SLOW_TESTS = {  # tests of large sizes in files that are otherwise quick
    "test_workbook_at_20000_rows_reflects_a_change",
    "test_twenty_thousand_rows_have_distinct_names_vouchers_and_codes",  # tests/demo/test_seed.py
    "test_demo_sized_views_are_written_at_start_and_rebuilt_within_the_request_limit",  # 2,000-row demo, ~12 MB of views
}


def pytest_collection_modifyitems(items):
    for item in items:
        try:
            where = Path(item.path).resolve().relative_to(TESTS).as_posix()
        except ValueError:  # doctests under lib/
            continue
        if where.startswith("browser/"):
            item.add_marker(pytest.mark.browser)
        if where in SLOW or item.originalname in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
    # The long files first (the browser journeys, then the other slow ones), each file's tests kept together and
    # in order: the workers (``--dist loadfile`` hands files out in this order) then end on short files together
    # instead of one of them starting a minute-long journey while the others are done.
    tier: dict[Path, int] = {}
    for item in items:
        mine = 0 if item.get_closest_marker("browser") else 1 if item.get_closest_marker("slow") else 2
        tier[item.path] = min(tier.get(item.path, mine), mine)
    items.sort(key=lambda item: tier[item.path])


@pytest.fixture(autouse=True)
def _workbook_edits_settle_at_once(monkeypatch):
    """In this process a person's saved workbook counts as settled at once (the background writer child
    keeps the real wait): a test's file is written whole before the store looks. tests/store/test_save_race.py
    and test_external.py set the waits they test themselves."""
    from lib.store.local import external

    monkeypatch.setattr(external, "SETTLE", 0.0)
    monkeypatch.setattr(external, "UNREADABLE_PATIENCE", 0.0)
