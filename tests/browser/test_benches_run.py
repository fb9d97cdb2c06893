"""The browser benches (bench/browser_pages_bench.py, bench/sessions_bench.py) still run: at a tiny size
each exits 0 and prints every figure it is for. Their figures are not judged here (timings belong in
bench/, not in tests); only that the scripts have not rotted as the pages change."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_the_pages_bench_times_every_page_of_each_role_and_the_idle_board():
    # The province only (it opens every page there is): the suite's time budget, not the script, decides it;
    # the other roles take the same code path with another account.
    # --no-naive: not the two extra server starts that time first opens without the warm-up (the suite's budget)
    out = run("browser_pages_bench.py", "--rows", "200", "--repeat", "1", "--idle", "3", "--roles", "province", "--no-naive",
              "--quiet-within", "4")
    # page, role, first open by link (ms, CPU-s), later by link (median, max), by address (median, max), CPU-s per
    # later open (median, max), against the target
    rows = re.findall(r"^(\w+)\s+(province|city|provider)\s+(\d+)ms\s+([\d.]+)\s+(\d+)ms\s+(\d+)ms\s+(\d+)ms\s+(\d+)ms"
                      r"\s+([\d.]+)\s+([\d.]+)\s+(within|OVER)$", out, re.M)
    seen = {(page, role) for page, role, *_ in rows}
    for page in ("board", "review", "my_submissions", "audit", "fill"):
        assert (page, "province") in seen, out
    assert all(int(ms) > 0 for _, _, first, _, later, _, address, *_ in rows for ms in (first, later, address)), out
    assert re.search(r"with one open 进度看板 \(province\) [\d.]+ CPU-s/min", out), out


def test_the_sessions_bench_times_submits_beside_viewers_and_reads_the_servers_memory():
    # one viewer, one submitter over the protocol, one in Chromium: each kind of session the bench holds
    out = run("sessions_bench.py", "--rows", "200", "--sessions", "3", "--submitters", "1", "--browsers", "1", "--submits", "1",
              "--idle", "3", "--settle", "1", "--quiet-within", "4")
    assert re.search(r"^\s+1 sessions on the board: server RSS \d+ MB", out, re.M), out
    assert re.search(r"^\s+3 sessions on the board: server RSS \d+ MB", out, re.M), out
    assert re.search(r"memory per session, 1→3 sessions: -?[\d.]+ MB \(naive, a snapshot copy per viewer: [\d.]+ MB", out), out
    assert re.search(r"1 submitters over the protocol and 1 in Chromium filing 1 附件1 rows each beside 1 board viewers, "
                     r"\d+ s: server [\d.]+ CPU-s", out), out
    for how in (r"over the protocol \(提交 → 提交成功 received; the server's answer\)",
                r"in Chromium \(提交 → 提交成功 shown; the page drawn too\)"):
        assert re.search(rf"submit round trip {how}, 1 rows: p50 \d+ ms, p95 \d+ ms", out), out
    assert "rows the submitters filed, in the store: 2 (2 receipts)" in out, out  # each receipt a row written
    assert "refused" not in out and "failed" not in out, out
