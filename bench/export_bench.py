"""Figures for the Excel export (prints numbers and ratios; never pass/fail).

    .venv/bin/python bench/export_bench.py [--sizes 10000,50000] [--repeat 3]

Per size, in one run, on the same frame of 25 columns as an export holds them (Chinese texts short and
long, a city among eight, money as floats and as Decimals, a percent, dates, datetimes, integers,
booleans, yes/no/blank, lists, blanks):

* ``to_xlsx`` as the app writes it (``lib.office.excel``: a column at a time, straight into the XML);
* the writer it replaced (kept below as ``cell_by_cell``: XlsxWriter, one ``write_cell`` per cell);
* pandas ``DataFrame.to_excel(engine="xlsxwriter")`` on the same frame, its lists and Decimals made
  text and floats first (pandas refuses them; not timed), which types no column and keeps no rule.

Wall seconds are the best of ``--repeat`` runs (the old writer: one run), CPU seconds those of the same
run (split into the building thread's and the deflating thread's beside it); the load average is printed
before and after: on a busy machine wall time is the CPU's share. Also: the file's parts deflated at level 1
(what the writer uses) and 6 (zlib's default), and the import a fresh process pays before its first export.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import subprocess
import sys
import time
import zipfile
import zlib
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from lib.core.values import TWO_DECIMALS, xlsx_format  # noqa: E402
from lib.office.excel import CellFormats, column_width, read_workbook, to_xlsx, write_cell  # noqa: E402
from lib.xlsx.names import sheet_name  # noqa: E402

CITIES = ["广州市", "深圳市", "珠海市", "汕头市", "佛山市", "韶关市", "河源市", "梅州市"]
WORDS = "实施内容培训辅导项目维保数字化改造服务商企业名称统一社会信用代码联系人电话地址备注说明检查意见整改"
KINDS = {"奖补金额": "money", "合同金额": "money", "比例": "percent", "开始": "date", "结束": "date",
         "填报时间": "datetime", "审核时间": "datetime", "逾期天数": "integer", "核定金额": "money"}


def export_frame(n: int, seed: int = 1) -> pd.DataFrame:
    """``n`` rows of an export's 25 columns (the module docstring)."""
    rng = random.Random(seed)

    def words(least: int, most: int) -> str:
        return "".join(rng.choice(WORDS) for _ in range(rng.randint(least, most)))

    start = dt.datetime(2020, 9, 1, 8, 0)
    return pd.DataFrame({
        "记录编号": [f"R{i:06d}" for i in range(n)],
        "地市": [rng.choice(CITIES) for _ in range(n)],
        "企业名称": [words(6, 20) + "有限公司" for _ in range(n)],
        "信用代码": [f"91440{rng.randint(0, 10**13):013d}" for _ in range(n)],
        "服务商": [words(4, 12) for _ in range(n)],
        "联系人": [words(2, 3) for _ in range(n)],
        "电话": [f"0{rng.randint(10**9, 10**10)}" for _ in range(n)],
        "状态": [rng.choice(["已提交", "已退回", "已核定", None]) for _ in range(n)],
        "实施内容": [words(20, 120) if rng.random() < .9 else None for _ in range(n)],
        "备注": [words(0, 40) for _ in range(n)],
        "奖补金额": [round(rng.uniform(0, 50), 2) if rng.random() < .95 else None for _ in range(n)],
        "合同金额": [round(rng.uniform(0, 500), 4) for _ in range(n)],
        "比例": [round(rng.uniform(0, 100), 1) for _ in range(n)],
        "开始": [dt.date(2020, 1, 1) + dt.timedelta(days=rng.randint(0, 400)) if rng.random() < .9 else None for _ in range(n)],
        "结束": [dt.date(2020, 6, 1) + dt.timedelta(days=rng.randint(0, 400)) for _ in range(n)],
        "填报时间": pd.to_datetime([start + dt.timedelta(seconds=rng.randint(0, 10**7)) for _ in range(n)]),
        "审核时间": [start + dt.timedelta(seconds=rng.randint(0, 10**7)) if rng.random() < .7 else None for _ in range(n)],
        "逾期天数": [rng.randint(0, 30) for _ in range(n)],
        "员工数": [rng.randint(1, 5000) if rng.random() < .8 else None for _ in range(n)],
        "是否达标": [rng.random() < .5 for _ in range(n)],
        "是否抽中": [rng.choice([True, False, None]) for _ in range(n)],
        "服务类别": [rng.sample(["培训辅导", "项目维保", "数字化改造", "咨询"], rng.randint(0, 3)) for _ in range(n)],
        "附件": [[f"文件{k}.pdf" for k in range(rng.randint(0, 2))] for _ in range(n)],
        "核定金额": [Decimal(str(round(rng.uniform(0, 50), 2))) if rng.random() < .9 else None for _ in range(n)],
        "序号": list(range(1, n + 1)),
    })


