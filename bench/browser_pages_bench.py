"""Every page in a real browser: the time from a navigation until the page has settled, for the province,
a city bureau and a provider, at 20,000 附件1 rows (target ≤ 1 s) or 100,000 (≤ 2 s); the server's CPU
seconds meanwhile; and what an idle open 进度看板 costs the server per minute (``--idle``).

    .venv/bin/python bench/browser_pages_bench.py [--rows 20000] [--repeat 3] [--idle 60] [--data-dir DIR]

``--data-dir`` keeps the store (and who signs in) in DIR and reuses it on the next run with the same
``--rows``: building 100,000 rows takes minutes. A reused store has the sign-ins of earlier runs in its trail.

A real ``streamlit run app.py`` on a store built once (demo rows, registers, demo accounts), driven by
Debian's Chromium through Playwright. Each page is opened ``--repeat`` times two ways: by its sidebar
link from 首页 (the same session, as a person moves between pages) and by loading its address afresh
(a new session, signed in by the session cookie: what a reload or a bookmark costs). Settled = the app
connected, its script not running, no "Running…" status, the page's title drawn, all held for 500 ms
(bench/_server.py); the time is from the click (or the navigation's start) to when that state began.
Prints figures, never pass/fail; the naive alternative of the idle board is the server with no viewer.

The first open of a page in a run (by its link: the way each page is first reached) is printed apart
from the later ones: it is the only one that may build what the page shares across sessions (the
board's figures from every row, a city's scope, the audit table), and folded into a median of two it
made the board "by link" read 23 s at 100,000 rows while every later open by link took 1-2 s. The
server builds the board's figures and the audit table in the background once its store opens
(``lib.ui.warm_up``); the run waits for the server to go quiet after the first sign-in, as a
person signing in after a start would find it. Unless ``--no-naive``, a second server with the warm-up
off (APP_WARM_UP=false, the naive alternative) is started first on the same store and the province's
first opens of 进度看板 and 审计日志 are measured on each.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _server import (  # noqa: E402
    ROOT,
    People,
    chromium,
    cpu_seconds,
    load_note,
    open_by_address,
    open_by_link,
    prepare_data,
    rss_mb,
    sidebar_links,
    signed_in,
    start_server,
    wait_quiet,
    wait_settled,
)

#: url path → the page's title (its st.title), in the order printed.
PAGES = {"board": "进度看板", "review": "审核", "my_submissions": "我的填报", "audit": "审计日志", "fill": "在线填报"}


def kept_data(data_dir: Path, rows: int) -> People:
    """The store in ``data_dir`` built by an earlier run at ``rows`` rows (its People beside it), or a new one
    built there (a folder that holds something else is refused rather than replaced)."""
    note = data_dir / "bench-people.json"
    if note.exists():
        kept = json.loads(note.read_text())
        if kept.pop("rows") != rows:
            raise SystemExit(f"{data_dir} holds a store of another size: remove it or give another --data-dir")
        print(f"reusing the store in {data_dir}")
        return People(**{k: tuple(v) if isinstance(v, list) else v for k, v in kept.items()})
    if data_dir.exists() and any(data_dir.iterdir()):
        raise SystemExit(f"{data_dir} is not empty and holds no bench store")
    start = time.perf_counter()
    people = prepare_data(data_dir, rows)
    note.write_text(json.dumps({"rows": rows, **dataclasses.asdict(people)}, ensure_ascii=False))
    print(f"store of {rows:,} 附件1 rows with registers and accounts built in {time.perf_counter() - start:.0f} s")
    return people


def target_ms(rows: int) -> float:
    return 1000 if rows <= 20_000 else 2000


def measure_role(browser, server, account: str, home: str, repeat: int) -> dict[str, dict[str, list[float]]]:
    """For each page of PAGES ``account`` may open: {"link": [ms…], "load": [ms…], "cpu": [CPU-s…]}, the
    first of "link" and of "cpu" being the page's first open in this session (by its link)."""
    found: dict[str, dict[str, list[float]]] = {}
    pid = server.proc.pid
    with signed_in(browser, server.url, account) as page:
        wait_settled(page, home)
        offered = set(sidebar_links(page))
        for key, title in PAGES.items():
            if key not in offered:
                continue
            runs = found[key] = {"link": [], "load": [], "cpu": []}
            for _ in range(repeat):
                open_by_link(page, "", home)  # from 首页
                before = cpu_seconds(pid)
                runs["link"].append(open_by_link(page, key, title))
                runs["cpu"].append(cpu_seconds(pid) - before)
                before = cpu_seconds(pid)
                runs["load"].append(open_by_address(page, f"{server.url}/{key}", title))
                runs["cpu"].append(cpu_seconds(pid) - before)
    return found


