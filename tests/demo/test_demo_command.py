"""``python -m lib.demo`` returns only with the workbook whole: ``verify`` calls it 一致 right after (issue 17 found
it half-written at 20,000 rows, the background writer stopped in the middle of its last write at exit)."""

from __future__ import annotations

from lib.demo.__main__ import main
from lib.store.local import materialiser
from lib.store.local.store import LocalStore
from lib.store.local.verify import verify
from tests.forms.conftest import ROOT


def test_the_demo_command_leaves_a_workbook_verify_calls_consistent(tmp_path, monkeypatch):
    # A background writer that cannot finish in time, as at 20,000 rows: stopped at once.
    real_stop = materialiser.MaterialiserProcess.stop
    monkeypatch.setattr(materialiser.MaterialiserProcess, "stop", lambda self, timeout=15.0: real_stop(self, 0.0))
    data = tmp_path / "demo"
    assert main(["--rows", "60", "--data-dir", str(data), "--forms", str(ROOT / "forms")]) == 0
    with LocalStore(data, background=False) as store:
        report = verify(store)
    assert report.ok, report
