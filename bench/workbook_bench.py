"""Figures for the workbook writer (prints numbers and ratios; never pass/fail).

    .venv/bin/python bench/workbook_bench.py [--sizes 1000,20000,100000]

Per size (附件1 rows from bench/store_bench.py's generator, one audit entry each), in one run:

* in process: the first write (every block built), a write after one changed row (only its block built,
  the rest copied) beside the whole-file rewrite this replaced (xlsxwriter, ``write_workbook_whole``);
* the first change after a writer starts (a new store, its memory empty): the blocks taken back from the file
  on disk through its index, beside the same write with the index removed (every block built, as before);
* through the background writer, as the app runs it: time from a durable append until the file on disk
  holds it (without asking: poll + debounce + write; and asked, as flush_workbook does), what a tail of
  sign-in events costs (nothing should be written), and the writer process's peak memory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.store_bench import ACTOR, FORM_ID, SPEC, demo_rows  # noqa: E402
from lib.store.local import materialiser  # noqa: E402
from lib.store.local.store import LocalStore  # noqa: E402
from lib.store.local.workbook import (  # noqa: E402
    WorkbookParts,
    index_path,
    layout,
    matching_stamp,
    write_workbook,
    write_workbook_whole,
)

_LIVENESS = 600.0  # seconds; a bound for a busy machine, not a figure


def _cut(store: LocalStore) -> tuple:
    """The arguments materialise hands the writer, from the store's state now."""
    with store.reading() as state:
        sheets = layout(state.specs, state.columns)
        rows = {s.form_id: list(state.rows.get(s.form_id, {}).values()) for s in sheets}
        return (sheets, rows, list(state.audit), {f: s.title for f, s in state.specs.items()},
                {f: state.labels(f) for f in state.specs}, {f: state.displays(f) for f in state.specs})


def _timed(write, path: Path, *args) -> float:
    started = time.perf_counter()
    tmp = write(path, *args)
    elapsed = time.perf_counter() - started
    tmp.unlink()
    return elapsed


def _first_change(folder: Path, values: dict, *, index: bool) -> tuple[float, int]:
    """Seconds a restarted writer (a new store: empty memory) takes to write the file after one new row, and
    the blocks it built; ``index=False`` removes the index first (every block built, as before it existed)."""
    with LocalStore(folder, background=False) as store:
        if not index:
            index_path(store.workbook_path).unlink()
        store.append(FORM_ID, values, actor=ACTOR, status="已提交")
        started = time.perf_counter()
        materialiser.materialise(store)
        return time.perf_counter() - started, materialiser._written(store).parts.rebuilt()


def _wait_for_file(store: LocalStore) -> float:
    """Seconds until the stamp (the file on disk) covers everything in the log now."""
    target, started = store.log.offset, time.perf_counter()
    while True:
        stamp = matching_stamp(store.workbook_path)
        if stamp and stamp["offset"] >= target:
            return time.perf_counter() - started
        if time.perf_counter() - started > _LIVENESS:
            raise TimeoutError("the background writer did not write")
        time.sleep(0.01)


def _writer_peak_mib(store: LocalStore) -> float:
    pid = store.workbook_writer().pid
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) / 1024


def bench_size(n: int, seed: int) -> dict[str, str]:
    rows = demo_rows(n, seed)
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="workbook-bench-") as tmp:
        folder = Path(tmp)
        with LocalStore(folder, background=False) as loader:
            loader.ensure_sheet(SPEC)
            for k in range(0, n, 5000):
                loader.append_many(FORM_ID, rows[k:k + 5000], actor=ACTOR, status="已提交")
            path = loader.workbook_path
            parts = WorkbookParts()
            first = _timed(write_workbook, path, *_cut(loader), parts)
            loader.append(FORM_ID, rows[0], actor=ACTOR, status="已提交")
            incremental = _timed(write_workbook, path, *_cut(loader), parts)
            rebuilt = parts.rebuilt()
            whole = _timed(write_workbook_whole, path, *_cut(loader))
            loader.flush_workbook()
            size = path.stat().st_size
        out["first write (parts writer, every block built)"] = f"{first:.2f} s"
        out["write after one new row (incremental)"] = f"{incremental:.3f} s ({rebuilt} blocks built)"
        out["whole rewrite (xlsxwriter, the old path)"] = f"{whole:.2f} s"
        out["ratio whole / incremental"] = f"{whole / incremental:,.0f}x"
        out["workbook size"] = f"{size / 2**20:.1f} MiB"
        built, built_n = _first_change(folder, rows[4], index=False)
        taken, taken_n = _first_change(folder, rows[5], index=True)
        out["first change after writer start, no index (every block built)"] = f"{built:.2f} s ({built_n} blocks)"
        out["first change after writer start, blocks taken back"] = f"{taken:.2f} s ({taken_n} blocks built)"
        out["ratio no index / taken back"] = f"{built / taken:,.1f}x"

        store = LocalStore(folder, background=True, debounce=0.3)
        try:
            store.append(FORM_ID, rows[3], actor=ACTOR, status="已提交")
            started = time.perf_counter()
            assert store.flush_workbook(_LIVENESS)
            out["append -> in the file, writer just started (caches empty)"] = f"{time.perf_counter() - started:.2f} s"
            store.append(FORM_ID, rows[1], actor=ACTOR, status="已提交")
            out["append -> in the file, unasked (poll + 0.3 s debounce + write)"] = f"{_wait_for_file(store):.2f} s"
            store.append(FORM_ID, rows[2], actor=ACTOR, status="已提交")
            started = time.perf_counter()
            assert store.flush_workbook(_LIVENESS)
            asked = time.perf_counter() - started
            out["append -> in the file, asked (flush_workbook)"] = f"{asked:.2f} s"
            out["ratio whole rewrite / asked"] = f"{whole / asked:,.1f}x"
            before = os.stat(store.workbook_path).st_mtime_ns
            for i in range(5):
                store.log_event(ACTOR, "登录", note=f"bench {i}")
            time.sleep(3.0)  # 15 polls and the debounce: the writer had every chance to write
            unchanged = os.stat(store.workbook_path).st_mtime_ns == before
            out["5 sign-in events, 3 s later"] = ("no write (file unchanged)" if unchanged else "REWRITTEN") + \
                f"; the old writer rewrote all: {whole:.2f} s"
            started = time.perf_counter()
            assert store.flush_workbook(_LIVENESS)
            out["events then asked (flush_workbook)"] = f"{time.perf_counter() - started:.2f} s"
            out["peak RSS: workbook writer process"] = f"{_writer_peak_mib(store):.0f} MiB"
        finally:
            store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    args = parser.parse_args()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"== {n:,} rows of {FORM_ID} + {n:,} audit entries", flush=True)
        for key, value in bench_size(n, seed=20200910 + n).items():
            print(f"  {key:62} {value}", flush=True)
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)


if __name__ == "__main__":
    main()