def started(data_dir: Path, warm_up: bool):
    """``streamlit run`` on ``data_dir`` with its background warm-up on or off (APP_WARM_UP)."""
    before = os.environ.get("APP_WARM_UP")
    os.environ["APP_WARM_UP"] = "true" if warm_up else "false"
    try:
        return start_server(data_dir)
    finally:
        os.environ.pop("APP_WARM_UP") if before is None else os.environ.__setitem__("APP_WARM_UP", before)


#: At most how long (s) a measurement waits for the server to be quiet first (``--quiet-within``).
QUIET_WITHIN = 90.0


def first_sign_in(browser, server, account: str, home: str) -> str:
    """Sign in once (the server opens its store, then warms up unless told not to) and wait until the
    server is quiet; what it took, said."""
    pid = server.proc.pid
    start, before = time.perf_counter(), cpu_seconds(pid)
    with signed_in(browser, server.url, account) as page:
        wait_settled(page, home)
    signed = time.perf_counter() - start
    quiet = wait_quiet(pid, within=QUIET_WITHIN)
    warmed = [line.split("已预热", 1)[1] for line in server.log.read_text(errors="replace").splitlines() if "已预热" in line]
    return (f"first sign-in (the server opens the store): {signed:.1f} s; quiet {quiet:.0f} s later, "
            f"server {cpu_seconds(pid) - before:.1f} CPU-s in all; warm-up: {'、'.join(warmed) or 'none'}")


def first_opens(browser, data_dir: Path, account: str, home: str, warm_up: bool) -> dict[str, tuple[float, float]]:
    """On a fresh server: the first open of 进度看板 and of 审计日志 by link after the first sign-in, each
    (ms to settle, server CPU-s)."""
    server = started(data_dir, warm_up)
    try:
        print(f"  warm-up {'on ' if warm_up else 'off'}: {first_sign_in(browser, server, account, home)}")
        found = {}
        with signed_in(browser, server.url, account) as page:
            wait_settled(page, home)
            for key in ("board", "audit"):
                open_by_link(page, "", home)
                before = cpu_seconds(server.proc.pid)
                found[key] = (open_by_link(page, key, PAGES[key]), cpu_seconds(server.proc.pid) - before)
        return found
    finally:
        server.stop()


def idle_board(browser, server, account: str, seconds: float) -> tuple[float, float]:
    """(server CPU-s per minute with nobody signed in, with one idle 进度看板 open), each over ``seconds``."""
    pid = server.proc.pid
    before = cpu_seconds(pid)
    time.sleep(seconds)
    alone = (cpu_seconds(pid) - before) * 60 / seconds
    with signed_in(browser, server.url, account) as page:
        open_by_address(page, f"{server.url}/board", PAGES["board"])
        before = cpu_seconds(pid)
        time.sleep(seconds)
        viewed = (cpu_seconds(pid) - before) * 60 / seconds
    return alone, viewed


