"""A store that loaded many rows moves them out of the cyclic collector's reach (``gc.freeze``): Streamlit runs a
full collection after every script run, which would otherwise walk every row on every widget change (issue 17)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from lib.store.local.store import LocalStore
from lib.store.state import FREEZE_AFTER_ENTRIES
from tests.store.store_cases import CITY, SPEC


@pytest.fixture
def unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_opening_a_store_with_many_rows_freezes_what_it_loaded(tmp_path, unfrozen):
    writer = LocalStore(tmp_path, background=False)
    writer.ensure_sheet(SPEC)
    writer.append_many("site_check", [{"count": i, "project": f"项目{i}"} for i in range(FREEZE_AFTER_ENTRIES)],
                       actor=CITY, status="已提交")  # one batch line of many rows
    assert gc.get_freeze_count() == 0  # the writer applied its own rows: nothing loaded
    writer.close()
    reader = LocalStore(tmp_path, background=False)
    try:
        rows = reader.records("site_check")
        assert len(rows) == FREEZE_AFTER_ENTRIES
        assert gc.get_freeze_count() > len(rows)  # every record (and its values) in the permanent generation
    finally:
        reader.close()


def test_a_store_with_few_rows_freezes_nothing(tmp_path, unfrozen):
    store = LocalStore(tmp_path, background=False)
    store.ensure_sheet(SPEC)
    store.append("site_check", {"count": 1}, actor=CITY, status="已提交")
    store.close()
    again = LocalStore(tmp_path, background=False)
    try:
        assert again.records("site_check") and gc.get_freeze_count() == 0
    finally:
        again.close()


def test_the_server_runs_no_full_collection_after_each_script_run():
    """Streamlit's own ``gc.collect(2)`` after every script run walks every object the server keeps, frozen
    store aside (boards, figures, sessions): 44 % of the server's CPU while rows were filed beside 27 open
    boards (bench/sessions_bench.py); the served config turns it off (Python's generational collector still runs)."""
    import tomllib

    from streamlit import config

    served = tomllib.loads((Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert served["runner"]["postScriptGC"] is False
    assert "runner.postScriptGC" in config._config_options_template  # the option Streamlit reads (script_runner._on_script_finished)
