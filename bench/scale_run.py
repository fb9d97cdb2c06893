"""Issue 17's figures in one run: every scale bench one after another, each with the load average before
and after it, into one file (``bench/results/scale-<date>.txt`` by default) that the README's issue-17
table is read from. Nothing runs in parallel, so one bench never slows another.

    .venv/bin/python bench/scale_run.py [--out FILE] [--only NAME[,NAME]] [--quick] [--keep DIR]

``--quick`` runs each at a tiny size (to see that the run works, in a minute or two); the README's table
comes from a full run on a quiet machine (load average below 1 before it starts: the script waits up to
five minutes for that and says so when it does not come). A full run takes about 30-40 minutes, most of
it building 100,000-row stores. ``--keep DIR`` keeps the browser benches' stores in DIR (``d20k``, ``d100k``)
and reuses them on the next run (``browser_pages_bench.py --data-dir``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: (name, script, full-size arguments, quick arguments)
BENCHES = [
    ("snapshot", "snapshot_bench.py", ["--sizes", "20000,100000"], ["--sizes", "1000", "--repeat", "2"]),
    ("checkpoint", "checkpoint_bench.py", ["--sizes", "20000,100000", "--repeat", "3"], ["--sizes", "1000"]),
    ("workbook", "workbook_bench.py", ["--sizes", "20000,100000"], ["--sizes", "1000"]),
    ("export", "export_bench.py", ["--sizes", "50000", "--repeat", "3"], ["--sizes", "1000", "--repeat", "1"]),
    ("board", "board_bench.py", ["--sizes", "20000", "100000", "--no-page"], ["--sizes", "1000", "--no-page"]),
    ("pages", "pages_bench.py", ["--att1", "20000"], ["--att1", "500"]),
    ("browser_pages", "browser_pages_bench.py", ["--rows", "20000", "--repeat", "3", "--idle", "60", "KEEP:d20k"],
     ["--rows", "200", "--repeat", "1", "--idle", "5", "--roles", "province"]),
    ("browser_pages_100k", "browser_pages_bench.py", ["--rows", "100000", "--repeat", "2", "--idle", "30", "KEEP:d100k"],
     None),
    ("sessions", "sessions_bench.py", ["--sessions", "30", "--rows", "20000", "--submits", "10"],
     ["--rows", "200", "--sessions", "3", "--submitters", "1", "--browsers", "1", "--submits", "1", "--idle", "5"]),
]


def kept(arguments: list[str], keep: Path | None) -> list[str]:
    """``arguments`` with ``KEEP:name`` as ``--data-dir KEEP/name`` (or dropped without ``--keep``)."""
    out = []
    for argument in arguments:
        if not argument.startswith("KEEP:"):
            out.append(argument)
        elif keep is not None:
            out += ["--data-dir", str(keep / argument.removeprefix("KEEP:"))]
    return out


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def wait_quiet(limit: float = 1.0, patience: float = 300.0) -> str:
    """Wait (up to ``patience`` s) for the 1-minute load average to fall below ``limit``; say how it went."""
    deadline = time.monotonic() + patience
    while float(load().split()[0]) >= limit and time.monotonic() < deadline:
        time.sleep(5)
    return load()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / f"scale-{dt.date.today():%Y%m%d}.txt")
    parser.add_argument("--only", default="", help="comma-separated bench names")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--keep", type=Path, help="where the browser benches keep their stores")
    args = parser.parse_args()
    only = {name for name in args.only.split(",") if name}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    failed = []
    with args.out.open("w", encoding="utf-8") as out:
        head = (f"# scale run {dt.datetime.now():%Y-%m-%d %H:%M}, commit "
                f"{subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()}, "
                f"{os.cpu_count()} cores, {'quick' if args.quick else 'full'}\n")
        out.write(head)
        print(head, end="", flush=True)
        for name, script, full, quick in BENCHES:
            chosen = quick if args.quick else full
            if chosen is None or (only and name not in only):
                continue
            chosen = kept(chosen, args.keep)
            before = load() if args.quick else wait_quiet()
            started = time.monotonic()
            done = subprocess.run([sys.executable, str(ROOT / "bench" / script), *chosen], cwd=ROOT,
                                  capture_output=True, text=True, timeout=3600)
            took = time.monotonic() - started
            block = (f"\n## {name}: {script} {' '.join(chosen)}\n## load before {before}, after {load()}, "
                     f"{took:.0f} s, exit {done.returncode}\n{done.stdout}")
            if done.returncode:
                failed.append(name)
                block += f"\n## stderr\n{done.stderr[-4000:]}"
            out.write(block)
            out.flush()
            print(block, end="", flush=True)
    print(f"\nwritten to {args.out}" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
