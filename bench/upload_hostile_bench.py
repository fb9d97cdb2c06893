"""Hostile uploads benchmark: what the issue's three workbooks (one cell at XFD1048576, a
shared-strings zip bomb, a 2,000-row register with a stray cell at XFD1) and an honest 20,000-row
register cost the server process now: wall time of the bounded read, and the peak memory of this
process (the reading subprocesses are capped by the setting upload_read_memory_mb).

    .venv/bin/python bench/upload_hostile_bench.py

Before the bounds: the first aborted the process (a 512 GiB allocation), the second took 3.3 GB and
the third 1.4 GB on every rerun.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.office.excel import read_upload  # noqa: E402
from lib.xlsx.bounds import ExcelReadError, WorkbookLimits  # noqa: E402
from tests.io.xlsx_parts import Sheet, cell, row, table, xlsx  # noqa: E402

HEADER = ["服务券编号", "企业名称", "统一社会信用代码", "服务商", "地市", "年度", "奖补金额（万元）", "兑现状态"]


def register(n: int) -> str:
    return table([HEADER] + [[f"SYQ-2019-4401-{i:05d}", f"企业{i}", "91440101MA59ABCDEM", "服务商甲", "广州", 2019, 1.5, "已兑现"]
                             for i in range(n)])


def main() -> None:
    limits = WorkbookLimits.defaults()
    bomb = f'<sst xmlns="x"><si><t>{"A" * (3300 << 20 >> 4)}</t></si></sst>'  # 206 MB unpacked, over the 100 MB limit
    cases = {
        "one cell at XFD1048576": xlsx([Sheet("S", row(1048576, cell("XFD1048576", 1)))]),
        "shared-strings zip bomb": xlsx([Sheet("S", row(1, '<c r="A1" t="s"><v>0</v></c>'))], shared_xml=bomb, level=9),
        "2,000 rows + stray XFD1": xlsx([Sheet("S", register(2000).replace('<row r="1">', f'<row r="1">{cell("XFD1", "x")}', 1))]),
        "honest 20,000-row register": xlsx([Sheet("S", register(20_000))]),
    }
    built = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{'upload':30} {'size':>9} {'seconds':>8}  outcome")
    for name, data in cases.items():
        start = time.perf_counter()
        try:
            sheets = read_upload(data, limits)
            outcome = f"read {len(sheets[0].rows)} rows"
        except ExcelReadError as refused:
            outcome = f"refused: {refused.code}"
        print(f"{name:30} {len(data) / 1024:8.0f}K {time.perf_counter() - start:8.2f}  {outcome}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {built:.0f} MB after building the files, {peak:.0f} MB after reading them all "
          f"(each reading subprocess is capped at {limits.memory_bytes >> 20} MB)")


if __name__ == "__main__":
    main()