def cell_by_cell(sheets: dict[str, pd.DataFrame], kinds=None) -> bytes:
    """The writer ``to_xlsx`` replaced: XlsxWriter, one ``write_cell`` per cell."""
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False,
                                     "strings_to_numbers": False, "nan_inf_to_errors": False})
    bold = book.add_format({"bold": True, "bg_color": "#EEF2F7", "border": 1, "text_wrap": True})
    formats = {kind: book.add_format({"num_format": xlsx_format(kind)}) for kind in ("money", "date", "datetime")}
    taken: set[str] = set()
    for name, frame in sheets.items():
        title = sheet_name(name, taken)
        taken.add(title)
        ws = book.add_worksheet(title)
        declared = (kinds or {}).get(name, {})
        for c, col in enumerate(frame.columns):
            ws.write_string(0, c, str(col), bold)
            ws.set_column(c, c, column_width(str(col), frame[col].head(200).tolist()))
        ws.freeze_panes(1, 0)
        for c, col in enumerate(frame.columns):
            kind = declared.get(str(col), "")
            fmt = CellFormats(formats, number=formats["money"] if kind in TWO_DECIMALS else None, guess=not kind)
            for r, value in enumerate(frame[col].tolist(), start=1):
                write_cell(ws, r, c, value, fmt)
        ws.autofilter(0, 0, len(frame), len(frame.columns) - 1)
    book.close()
    return out.getvalue()


def with_pandas(frame: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    frame.to_excel(out, sheet_name="明细", index=False, engine="xlsxwriter")
    return out.getvalue()


def pandas_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as pandas' writer takes it: lists as text, Decimals as floats (not timed)."""
    ready = frame.copy()
    for col in ("服务类别", "附件"):
        ready[col] = ready[col].map("；".join)
    ready["核定金额"] = ready["核定金额"].map(lambda v: None if v is None else float(v))
    return ready


def timed(write, repeat: int) -> tuple[float, float, bytes, float]:
    """Best wall seconds of ``repeat`` runs, that run's CPU seconds, what it wrote, and the CPU seconds of
    this thread alone (the rest ran in threads beside it: deflating the parts)."""
    best = None
    for _ in range(repeat):
        wall, cpu, mine = time.perf_counter(), time.process_time(), time.thread_time()
        data = write()
        run = (time.perf_counter() - wall, time.process_time() - cpu, data, time.thread_time() - mine)
        best = run if best is None or run[0] < best[0] else best
    return best


def deflate_levels(data: bytes) -> str:
    """The CPU seconds and size of deflating the file's parts at level 1 (what it uses) and 6 (zlib's default)."""
    parts = [(info, zipfile.ZipFile(io.BytesIO(data)).read(info)) for info in zipfile.ZipFile(io.BytesIO(data)).infolist()]
    figures = []
    for level in (1, 6):
        cpu = time.process_time()
        size = sum(len(zlib.compress(raw, level)) for _, raw in parts)
        figures.append(f"level {level}: {time.process_time() - cpu:.2f} s CPU, {size / 2**20:.1f} MiB")
    raw = sum(len(r) for _, r in parts)
    return f"{raw / 2**20:.0f} MiB of XML deflated at " + "; ".join(figures)


def import_cost() -> str:
    """Wall and CPU seconds a fresh process spends importing the writer (pandas, pyarrow, XlsxWriter) before its
    first export."""
    code = (f"import resource, sys, time; t = time.perf_counter(); sys.path.insert(0, {str(ROOT)!r}); import lib.office.excel; "
            "r = resource.getrusage(resource.RUSAGE_SELF); print(time.perf_counter() - t, r.ru_utime + r.ru_stime)")
    wall, cpu = map(float, subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    return f"{wall:.2f} s wall, {cpu:.2f} s CPU (once per server process; not in the figures above)"


def load() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10000,50000")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average (1/5/15 min) before: {load()}; {os.cpu_count()} CPUs")
    for n in (int(s) for s in args.sizes.split(",")):
        frame = export_frame(n)
        sheets, kinds = {"明细": frame}, {"明细": KINDS}
        ready = pandas_ready(frame)
        new_wall, new_cpu, new, new_main = timed(lambda s=sheets, k=kinds: to_xlsx(s, k), args.repeat)
        old_wall, old_cpu, old, _ = timed(lambda s=sheets, k=kinds: cell_by_cell(s, k), 1)
        pandas_wall, pandas_cpu, _, _ = timed(lambda r=ready: with_pandas(r), args.repeat)
        assert [s.rows for s in read_workbook(new)] == [s.rows for s in read_workbook(old)], "the writers disagree"
        print(f"\n{n:,} rows × {len(frame.columns)} columns ({n * len(frame.columns):,} cells)")
        print(f"  to_xlsx (column at a time)     {new_wall:7.2f} s wall  {new_cpu:7.2f} s CPU  {len(new) / 2**20:5.1f} MiB"
              f"   (building thread {new_main:.2f} s CPU, deflating beside it {new_cpu - new_main:.2f} s)")
        print(f"  old writer (cell by cell)      {old_wall:7.2f} s wall  {old_cpu:7.2f} s CPU  {len(old) / 2**20:5.1f} MiB"
              f"   ×{old_wall / new_wall:.1f} slower")
        print(f"  pandas to_excel (xlsxwriter)   {pandas_wall:7.2f} s wall  {pandas_cpu:7.2f} s CPU"
              f"   ×{pandas_wall / new_wall:.1f} slower")
        print(f"  same cells read back from the new and the old file: yes; load now {load()}")
        print(f"  its parts: {deflate_levels(new)}")
    print(f"\nimporting the writer in a fresh process: {import_cost()}; no fsync (the file is built in memory)")


if __name__ == "__main__":
    main()
