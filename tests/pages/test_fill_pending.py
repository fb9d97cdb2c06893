"""The fill page on the Google Sheets backend: a submission made while the spreadsheet cannot be
reached is kept on this machine and shown to its author as 待同步, then delivered."""

from __future__ import annotations

import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.demo.seed import generate
from lib.store.factory import open_store
from lib.ui import state
from lib.ui.widgets import to_widget_value
from tests.sheets.fake_sheets import FakeSheets, secrets_for_test_server

from .conftest import sign_in

ROOT = Path(__file__).resolve().parents[2]


def test_submission_while_sheets_is_down_is_shown_as_pending_then_lands(app_env, catalog, monkeypatch, tmp_path):
    server = FakeSheets().start()
    try:
        table = secrets_for_test_server(server)
        monkeypatch.setenv("APP_STORE_BACKEND", "gsheets")
        row = generate(catalog, rows=20, seed=5)["att1"][0]
        at = AppTest.from_file(str(ROOT / "pages" / "fill.py"), default_timeout=60)
        at.secrets["gsheets"] = table
        sign_in(at, row.actor)
        at.query_params["form"] = "att1"
        at.run()
        assert not at.exception
        form = catalog.form("att1")
        for spec in form.all_fields():
            if spec.type == "table":
                rows = row.values.get(spec.key) or []
                at.session_state[state.table_count_key(form.id, spec.key)] = len(rows)
                for i, r in enumerate(rows):
                    for sub in spec.fields:
                        at.session_state[state.table_cell_key(form.id, spec.key, i, sub.key)] = to_widget_value(sub, r.get(sub.key))
            elif not spec.calculation:
                at.session_state[state.field_key(form.id, spec.key)] = to_widget_value(spec, row.values.get(spec.key))

        server.stop()  # Google unreachable past the retry budget
        at.run()
        at = next(b for b in at.button if b.label == "提交").click().run()
        assert not at.exception
        shown = "\n".join(w.value for w in at.warning)
        assert "待同步" in shown

        server.start()  # back: the row is delivered, exactly once
        other = open_store("gsheets", data_dir=tmp_path / "other", gsheets=table)
        try:
            deadline = time.monotonic() + 60  # a bound on a stuck test: the outbox's next try comes after its backoff, later on a busy machine
            while time.monotonic() < deadline and not other.records("att1"):
                time.sleep(0.3)
                other.refresh()
            landed = other.records("att1")
            assert len(landed) == 1 and landed[0].values["voucher_no"] == row.values["voucher_no"]
        finally:
            other.close()
    finally:
        server.stop()