def main() -> int:
    global QUIET_WITHIN
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=20_000, help="附件1 rows (附件3 a quarter as many)")
    parser.add_argument("--repeat", type=int, default=3, help="opens of each page each way")
    parser.add_argument("--idle", type=float, default=0, help="seconds of an idle open 进度看板 (0: not measured)")
    parser.add_argument("--roles", default="province,city,provider")
    parser.add_argument("--data-dir", type=Path, help="keep the store here and reuse it on the next run")
    parser.add_argument("--no-naive", action="store_true", help="skip the first opens on a server without its warm-up")
    parser.add_argument("--quiet-within", type=float, default=QUIET_WITHIN,
                        help="at most this long (s) waiting for the server to be quiet before measuring (the suite's run: less)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure is in a log as it is measured, even if the run is stopped
    QUIET_WITHIN = args.quiet_within  # noqa: F841 - the module's, declared global above

    from lib.forms import load_catalog

    home = load_catalog(ROOT / "forms").campaign.title
    target = target_ms(args.rows)
    with (contextlib.nullcontext(str(args.data_dir)) if args.data_dir
          else tempfile.TemporaryDirectory(prefix="browser-pages-")) as tmp:
        data_dir = Path(tmp) if args.data_dir else Path(tmp) / "data"
        people = kept_data(data_dir, args.rows)
        accounts = {"province": people.province, "city": people.city, "provider": people.provider}
        print(f"signing in as: {', '.join(f'{role} {accounts[role]}' for role in args.roles.split(','))} "
              f"(the provider has {people.provider_rows} own 附件1 rows)")
        if not args.no_naive:
            print(f"\nfirst opens after a server start (province, by link), without and with the warm-up; {load_note()}")
            with chromium() as browser:
                naive, warm = (first_opens(browser, data_dir, people.province, home, on) for on in (False, True))
            for key in ("board", "audit"):
                (cold, cold_cpu), (hot, hot_cpu) = naive[key], warm[key]
                print(f"  {key:8s} without {cold:7.0f} ms {cold_cpu:5.2f} CPU-s   with {hot:7.0f} ms {hot_cpu:5.2f} CPU-s"
                      f"   ratio {cold / hot:.1f}x wall, {cold_cpu / max(hot_cpu, 0.01):.1f}x CPU")
            print(f"  {load_note()}")
        server = started(data_dir, True)
        try:
            with chromium() as browser:
                pid = server.proc.pid
                print("\n" + first_sign_in(browser, server, people.province, home))
                print(f"\nmeasured with {load_note()}")
                print(f"{'page':16s}{'role':10s}{'first open: link':>17s}{'CPU-s':>7s}{'later by link: median':>23s}{'max':>9s}"
                      f"{'by address: median':>20s}{'max':>9s}{'later CPU-s/open: median':>26s}{'max':>6s}  target {target / 1000:.0f} s")
                for role in args.roles.split(","):
                    for key, runs in measure_role(browser, server, accounts[role], home, args.repeat).items():
                        first, link, load, cpu = runs["link"][0], runs["link"][1:] or runs["link"], runs["load"], runs["cpu"][1:]
                        worst = max(first, max(link), max(load))
                        print(f"{key:16s}{role:10s}{first:15.0f}ms{runs['cpu'][0]:7.2f}{statistics.median(link):21.0f}ms"
                              f"{max(link):7.0f}ms{statistics.median(load):18.0f}ms{max(load):7.0f}ms{statistics.median(cpu):24.2f}"
                              f"{max(cpu):8.2f}  {'within' if worst <= target else 'OVER'}")
                print(f"server RSS after the pages: {rss_mb(pid):.0f} MB; {load_note()}")
                if args.idle:
                    alone, viewed = idle_board(browser, server, people.province, args.idle)
                    print(f"\nidle over {args.idle:.0f} s: server with no viewer {alone:.2f} CPU-s/min (the naive floor); "
                          f"with one open 进度看板 (province) {viewed:.2f} CPU-s/min: "
                          f"{viewed - alone:.2f} CPU-s/min per viewer; {load_note()}")
        except BaseException:
            print(f"server log ({server.log}):\n" + server.log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
