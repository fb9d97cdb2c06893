"""Figures for the local store (prints numbers and ratios; never pass/fail).

    .venv/bin/python bench/store_bench.py [--sizes 1000,20000,100000] [--naive-max 20000]

Per size (附件1 rows from the demo generator, lib.demo.seed.generate: 25 fields + 10 system columns): durable append median/p99 (background writer idle
and while it writes the workbook) beside the naive openpyxl load-append-save, warm snapshot,
cold start, workbook write time, the cost of a person's re-save (bounds check, read, compare with
the log, rewrite), time until a change is on disk, and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.core.records import Actor  # noqa: E402
from lib.demo.seed import generate  # noqa: E402
from lib.forms import load_catalog  # noqa: E402
from lib.forms.columns import sheet_spec  # noqa: E402
from lib.store.base import SYSTEM_COLUMNS  # noqa: E402
from lib.store.local.store import LocalStore  # noqa: E402
from lib.store.local.workbook import TEMP_SUFFIX  # noqa: E402

FORMS = load_catalog(ROOT / "forms")
#: The 附件1 sheet: 25 columns of Chinese text, money, dates, selects, a list and a table of contacts.
SPEC = sheet_spec(FORMS.form("att1"))
COLUMNS = list(SPEC.columns)
FORM_ID = SPEC.form_id
ACTOR = Actor("provider_001", "provider", org="广州云智信息科技有限公司", city="广州")


def demo_rows(n: int, seed: int) -> list[dict]:
    """``n`` 附件1 rows from the demo generator (every row valid for the form)."""
    return [r.values for r in generate(FORMS, rows=n, seed=seed)["att1"]]


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def naive_openpyxl(folder: Path, n: int, rows: list[dict]) -> float:
    """openpyxl load -> append one row -> save on a workbook of ``n`` rows (written with xlsxwriter)."""
    import openpyxl
    import xlsxwriter

    from lib.store.codec import to_cell

    path = folder / "naive.xlsx"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    ws = wb.add_worksheet(SPEC.title[:31])
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws.write_row(0, 0, [c.label for c in COLUMNS])
    for r, row in enumerate(rows[:n], start=1):
        for c, col in enumerate(COLUMNS):
            cell = to_cell(row[col.key])
            if isinstance(cell, dt.date):
                ws.write_datetime(r, c, cell, date_fmt)
            elif cell is not None:
                ws.write(r, c, cell)
    wb.close()
    started = time.perf_counter()
    book = openpyxl.load_workbook(path)
    book[SPEC.title[:31]].append([to_cell(rows[0][c.key]) for c in COLUMNS])
    book.save(path)
    return time.perf_counter() - started


def timed_appends(store: LocalStore, rows: list[dict], count: int, while_writing: bool) -> list[float]:
    """Durable append latencies; with ``while_writing`` only those taken while a workbook write runs."""
    samples: list[float] = []
    folder = store.data_dir
    deadline = time.monotonic() + 60
    i = 0
    while len(samples) < count and time.monotonic() < deadline:
        if while_writing and not any(folder.glob(f"*{TEMP_SUFFIX}")):
            store.append(FORM_ID, rows[i % len(rows)], actor=ACTOR, status="已提交")  # keeps it busy
            store.write_workbook_soon()
            time.sleep(0.002)
            i += 1
            continue
        started = time.perf_counter()
        store.append(FORM_ID, rows[i % len(rows)], actor=ACTOR, status="已提交")
        samples.append(time.perf_counter() - started)
        i += 1
    return samples


MEMORY_PROBE = """
import sys, time
sys.path.insert(0, {root!r})
from lib.store import LocalStore
t = time.perf_counter()
s = LocalStore({folder!r}, background=False)
n = len(s.records({form_id!r})); frame = s.snapshot({form_id!r})
loaded = time.perf_counter() - t
{extra}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (big) bench process across exec.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(n, loaded, hwm)
"""


def probe(folder: Path, extra: str = "") -> tuple[int, float, float]:
    code = MEMORY_PROBE.format(root=str(ROOT), folder=str(folder), extra=extra, form_id=FORM_ID)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


def bench_size(n: int, naive_max: int, seed: int) -> dict[str, str]:
    rows = demo_rows(n, seed)
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        folder = Path(tmp)
        loader = LocalStore(folder, background=False)
        loader.ensure_sheet(SPEC)
        started = time.perf_counter()
        for k in range(0, n, 5000):
            loader.append_many(FORM_ID, rows[k:k + 5000], actor=ACTOR, status="已提交")
        out["bulk load (append_many, 5k/fsync)"] = f"{n / (time.perf_counter() - started):,.0f} rows/s"
        started = time.perf_counter()
        loader.flush_workbook()
        out["workbook write (materialise)"] = f"{time.perf_counter() - started:.2f} s"
        out["workbook size"] = f"{loader.workbook_path.stat().st_size / 2**20:.1f} MiB"
        os.utime(loader.workbook_path)  # a person's re-save with no change: the stamp no longer matches
        audited = len(loader.audit())
        started = time.perf_counter()
        loader.flush_workbook()
        assert len(loader.audit()) == audited  # an unchanged file leaves no trace
        out["re-saved workbook: check, read, compare, rewrite"] = f"{time.perf_counter() - started:.2f} s"
        loader.close()

        started = time.perf_counter()
        cold = LocalStore(folder, background=False)
        cold.records(FORM_ID)
        out["cold start (open + replay log)"] = f"{time.perf_counter() - started:.2f} s"
        cold.snapshot(FORM_ID)
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            cold.snapshot(FORM_ID)
            warm.append(time.perf_counter() - started)
        out["warm snapshot (no change since)"] = ms(statistics.median(warm))
        cold.append(FORM_ID, rows[0], actor=ACTOR, status="已提交")
        started = time.perf_counter()
        cold.snapshot(FORM_ID)
        out["snapshot after a change (rebuild)"] = ms(time.perf_counter() - started)
        cold.close()

        store = LocalStore(folder, background=True, debounce=0.3)
        store.flush_workbook(120)
        idle = timed_appends(store, rows, 300, while_writing=False)
        busy = timed_appends(store, rows, 200, while_writing=True)
        store.append(FORM_ID, rows[1], actor=ACTOR, status="已提交")
        started = time.perf_counter()
        store.flush_workbook(300)
        out["change on disk after (flush_workbook)"] = f"{time.perf_counter() - started:.2f} s"
        store.close()
        out["append median / p99 (writer idle)"] = f"{ms(statistics.median(idle))} / {ms(pct(idle, 0.99))}"
        out["append median / p99 (during workbook write)"] = (
            f"{ms(statistics.median(busy))} / {ms(pct(busy, 0.99))} ({len(busy)} samples)" if busy else "no samples")

        _, _, rss = probe(folder)
        out["peak RSS: app process (open + records + snapshot)"] = f"{rss:.0f} MiB"
        _, _, rss_w = probe(folder, "s.flush_workbook()")
        out["peak RSS: workbook writer process"] = f"{rss_w:.0f} MiB"

        if n <= naive_max:
            naive = naive_openpyxl(folder, n, rows)
            out["naive openpyxl load-append-save"] = f"{naive:.2f} s"
            out["ratio naive / durable append median"] = f"{naive / statistics.median(idle):,.0f}x"
        else:
            out["naive openpyxl load-append-save"] = "skipped (too slow); linear extrapolation from the largest measured size"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--naive-max", type=int, default=20000, help="largest size to run the naive openpyxl baseline at")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results = {}
    for n in sizes:
        print(f"== {n:,} rows x {len(COLUMNS) + len(SYSTEM_COLUMNS)} columns ({len(COLUMNS)} fields + {len(SYSTEM_COLUMNS)} system)", flush=True)
        results[n] = bench_size(n, args.naive_max, seed=20200910 + n)
        for key, value in results[n].items():
            print(f"  {key:52} {value}", flush=True)
    measured = [n for n in sizes if n <= args.naive_max]
    if measured and any(n > args.naive_max for n in sizes):
        base = max(measured)
        secs = float(results[base]["naive openpyxl load-append-save"].split()[0])
        for n in sizes:
            if n > args.naive_max:
                print(f"  naive at {n:,} rows, extrapolated linearly from {base:,}: ~{secs * n / base:.0f} s")
    print(f"bench process peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
