"""Cold start from a checkpoint plus the log after it, beside a replay of the whole log (issue 17, outcome 1).

    .venv/bin/python bench/checkpoint_bench.py [--sizes 1000,20000,100000] [--tail 1000] [--repeat 1]

Per size (附件1 rows from the demo generator, bench/store_bench.demo_rows, loaded 5,000 rows a line): the
checkpoint's write time and size beside the log's; then, in fresh processes on the same files, opening
the store by replaying the log alone (the naive way: what a store without a checkpoint does, since issue 17
with the cyclic collector paused during the load, as for a checkpoint) and from the checkpoint plus a
tail of ``--tail`` entries written after it (single appends and updates, one log line each), with the
ratio, the CPU time and the peak memory of each, and what a fresh process pays before either (the
imports). Also the identity of the log prefix a checkpoint covers, checked at every load and computed at
every save: the SHA-256 of the whole prefix (what catches a hand edit anywhere in it, attack Q7) beside
hashing only the log's head and the 64 KiB before the offset (the scheme before, which missed it). Prints
figures, never pass/fail; the load average before and after is printed too (the machine is shared).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from store_bench import ACTOR, FORM_ID, SPEC, demo_rows  # noqa: E402

from lib.store.local.store import LocalStore  # noqa: E402

PROBE = """
import resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
c0, t0 = cpu(), time.perf_counter()
sys.path.insert(0, {root!r})
from lib.store.local.store import LocalStore
c, t = cpu(), time.perf_counter()
imported = (t - t0, c - c0)
s = LocalStore({folder!r}, background=False, use_checkpoint={use!r})
n = len(s.records({form_id!r}))
wall, used = time.perf_counter() - t, cpu() - c
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(n, wall, used, hwm, s.checkpoint.covers, *imported)
"""


def probe(folder: Path, use: bool) -> tuple[int, float, float, float, int, float, float]:
    """Open the store in a fresh process: rows, wall s, CPU s, peak MiB, checkpoint offset used, and the
    wall and CPU seconds of importing the store (pandas, pyarrow …) before it, not counted in the others."""
    code = PROBE.format(root=str(ROOT), folder=str(folder), use=use, form_id=FORM_ID)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]), float(out[1]), float(out[2]), int(out[3]) / 1024, int(out[4]), float(out[5]), float(out[6])


def head_and_before(fd: int, offset: int) -> str:
    """The prefix identity before attack Q7: the log's first 4 KiB and the 64 KiB before ``offset``."""
    start = max(0, offset - 64 * 1024)
    return hashlib.sha256(os.pread(fd, min(offset, 4096), 0)).hexdigest() + hashlib.sha256(
        os.pread(fd, offset - start, start)).hexdigest()


def timed(fn, repeat: int = 3) -> tuple[float, float]:
    """The best wall and CPU seconds of ``repeat`` calls of ``fn``."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - started, time.process_time() - cpu))
    return best


def bench_size(n: int, tail: int, repeat: int) -> dict[str, str]:
    rows = demo_rows(n, seed=17)
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="checkpoint-bench-") as tmp:
        folder = Path(tmp)
        with LocalStore(folder, background=False) as store:
            store.ensure_sheet(SPEC)
            for k in range(0, n, 5000):
                store.append_many(FORM_ID, rows[k:k + 5000], actor=ACTOR, status="已提交")
            started, cpu = time.perf_counter(), time.process_time()
            store.checkpoint.save(store)
            out["checkpoint write (in the background writer)"] = (
                f"{time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")
            size = store.checkpoint.path.stat().st_size
            offset = store.log.offset
            whole = timed(lambda: store.log.prefix_identity(offset))
            fd = os.open(store.log_path, os.O_RDONLY)
            try:
                part = timed(lambda: head_and_before(fd, offset))
            finally:
                os.close(fd)
            out["log prefix identity: SHA-256 of all of it"] = f"{whole[0]:.3f} s wall, {whole[1]:.3f} s CPU (at each load and save)"
            out["log prefix identity: head + 64 KiB (before Q7)"] = (
                f"{part[0] * 1000:.2f} ms wall, {part[1] * 1000:.2f} ms CPU; the whole prefix costs "
                f"{whole[0] - part[0]:.3f} s more ({whole[0] / part[0]:.0f}x)")
            out["checkpoint size / log size"] = (f"{size / 2**20:.1f} MiB / {store.log.offset / 2**20:.1f} MiB")
            recs = store.records(FORM_ID)
            for i in range(tail):  # the tail: one line each, as people submit and review
                if i % 2:
                    rec = recs[i % len(recs)]
                    store.update(FORM_ID, rec.id, base_rev=store.get(FORM_ID, rec.id).rev, actor=ACTOR, status="已退回")
                else:
                    store.append(FORM_ID, rows[i % len(rows)], actor=ACTOR, status="已提交")
            out["log tail after the checkpoint"] = f"{tail} entries, {(store.log.offset - store.checkpoint.covers) / 2**10:.0f} KiB"
        replay = [probe(folder, use=False) for _ in range(repeat)]
        loaded = [probe(folder, use=True) for _ in range(repeat)]
        assert all(p[4] == 0 for p in replay) and all(p[4] > 0 for p in loaded)
        assert {p[0] for p in replay} == {p[0] for p in loaded}  # the same rows either way
        best_r, best_c = min(replay, key=lambda p: p[1]), min(loaded, key=lambda p: p[1])
        out["cold start: replay the whole log (naive)"] = f"{best_r[1]:.2f} s wall, {best_r[2]:.2f} s CPU, peak {best_r[3]:.0f} MiB"
        out["cold start: checkpoint + tail"] = f"{best_c[1]:.2f} s wall, {best_c[2]:.2f} s CPU, peak {best_c[3]:.0f} MiB"
        out["ratio replay / checkpoint"] = f"{best_r[1] / best_c[1]:.1f}x wall, {best_r[2] / best_c[2]:.1f}x CPU"
        out["before either: importing the store"] = (f"{best_c[5]:.2f} s wall, {best_c[6]:.2f} s CPU (pandas, pyarrow …; "
                                                     "paid once by a process, not counted above)")
        out["files a checkpoint start reads"] = (
            f"{size / 2**20:.0f} MiB of checkpoint (mapped) + the {offset / 2**20:.0f} MiB log prefix it covers (hashed) "
            f"+ the tail; no fsync. From the page cache here: a cold disk at 500 MB/s would add "
            f"~{(size + offset) / 5e8:.2f} s of wall")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,20000,100000")
    parser.add_argument("--tail", type=int, default=1000, help="log entries written after the checkpoint")
    parser.add_argument("--repeat", type=int, default=1, help="cold starts of each kind per size (the best is shown)")
    args = parser.parse_args()
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} ({os.cpu_count()} cores)")
    for n in (int(s) for s in args.sizes.split(",")):
        print(f"\n== {n:,} rows ==", flush=True)
        for label, value in bench_size(n, args.tail, args.repeat).items():
            print(f"  {label:48s} {value}", flush=True)
    print(f"\nload average after: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
