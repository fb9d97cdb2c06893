"""Figures for the Google Sheets backend, measured against the local Sheets API server.

    .venv/bin/python bench/sheets_bench.py [--scale 10]

Prints figures, asserts nothing. ``--scale 10`` (default) compresses time tenfold like the tests:
a 6 s quota window holding Google's 60 reads and 60 writes, sessions submitting every ~0.4 s,
a 1 s cache period; every ratio is kept, and figures are reported per real minute.
``--scale 1`` runs in real time (about three minutes). ``--demo-rows 0`` skips the start at
demo size (the default demo, 2,000 附件1 rows, migrated into a spreadsheet and opened afresh).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT)]

from cryptography.hazmat.primitives import serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from lib.core.records import is_pending  # noqa: E402
from lib.store.sheets.client import REQUEST_BUDGET_BYTES  # noqa: E402
from lib.store.sheets.store import open_sheets_store  # noqa: E402
from tests.sheets.fake_sheets import FakeSheets  # noqa: E402
from tests.store.store_cases import CITY, SPEC  # noqa: E402

EMAIL = "bench@bench.iam.gserviceaccount.com"


def start_server(window: float) -> tuple[FakeSheets, dict]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    server = FakeSheets(window_seconds=window).start()
    server.register_service_account(EMAIL, public)
    info = {"type": "service_account", "project_id": "bench", "private_key_id": "1", "private_key": private,
            "client_email": EMAIL, "token_uri": server.token_uri}
    return server, info


def bench_table(server: FakeSheets, info: dict, key: str, scale: float, **extra) -> dict:
    return {"spreadsheet_key": key, "service_account": info, "api_base_url": server.url,
            "quota_window_seconds": 60 / scale, "cache_seconds": 10 / scale, "backoff_base_seconds": 0.5 / scale,
            "backoff_max_seconds": 8 / scale, **extra}


def open_bench_store(server: FakeSheets, info: dict, data: Path, scale: float, **extra):
    key = server.create_spreadsheet("bench", share_with=EMAIL)
    store = open_sheets_store(bench_table(server, info, key, scale, **extra), data)
    store.ensure_sheet(SPEC)
    store.wait_idle(30)
    server.reset_counts()
    return store


def burst(server, info, data, scale: float, sessions=20, rows_each=15, viewers=50) -> None:
    store = open_bench_store(server, info, data / "burst", scale)
    minute = 60 / scale
    latencies, lock, stop = [], threading.Lock(), threading.Event()
    views = [0]

    def session(n: int) -> None:
        rnd = random.Random(n)
        begin = time.monotonic()
        for at in sorted(rnd.uniform(0, minute * 0.92) for _ in range(rows_each)):
            time.sleep(max(0.0, begin + at - time.monotonic()))
            t0 = time.monotonic()
            rec = store.append("site_check", {"project": f"会话{n}", "remark": "现场检查记录" * 20}, actor=CITY,
                               status="已提交")
            with lock:
                latencies.append((time.monotonic() - t0, is_pending(rec)))

    def viewer() -> None:
        while not stop.is_set():
            store.snapshot("site_check")
            views[0] += 1
            time.sleep(0.5 / scale)

    vs = [threading.Thread(target=viewer) for _ in range(viewers)]
    ss = [threading.Thread(target=session, args=(n,)) for n in range(sessions)]
    t0 = time.monotonic()
    for t in vs + ss:
        t.start()
    for t in ss:
        t.join()
    took = time.monotonic() - t0
    stop.set()
    for t in vs:
        t.join()
    store.wait_idle(60)
    c = server.counts
    rows = len(latencies)
    lat = sorted(x for x, _ in latencies)
    per_minute = 60 / (took * scale)
    print(f"burst: {sessions} sessions x {rows_each} rows = {rows} rows in {took * scale:.0f} s (real-time equivalent) "
          f"= {took * scale / 60:.2f} quota minutes (paced well: under 1.6)")
    print(f"  writes {c['write']} ({c['values.append']} log appends, {c['values.batchUpdate']} view patches, "
          f"{c['spreadsheets.batchUpdate']} grid changes) = {c['write'] / rows:.3f} write requests per row")
    print(f"  reads {c['read']} with {viewers} viewers each refreshing the board every 5 s "
          f"({views[0]} board views) = {c['read'] * per_minute:.1f} reads per minute")
    print(f"  429 answers: {c['429_write'] + c['429_read']}; queued (待同步): {sum(p for _, p in latencies)}")
    print(f"  submit latency p50 {statistics.median(lat) * 1000:.0f} ms, p95 {lat[int(rows * .95)] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms (time-compressed run: quota waits are {scale:g}x shorter)")
    store.close()


def latency(server, info, data, round_trip=0.3, n=12, every=1.2) -> None:
    """Real time (quota window 60 s, cache 10 s): one person submitting every ``every`` seconds."""
    server.window_seconds = 60.0
    server.reset_quota()  # a new quota minute, as for an app that has just started
    store = open_bench_store(server, info, data / "latency", 1.0)
    server.latency = round_trip
    lat = []
    for i in range(n):
        t0 = time.monotonic()
        store.append("site_check", {"project": f"单条{i}"}, actor=CITY, status="已提交")
        lat.append(time.monotonic() - t0)
        time.sleep(max(0.0, every - lat[-1]))
    server.latency = 0.0
    lat.sort()
    print(f"latency (real time): {n} single submissions with a simulated {round_trip * 1000:.0f} ms API round trip: "
          f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {lat[int(n * .95) - 1] * 1000:.0f} ms, "
          f"max {lat[-1] * 1000:.0f} ms")
    store.close()


def demo_start(server, info, data, scale: float, rows: int) -> None:
    """A start at demo size: every view is written from the log, in requests cut by size."""
    from lib.demo.campaign import seed_demo
    from lib.forms import load_catalog
    from lib.store.factory import open_store
    from lib.store.migrate import migrate, read_local_log

    local = data / "demo_local"
    seed_demo(lambda clock: open_store("local", data_dir=local, background=False, clock=clock),
              load_catalog(ROOT / "forms"), rows=rows)
    entries = read_local_log(local / "campaign.log.jsonl")
    server.window_seconds = 60 / scale
    server.reset_quota()
    key = server.create_spreadsheet("demo", share_with=EMAIL)
    first = open_sheets_store(bench_table(server, info, key, scale), data / "demo_migrate")
    migrate(entries, first, progress=lambda _: None)
    first.close()
    server.reset_counts()
    server.reset_quota()
    t0 = time.monotonic()
    store = open_sheets_store(bench_table(server, info, key, scale), data / "demo_start")
    done = store.wait_idle(300)
    took = time.monotonic() - t0
    c = server.counts
    print(f"start at demo size ({rows} 附件1 rows, {len(entries)} log entries): views {'complete' if done else 'INCOMPLETE'} "
          f"in {took:.1f} s (time-compressed {scale:g}x); {c['values.batchUpdate']} view writes, "
          f"{c['spreadsheets.batchUpdate']} grid changes, {c['read']} reads; largest request "
          f"{server.largest_request / 2**20:.2f} MiB (budget {REQUEST_BUDGET_BYTES / 2**20:.0f} MiB, Google's limit 10 MiB); "
          f"refused for size: {c['too_large']}; 429 answers: {c['429_write'] + c['429_read']}; problems: {store.problems()}")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scale", type=float, default=10.0, help="time compression (1 = real time)")
    parser.add_argument("--demo-rows", type=int, default=2000, help="附件1 rows of the demo start (0: skip it)")
    args = parser.parse_args()
    server, info = start_server(60 / args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            burst(server, info, Path(tmp), args.scale)
            if args.demo_rows:
                demo_start(server, info, Path(tmp), args.scale, args.demo_rows)
            latency(server, info, Path(tmp))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
