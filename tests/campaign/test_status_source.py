"""G7: the board's columns, totals and late list name the statuses from lib.core.statuses (the one
source), not by spelling them: with the word for a returned row changed there, the board follows.

The word is changed in a fresh interpreter before lib.campaign is imported (a reload inside the test
process would leave other tests holding the old classes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = r'''
import datetime as dt, json
import lib.core.statuses as s
NEW = "退回重填"
s.RETURNED = NEW
s.ALL = tuple(NEW if x == "退回修改" else x for x in s.ALL)
s.KEYS = {k: (NEW if v == "退回修改" else v) for k, v in s.KEYS.items()}
s.FILED = tuple(NEW if x == "退回修改" else x for x in s.FILED)
import pandas as pd
from lib.campaign.board.figures import compute_board
from tests.campaign.conftest import SHIPPED, att1, calendar_of, frame, voucher
cal = calendar_of(SHIPPED, cities=("广州",), titles={"att1": "附件1", "att2": "附件2", "att3": "附件3"},
                  deadlines={"att1": dt.date(2020, 9, 18), "att2": dt.date(2020, 9, 18), "att3": dt.date(2020, 9, 21)})
board = compute_board({"att1": frame(att1("V-000001", status=NEW))}, pd.DataFrame([voucher("V-000001")]), None, cal,
                      dt.date(2020, 9, 20))
gz = board.progress[(board.progress["地市"] == "广州") & (board.progress["表单"] == "附件1")]
print(json.dumps({"columns": list(board.progress.columns), "returned": int(gz[NEW].iloc[0]), "total": board.totals.get(NEW),
                  "late": sorted(board.late["事项"])}, ensure_ascii=False))
'''


def test_the_board_names_a_returned_row_by_the_status_word_of_lib_core_statuses():
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert "退回修改" not in got["columns"] and got["returned"] == 1 and got["total"] == 1
    assert "退回重填未重新提交 1 项" in got["late"]
