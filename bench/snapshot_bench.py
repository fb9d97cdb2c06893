"""The snapshot after a change, brought up to date from the previous one, beside a full build of the frame
(what every snapshot after a change cost before issue 17), in the same run. Prints figures and ratios;
never pass/fail.

    .venv/bin/python bench/snapshot_bench.py [--sizes 1000,20000,100000] [--repeat 15]

Per size (附件1 rows from the demo generator, ``store_bench.demo_rows``; 25 fields + 10 system columns, a
local store without its workbook writer): the median time (wall and CPU) of ``store.snapshot`` after one append, after one
update (a value and the status), after a burst of 10 appends; the full build of the same frame; the ratio.
Each incremental frame is checked equal to the full build once (outside the timings). The load average is
printed before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pandas.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store_bench import ACTOR, FORM_ID, SPEC, demo_rows  # noqa: E402

from lib.store.frames import build_frame  # noqa: E402
from lib.store.local.store import LocalStore  # noqa: E402


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.2f} ms"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def full_build(store: LocalStore):
    """The frame built from every record, as ``State.frame`` did after any change before issue 17."""
    with store.reading() as state:
        return build_frame(list(state.rows[FORM_ID].values()), state.columns(FORM_ID))


def timed_snapshot(store: LocalStore) -> tuple[float, float]:
    """Wall and CPU seconds of one snapshot (CPU: what it costs when the machine is shared)."""
    started, cpu = time.perf_counter(), time.process_time()
    store.snapshot(FORM_ID)
    return time.perf_counter() - started, time.process_time() - cpu


def bench_size(n: int, repeat: int, seed: int) -> dict[str, str]:
    rows = demo_rows(n + 10 * repeat + repeat, seed)
    base, extra = rows[:n], iter(rows[n:])
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="snapshot-bench-") as tmp:
        store = LocalStore(Path(tmp), background=False)
        store.ensure_sheet(SPEC)
        for k in range(0, n, 5000):
            store.append_many(FORM_ID, base[k:k + 5000], actor=ACTOR, status="已提交")
        store.snapshot(FORM_ID)  # the first frame: a full build, as after a start

        def after(change) -> list[tuple[float, float]]:
            samples = []
            for _ in range(repeat):
                change()
                samples.append(timed_snapshot(store))
            assert_frame_equal(store.snapshot(FORM_ID), full_build(store), check_dtype=True, check_exact=True)
            return samples

        ids = [r.id for r in store.records(FORM_ID)[: repeat]]
        updates = iter(ids)

        def update() -> None:
            rid = next(updates)
            rec = store.get(FORM_ID, rid)
            store.update(FORM_ID, rid, base_rev=rec.rev, actor=ACTOR, status="已退回",
                         values={"remarks": f"核对第 {rec.rev} 次"})

        def burst() -> None:
            for _ in range(10):
                store.append(FORM_ID, next(extra), actor=ACTOR, status="已提交")

        one = after(lambda: store.append(FORM_ID, next(extra), actor=ACTOR, status="已提交"))
        upd = after(update)
        ten = after(burst)
        full = []
        for _ in range(max(3, repeat // 5)):
            started, cpu = time.perf_counter(), time.process_time()
            full_build(store)
            full.append((time.perf_counter() - started, time.process_time() - cpu))
        store.close()
    naive = [statistics.median(s[i] for s in full) for i in (0, 1)]
    out["full build of the frame (before issue 17)"] = f"{ms(naive[0])} wall, {ms(naive[1])} CPU"
    for label, samples in (("after one append", one), ("after one update", upd), ("after a burst of 10 appends", ten)):
        wall, cpu = (statistics.median(s[i] for s in samples) for i in (0, 1))
        out[f"snapshot {label}"] = (f"{ms(wall)} wall, {ms(cpu)} CPU (max {ms(max(s[0] for s in samples)).strip()} wall; "
                                    f"full build / this: {naive[0] / wall:,.0f}x wall, {naive[1] / cpu:,.0f}x CPU)")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--repeat", type=int, default=15, help="changes timed per kind (medians printed)")
    args = parser.parse_args()
    print(f"start: {load()} on {os.cpu_count()} cores", flush=True)
    for n in [int(s) for s in args.sizes.split(",")]:
        print(f"== {n:,} rows x {len(SPEC.columns) + 10} columns", flush=True)
        for key, value in bench_size(n, args.repeat, seed=20200910 + n).items():
            print(f"  {key:44} {value}", flush=True)
        print(f"  ({load()})", flush=True)


if __name__ == "__main__":
    main()
