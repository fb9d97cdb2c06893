"""Figures for the local store (prints numbers and ratios; never pass/fail).

    .venv/bin/python bench/store_bench.py [--sizes 1000,20000,100000] [--naive-max 20000]

Per size (rows x 30 columns of realistic data): durable append median/p99 (background writer idle
and while it writes the workbook) beside the naive openpyxl load-append-save, warm snapshot,
cold start, workbook write time, time until a change is on disk, and peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lib.store import Actor, Column, LocalStore, SheetSpec  # noqa: E402
from lib.store.workbook import TEMP_SUFFIX  # noqa: E402

ACTOR = Actor("city_gz", "city", org="广州市住房和城乡建设局", city="广州")
CITIES = ["广州", "深圳", "珠海", "汕头", "佛山", "韶关", "河源", "梅州", "惠州", "汕尾", "东莞", "中山"]
KINDS = ["保障性住房", "市政道路", "学校", "医院", "产业园", "污水处理厂"]
ISSUES = ["质量", "安全", "进度", "资金", "资料", "环保"]
COLUMNS = (
    [Column("project", "项目名称"), Column("city", "所属地市"), Column("kind", "项目类型"), Column("builder", "建设单位"),
     Column("contractor", "施工单位"), Column("credit_code", "统一社会信用代码"), Column("amount", "合同金额（万元）", "number"),
     Column("paid", "已支付（万元）", "number"), Column("ratio", "完成比例", "number"), Column("start", "开工日期", "date"),
     Column("finish", "计划竣工日期", "date"), Column("visit", "检查日期", "date"), Column("workers", "在场人数", "integer"),
     Column("passed", "是否合格", "bool"), Column("issues", "问题类型", "list"), Column("contact", "联系人"),
     Column("phone", "联系电话"), Column("address", "项目地址"), Column("remark", "备注"),
     Column("people", "检查人员", "table")]
    + [Column(f"item{k}", f"检查项{k}") for k in range(10)]
)
SPEC = SheetSpec("site_check", "现场检查记录", tuple(COLUMNS))


def make_row(i: int, rnd: random.Random) -> dict:
    city = CITIES[i % len(CITIES)]
    amount = round(rnd.uniform(100, 50_000), 2)
    row = {
        "project": f"{city}市{rnd.choice(KINDS)}建设项目（第{i}号）",
        "city": city,
        "kind": rnd.choice(KINDS),
        "builder": f"{city}市城市建设投资集团有限公司",
        "contractor": f"广东省第{i % 9 + 1}建筑工程有限公司",
        "credit_code": f"91440{i:013d}",
        "amount": amount,
        "paid": round(amount * rnd.random(), 2),
        "ratio": round(rnd.random(), 4),
        "start": dt.date(2019, 1, 1) + dt.timedelta(days=i % 500),
        "finish": dt.date(2021, 6, 30) + dt.timedelta(days=i % 300),
        "visit": dt.date(2020, 9, 1) + dt.timedelta(days=i % 60),
        "workers": rnd.randint(5, 300),
        "passed": rnd.random() < 0.8,
        "issues": rnd.sample(ISSUES, rnd.randint(0, 3)),
        "contact": rnd.choice(["张伟", "王芳", "李娜", "刘洋", "陈静"]),
        "phone": f"+86 13{rnd.randint(100000000, 999999999)}",
        "address": f"广东省{city}市某某区某某路{i % 999}号",
        "remark": rnd.choice([None, "现场资料齐全，未发现明显问题。", "=需复核", "部分隐蔽工程验收记录缺失，已要求限期整改。"]),
        "people": [{"name": "张三", "phone": "13800138000"}, {"name": "李四", "role": "专家"}] if i % 4 == 0 else [],
    }
    for k in range(10):
        row[f"item{k}"] = rnd.choice(["符合", "基本符合", "不符合：详见整改通知书", "不适用"])
    return row


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
    ws = wb.add_worksheet("现场检查记录")
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
    book["现场检查记录"].append([to_cell(rows[0][c.key]) for c in COLUMNS])
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
            store.append("site_check", rows[i % len(rows)], actor=ACTOR, status="已提交")  # keeps it busy
            store._materialiser.nudge()
            time.sleep(0.002)
            i += 1
            continue
        started = time.perf_counter()
        store.append("site_check", rows[i % len(rows)], actor=ACTOR, status="已提交")
        samples.append(time.perf_counter() - started)
        i += 1
    return samples


MEMORY_PROBE = """
import sys, time
sys.path.insert(0, {root!r})
from lib.store import LocalStore
t = time.perf_counter()
s = LocalStore({folder!r}, background=False)
n = len(s.records("site_check")); frame = s.snapshot("site_check")
loaded = time.perf_counter() - t
{extra}
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (big) bench process across exec.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(n, loaded, hwm)
"""


def probe(folder: Path, extra: str = "") -> tuple[int, float, float]:
    code = MEMORY_PROBE.format(root=str(ROOT), folder=str(folder), extra=extra)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


def bench_size(n: int, naive_max: int, rnd: random.Random) -> dict[str, str]:
    rows = [make_row(i, rnd) for i in range(n)]
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="store-bench-") as tmp:
        folder = Path(tmp)
        loader = LocalStore(folder, background=False)
        loader.ensure_sheet(SPEC)
        started = time.perf_counter()
        for k in range(0, n, 5000):
            loader.append_many("site_check", rows[k:k + 5000], actor=ACTOR, status="已提交")
        out["bulk load (append_many, 5k/fsync)"] = f"{n / (time.perf_counter() - started):,.0f} rows/s"
        started = time.perf_counter()
        loader.flush_workbook()
        out["workbook write (materialise)"] = f"{time.perf_counter() - started:.2f} s"
        out["workbook size"] = f"{loader.workbook_path.stat().st_size / 2**20:.1f} MiB"
        loader.close()

        started = time.perf_counter()
        cold = LocalStore(folder, background=False)
        cold.records("site_check")
        out["cold start (open + replay log)"] = f"{time.perf_counter() - started:.2f} s"
        cold.snapshot("site_check")
        warm = []
        for _ in range(20):
            started = time.perf_counter()
            cold.snapshot("site_check")
            warm.append(time.perf_counter() - started)
        out["warm snapshot (no change since)"] = ms(statistics.median(warm))
        cold.append("site_check", rows[0], actor=ACTOR, status="已提交")
        started = time.perf_counter()
        cold.snapshot("site_check")
        out["snapshot after a change (rebuild)"] = ms(time.perf_counter() - started)
        cold.close()

        store = LocalStore(folder, background=True, debounce=0.3)
        store.flush_workbook(120)
        idle = timed_appends(store, rows, 300, while_writing=False)
        busy = timed_appends(store, rows, 200, while_writing=True)
        store.append("site_check", rows[1], actor=ACTOR, status="已提交")
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
    rnd = random.Random(20200910)
    results = {}
    for n in sizes:
        print(f"== {n:,} rows x {len(COLUMNS)} columns", flush=True)
        results[n] = bench_size(n, args.naive_max, rnd)
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
