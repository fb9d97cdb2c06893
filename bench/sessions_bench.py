"""Many people on one server: ``--sessions`` signed-in sessions (30) at ``--rows`` 附件1 rows (20,000), most
of them viewing 进度看板 (the province and the city bureaus in turn), ``--submitters`` of them (3) providers
who file 附件1 rows through 在线填报 while the others keep viewing, and ``--browsers`` more (1) who do the
same in real Chromium.

    .venv/bin/python bench/sessions_bench.py [--sessions 30] [--rows 20000] [--submitters 3] [--browsers 1] [--submits 5]

What it measures is the server, not the browsers: the viewers hold their sessions over Streamlit's own
websocket protocol (``_server.StreamViewers``: the server runs their page, and their board's clock ticks
every 5 s as in a visible tab, redrawing when the data changed), and so do the submitters
(``_filler.ProtocolFiler``: each field entered is a rerun with every value held, as the browser's widget
manager sends it, the next field once that run has ended; the click on 提交 is timed until the run's
提交成功 arrives). A person's browser runs on the person's own machine: on this 2-core machine each
Chromium renderer competes with the server it measures. The ``--browsers`` submitters are the browser
journey (sign-in form, fill page, the click on 提交 until 提交成功 shows), one Chromium each from its own
thread (Playwright's sync API is one per thread); their round trip is printed on its own line, and a row
they had to fill again (a choice the page lost to a late rerun, issue 17's outcome 8) is counted.

Prints the server's resident memory at 1, 10 and all sessions open (memory per viewer, beside the naive
alternative: a copy of the store's snapshot per viewer, its size measured in the same run), the server's
CPU with every session idle, and, while the submitters file: the submit round trip p50 / p95 / max
(target p95 ≤ 1 s), the server's CPU and the viewers' redraws, and the server's memory after (and once
quiet): it must come back near where it was, not grow with each change. The load average beside each
figure. Everything is closed in bounded time, even on a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _filler import ProtocolFiler  # noqa: E402
from _server import (  # noqa: E402
    ROOT,
    StreamViewers,
    chromium,
    cpu_seconds,
    load_note,
    open_by_address,
    open_by_link,
    prepare_data,
    quantiles,
    rss_mb,
    session_cookie,
    signed_in,
    start_server,
    wait_quiet,
    wait_settled,
)

BOARD = "进度看板"
DONE, REFUSED = "提交成功！记录编号", "提交未成功"
#: How long one step of a submitter (filling a row, a submit) may take before the bench gives up on it.
STEP_MS = 120_000


def snapshot_mb(data_dir: Path) -> float:
    """MB of one copy of every form's snapshot (pandas, deep): what each viewer would add to the server
    if the snapshot were copied per session instead of shared."""
    from lib.forms import load_catalog
    from lib.store.factory import open_store

    catalog = load_catalog(ROOT / "forms")
    with open_store("local", data_dir=data_dir, background=False) as store:
        return sum(store.snapshot(form.id).memory_usage(deep=True).sum() for form in catalog.forms()) / 2**20


def filed_rows(data_dir: Path) -> int:
    """附件1 rows in the store (read by a process of its own, as a second server would) that the submitters
    filed: a project name of theirs in the row, so each receipt counted is a row really written."""
    from lib.store.factory import open_store

    with open_store("local", data_dir=data_dir, background=False) as store:
        return sum(any(isinstance(v, str) and v.startswith(PROJECT) for v in r.values.values()) for r in store.records("att1"))


PROJECT = "压测项目"


def voucher(number: int, i: int) -> str:
    return f"SYQ-2019-4406-{7 * 10_000 + number * 100 + i:05d}"


class ProtocolSubmitter(threading.Thread):
    """A provider over Streamlit's protocol (``_filler.ProtocolFiler``): opens 在线填报 (附件1), waits for
    ``go``, then files ``submits`` rows, each field a rerun, timing each click on 提交 until 提交成功 arrives."""

    def __init__(self, url: str, cookie: str, number: int, submits: int, go: threading.Event, stop: threading.Event):
        super().__init__(daemon=True, name=f"protocol-submitter-{number}")
        self.stream = url.replace("http://", "ws://", 1) + "/_stcore/stream"
        self.cookie, self.number, self.submits, self.go, self.stop = cookie, number, submits, go, stop
        self.account = f"submitter {number} (protocol)"
        self.ready, self.finished = threading.Event(), threading.Event()
        self.times: list[float] = []
        self.refused: list[str] = []
        self.lost = 0
        self.error: str | None = None

    def run(self) -> None:
        try:
            asyncio.run(self._file())
        except Exception:  # noqa: BLE001 - reported by the main thread; the connection is closed by now
            self.error = traceback.format_exc(limit=4)
        finally:
            self.ready.set()
            self.finished.set()

    async def _file(self) -> None:
        from tests.browser.widgets import valid_att1

        filer = ProtocolFiler(self.stream, self.cookie, "fill", "form=att1", timeout=STEP_MS / 1000)
        try:
            await filer.open("服务商信息")
            self.ready.set()
            waited = time.monotonic()
            while not self.go.is_set() and time.monotonic() - waited < 3600:
                await asyncio.sleep(0.2)
            for i in range(self.submits):
                if self.stop.is_set():
                    return
                for _how, label, text in valid_att1(voucher(self.number, i), f"{PROJECT}{self.number}-{i}"):
                    await filer.set(label, text)
                answer, took = await filer.click("提交", shows=(DONE, REFUSED))
                if DONE.encode() not in answer:
                    said = re.findall(r"[\u4e00-\u9fff][^\x00-\x1f]{0,80}", answer.decode(errors="replace"))
                    self.refused.append(" / ".join(s for s in said if REFUSED in s or "：" in s)[:300] or REFUSED)
                    return
                self.times.append(took * 1000)
                await filer.click("新建下一条")
        finally:
            await filer.close()


class Submitter(threading.Thread):
    """A provider in its own Chromium: signs in, views the board until ``go``, then files ``submits``
    附件1 rows through 在线填报, timing each click on 提交 until 提交成功 (or 提交未成功) shows."""

    def __init__(self, url: str, account: str, number: int, submits: int, go: threading.Event, stop: threading.Event):
        super().__init__(daemon=True, name=f"submitter-{account}")
        self.url, self.account, self.number, self.submits, self.go, self.stop = url, account, number, submits, go, stop
        self.ready, self.finished = threading.Event(), threading.Event()
        self.times: list[float] = []
        self.refused: list[str] = []
        self.lost = 0  # rows whose filling timed out waiting for a field (a choice the page lost)
        self.error: str | None = None

    def run(self) -> None:
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        from tests.browser.widgets import fill_valid_att1

        try:
            with chromium() as browser, signed_in(browser, self.url, self.account, timeout_ms=STEP_MS) as page:
                open_by_address(page, f"{self.url}/board", BOARD, timeout_ms=STEP_MS)
                self.ready.set()
                if not self.go.wait(timeout=3600) or self.stop.is_set():
                    return
                open_by_link(page, "fill", "在线填报", timeout_ms=STEP_MS)
                for i in range(self.submits):
                    if self.stop.is_set():
                        return
                    page.get_by_role("heading", name="服务商信息").wait_for()
                    try:
                        fill_valid_att1(page, voucher=voucher(self.number, i),
                                        project=f"{PROJECT}{self.number}-{i}")
                    except PlaywrightTimeout:  # a choice lost to a late rerun (issue 17, outcome 8): on to the next row
                        self.lost += 1
                        open_by_address(page, f"{self.url}/fill", "在线填报", timeout_ms=STEP_MS)
                        continue
                    page.locator("[data-testid='stStatusWidget']").wait_for(state="hidden")
                    done = page.get_by_text(re.compile("提交成功！记录编号"))
                    problems = page.get_by_text("提交未成功")
                    start = time.perf_counter()
                    page.get_by_role("button", name="提交", exact=True).click()
                    done.or_(problems).first.wait_for(timeout=STEP_MS)
                    took = (time.perf_counter() - start) * 1000
                    if problems.count():
                        self.refused.append(" / ".join(page.locator("[data-testid='stAlert']").all_inner_texts())[:300])
                        break
                    self.times.append(took)
                    # the next row is typed only once the receipt is gone and that rerun has ended: typed into
                    # a page still on its way, the first fields were lost (an answer 提交未成功 named them missing)
                    page.get_by_role("button", name="新建下一条").click()
                    done.wait_for(state="detached", timeout=STEP_MS)
                    wait_settled(page, "在线填报", timeout_ms=STEP_MS)
        except Exception:  # noqa: BLE001 - reported by the main thread; the browser is closed by now
            self.error = traceback.format_exc(limit=4)
        finally:
            self.ready.set()
            self.finished.set()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=30, help="signed-in sessions in all")
    parser.add_argument("--rows", type=int, default=20_000, help="附件1 rows (附件3 a quarter as many)")
    parser.add_argument("--submitters", type=int, default=3,
                        help="of the sessions, providers who file rows over the protocol (no browser)")
    parser.add_argument("--browsers", type=int, default=1, help="of the sessions, providers who file rows in Chromium")
    parser.add_argument("--submits", type=int, default=5, help="rows each submitter files")
    parser.add_argument("--idle", type=float, default=20, help="seconds of every session idle on the board, measured")
    parser.add_argument("--quiet-within", type=float, default=60,
                        help="at most this long (s) waiting for the server to be quiet after the first session (the suite's run: less)")
    parser.add_argument("--settle", type=float, default=6, help="seconds waited at each count of sessions before its memory is "
                        "read (6: a tick of the board's 5-s clock in every session; the test suite's run of the bench, less)")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure is in a log as it is measured, even if the run is stopped
    browsers = min(args.browsers, args.sessions - 1)
    submitters = min(args.submitters, args.sessions - 1 - browsers)
    viewers = args.sessions - submitters - browsers
    milestones = sorted({m for m in (1, 10, args.sessions) if m <= args.sessions})

    with tempfile.TemporaryDirectory(prefix="sessions-") as tmp:
        data_dir = Path(tmp) / "data"
        start = time.perf_counter()
        people = prepare_data(data_dir, args.rows)
        copy_mb = snapshot_mb(data_dir)
        print(f"store of {args.rows:,} 附件1 rows with registers and accounts built in {time.perf_counter() - start:.0f} s; "
              f"one copy of its snapshot: {copy_mb:.1f} MB; {load_note()}")
        server = start_server(data_dir)
        pid = server.proc.pid
        stream = StreamViewers(server.url)
        go, stop = threading.Event(), threading.Event()
        threads: list[Submitter | ProtocolSubmitter] = []
        try:
            accounts = [people.province, *people.cities]
            rss: dict[int, float] = {}
            for n in range(args.sessions):
                started = time.perf_counter()
                if n < viewers:
                    stream.open(session_cookie(data_dir, accounts[n % len(accounts)]), "board", BOARD)
                else:
                    number, account = n - viewers, people.providers[n - viewers]
                    thread = (ProtocolSubmitter(server.url, session_cookie(data_dir, account), number, args.submits, go, stop)
                              if number < submitters else Submitter(server.url, account, number, args.submits, go, stop))
                    threads.append(thread)
                    thread.start()
                    thread.ready.wait(timeout=STEP_MS / 1000 * 3)
                    if thread.error:
                        raise RuntimeError(f"{thread.account} could not open its page:\n{thread.error}")
                took = time.perf_counter() - started
                if n == 0:  # the first session opened the store: the baseline is taken once that work is done
                    wait_quiet(pid, within=args.quiet_within)
                if n + 1 in milestones:
                    time.sleep(args.settle)  # by default at least one tick of the board's 5-s clock in every session
                    rss[n + 1] = rss_mb(pid)
                    print(f"{n + 1:3d} sessions on the board: server RSS {rss[n + 1]:.0f} MB; "
                          f"the last one's board drawn in {took:.1f} s; {load_note()}")
            low, high = milestones[0], milestones[-1]
            if high > low:
                per = (rss[high] - rss[low]) / (high - low)
                ratio = copy_mb / per if per > 0 else float("inf")
                print(f"memory per session, {low}→{high} sessions: {per:.1f} MB "
                      f"(naive, a snapshot copy per viewer: {copy_mb:.1f} MB; ratio {ratio:.1f}×)")
            if args.idle:
                before = cpu_seconds(pid)
                time.sleep(args.idle)
                idle = (cpu_seconds(pid) - before) * 60 / args.idle
                print(f"{args.sessions} sessions idle on the board for {args.idle:.0f} s: server {idle:.1f} CPU-s/min, "
                      f"{idle / args.sessions:.2f} per session; {load_note()}")

            quiet_rss = rss_mb(pid)
            before, runs, started = cpu_seconds(pid), stream.runs(), time.perf_counter()
            go.set()
            deadline = time.monotonic() + args.submits * STEP_MS / 1000 * 2 + 60
            for thread in threads:
                thread.finished.wait(timeout=max(1, deadline - time.monotonic()))
            took = time.perf_counter() - started
            times = [t for thread in threads for t in thread.times]
            cpu = cpu_seconds(pid) - before
            print(f"\n{submitters} submitters over the protocol and {browsers} in Chromium filing {args.submits} 附件1 rows "
                  f"each beside {viewers} board viewers, {took:.0f} s: server {cpu:.0f} CPU-s ({cpu / max(1, len(times)):.1f} "
                  f"per row filed), {stream.runs() - runs} viewer runs (clock ticks and redraws); "
                  f"RSS {quiet_rss:.0f} → {rss_mb(pid):.0f} MB; {load_note()}")
            for what, group in (("over the protocol (提交 → 提交成功 received; the server's answer)", ProtocolSubmitter),
                                ("in Chromium (提交 → 提交成功 shown; the page drawn too)", Submitter)):
                these = [t for thread in threads if isinstance(thread, group) for t in thread.times]
                if these:
                    p50, p95, most = quantiles(these)
                    print(f"submit round trip {what}, {len(these)} rows: p50 {p50:.0f} ms, p95 {p95:.0f} ms, "
                          f"max {most:.0f} ms (target p95 ≤ 1000 ms)")
            filed = filed_rows(data_dir)
            print(f"rows the submitters filed, in the store: {filed} ({len(times)} receipts)")
            waited = wait_quiet(pid, within=min(30, args.quiet_within))
            print(f"server RSS once quiet again ({waited:.0f} s later): {rss_mb(pid):.0f} MB "
                  f"(before the submits: {quiet_rss:.0f} MB)")
            for thread in threads:
                if thread.refused:
                    print(f"{thread.account}: refused: {thread.refused[0]}")
                if thread.lost:
                    print(f"{thread.account}: {thread.lost} rows filled again (a field did not appear within {STEP_MS // 1000} s)")
                if thread.error:
                    print(f"{thread.account}: failed:\n{thread.error}")
                if not thread.finished.is_set():
                    print(f"{thread.account}: still running at the deadline (its browser is closed now)")
            for error in stream.errors():
                print(f"a viewer failed: {error}")
            if not times or filed != len(times):
                return 1
        except BaseException:
            print(f"server log ({server.log}):\n" + server.log.read_text(errors="replace")[-3000:], file=sys.stderr)
            raise
        finally:
            stop.set()
            go.set()
            stream.close()
            for thread in threads:
                thread.join(timeout=60)  # each closes its own browser in bounded time (closed_within)
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
